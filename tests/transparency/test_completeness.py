"""A bundle proves that nothing of its reports was left out, and hashes the raw lines.

Issue 9: deleting a report's Disputed and Amended events (and their proofs) from a
bundle still printed VERIFIED, and so did an empty bundle. ``verify`` re-canonicalised
a line with extra whitespace and accepted it while the README's by-hand method,
which hashes the raw line, would fail.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
import rfc8785

from courtwatch.transparency import verify as verify_module
from courtwatch.transparency.bundle import FORMAT, build_bundle
from courtwatch.transparency.checkpoint import SigningKey, generate_signing_key
from courtwatch.transparency.heads import build_heads, heads_extension, parse_heads_extension
from courtwatch.transparency.verify import main, verify_bundle
from tests.transparency.test_bundle import LOG_SIZE, Log, members, report_id, rezip, row

# Report 9 holds leaves 36..39, versions 1..4: think Submitted, Corroborated,
# Disputed, Amended. The adversary wants the last two gone.
REPORT = 9
LEAVES = [36, 37, 38, 39]


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key("courtwatch.example.org/log")


@pytest.fixture(scope="module")
def log(key: SigningKey) -> Log:
    return Log(key, [row(i) for i in range(LOG_SIZE)])


@pytest.fixture(scope="module")
def bundle(log: Log) -> bytes:
    return log.bundle(LEAVES, older=None)


def without_leaves(bundle: bytes, drop: set[int]) -> dict[str, bytes]:
    files = members(bundle)
    lines = files["events.jsonl"].splitlines(keepends=True)
    files["events.jsonl"] = b"".join(
        line for line in lines if json.loads(line)["leaf_index"] not in drop
    )
    proofs = json.loads(files["proofs.json"])
    proofs["leaves"] = [p for p in proofs["leaves"] if p["leaf_index"] not in drop]
    files["proofs.json"] = json.dumps(proofs).encode()
    return files


def test_an_untouched_bundle_says_which_versions_it_covered(
    bundle: bytes, key: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = verify_bundle(bundle, expected_vkey=key.vkey)
    assert report.ok, report.problems
    assert report.covered == {str(report_id(36)): 4}
    path = tmp_path / "b.zip"
    path.write_bytes(bundle)
    assert main([str(path), "--key", key.vkey]) == 0
    out = capsys.readouterr().out
    assert (
        f"Covered:     report {report_id(36)} versions 1-4 (every version up to checkpoint 40)"
        in out
    )


def test_removing_the_last_events_and_their_proofs_fails(bundle: bytes, key: SigningKey) -> None:
    files = without_leaves(bundle, {38, 39})
    report = verify_bundle(rezip(files), expected_vkey=key.vkey)
    assert report.problems == [
        f"report {report_id(36)}: version(s) 3-4 of 1-4 are missing from events.jsonl: "
        "events were removed from the bundle"
    ]
    assert "VERIFIED" not in report.render()


def test_removing_the_last_events_and_lowering_the_declared_version_fails(
    bundle: bytes, key: SigningKey, log: Log
) -> None:
    # The adversary also edits the unsigned claim, and even swaps in the proof the
    # log would give for the entry at that position: the signed heads say v4.
    files = without_leaves(bundle, {38, 39})
    proofs = json.loads(files["proofs.json"])
    proofs["reports"][0]["current_version"] = 2
    files["proofs.json"] = json.dumps(proofs).encode()
    problem = verify_bundle(rezip(files), expected_vkey=key.vkey).problems
    assert len(problem) == 1
    assert problem[0].startswith(
        f"report {report_id(36)}: the claim that v2 was its current version at checkpoint 40 "
        "does not verify against the signed checkpoint"
    )


def test_dropping_the_report_from_the_heads_list_fails(bundle: bytes, key: SigningKey) -> None:
    files = without_leaves(bundle, {38, 39})
    proofs = json.loads(files["proofs.json"])
    proofs["reports"] = []
    files["proofs.json"] = json.dumps(proofs).encode()
    assert verify_bundle(rezip(files), expected_vkey=key.vkey).problems == [
        f"report {report_id(36)}: proofs.json does not say which version was current, "
        "so events of it may have been left out"
    ]


def test_removing_a_middle_event_fails(bundle: bytes, key: SigningKey) -> None:
    files = without_leaves(bundle, {37})
    assert verify_bundle(rezip(files), expected_vkey=key.vkey).problems == [
        f"report {report_id(36)}: version(s) 2 of 1-4 are missing from events.jsonl: "
        "events were removed from the bundle"
    ]


def test_a_duplicated_event_fails(bundle: bytes, key: SigningKey) -> None:
    files = members(bundle)
    first = files["events.jsonl"].splitlines(keepends=True)[0]
    files["events.jsonl"] += first
    problems = verify_bundle(rezip(files), expected_vkey=key.vkey).problems
    assert problems == [
        f"event at leaf 36 (report {report_id(36)} v1): appears more than once in events.jsonl"
    ]


def test_an_empty_bundle_fails(
    bundle: bytes, key: SigningKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = without_leaves(bundle, set(LEAVES))
    proofs = json.loads(files["proofs.json"])
    proofs["reports"] = []
    files["proofs.json"] = json.dumps(proofs).encode()
    path = tmp_path / "empty.zip"
    path.write_bytes(rezip(files))
    assert main([str(path), "--key", key.vkey]) == 1
    out = capsys.readouterr().out
    assert "the bundle holds no verified records: it proves nothing about any report" in out
    assert "all 0 record(s)" not in out


def test_an_old_v1_bundle_cannot_pass_as_complete(bundle: bytes, key: SigningKey) -> None:
    files = without_leaves(bundle, {38, 39})
    proofs = json.loads(files["proofs.json"])
    proofs["format"] = "courtwatch-evidence-bundle-v1"
    del proofs["reports"]
    files["proofs.json"] = json.dumps(proofs).encode()
    problems = verify_bundle(rezip(files), expected_vkey=key.vkey).problems
    assert problems == [
        "this is an old (v1) bundle: it cannot prove that no event was left out. "
        "Ask for a new export"
    ]


def test_a_checkpoint_without_heads_cannot_prove_completeness(log: Log, key: SigningKey) -> None:
    from courtwatch.transparency.checkpoint import sign_checkpoint

    files = members(log.bundle(LEAVES, older=None))
    files["checkpoint.txt"] = sign_checkpoint(
        "courtwatch.example.org/log", LOG_SIZE, log.tree.root(), key
    ).encode()
    problems = verify_bundle(rezip(files), expected_vkey=key.vkey).problems
    assert problems == [
        "checkpoint.txt does not list the reports' current versions, so the bundle "
        "cannot prove that no event was left out"
    ]


# --- the hashed bytes are the raw line's ------------------------------------------


def by_hand(line: bytes) -> str:
    """The README's recipe, verbatim."""
    record = line[len(b'{"event":') : line.rindex(b',"leaf_index":')]
    return hashlib.sha256(b"\x00" + record).hexdigest()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"agents":3', b'"agents": 3'),  # extra whitespace
        (b'"agents":3', b'"agents":3.0'),  # another spelling of the same number
        (b"pasillo", b"\\u0070asillo"),  # an escape RFC 8785 would not write
    ],
)
def test_a_line_that_is_not_exactly_canonical_fails_like_the_readme_method(
    bundle: bytes, key: SigningKey, old: bytes, new: bytes
) -> None:
    files = members(bundle)
    line = files["events.jsonl"].splitlines(keepends=True)[0]
    altered = line.replace(old, new, 1)
    assert altered != line
    files["events.jsonl"] = files["events.jsonl"].replace(line, altered, 1)
    leaf = json.loads(files["proofs.json"])["leaves"][0]["leaf_hash"]
    assert by_hand(altered.rstrip(b"\n")) != leaf  # the expert's check fails...
    problems = verify_bundle(rezip(files), expected_vkey=key.vkey).problems
    assert problems[0].startswith("events.jsonl line 1 is malformed: it is not exactly RFC 8785")
    assert not verify_bundle(rezip(files), expected_vkey=key.vkey).ok  # ...and so does ours


def test_the_readme_method_and_the_verifier_agree_on_every_line(bundle: bytes) -> None:
    files = members(bundle)
    leaves = {p["leaf_index"]: p["leaf_hash"] for p in json.loads(files["proofs.json"])["leaves"]}
    for line in files["events.jsonl"].splitlines():
        assert rfc8785.dumps(json.loads(line)) == line
        assert by_hand(line) == leaves[json.loads(line)["leaf_index"]]


def test_carriage_returns_and_a_cut_last_line_are_refused(bundle: bytes, key: SigningKey) -> None:
    files = members(bundle)
    crlf = dict(files, **{"events.jsonl": files["events.jsonl"].replace(b"\n", b"\r\n")})
    assert not verify_bundle(rezip(crlf), expected_vkey=key.vkey).ok
    cut = dict(files, **{"events.jsonl": files["events.jsonl"][:-1]})
    problems = verify_bundle(rezip(cut), expected_vkey=key.vkey).problems
    assert problems == ["events.jsonl does not end with a newline: it was cut short"]


# --- the heads extension itself ---------------------------------------------------


def test_the_heads_list_has_one_entry_per_record_and_a_strict_line() -> None:
    heads = build_heads([(report_id(0), 4), (report_id(4), 2)])
    assert parse_heads_extension([heads.extension()]) == (2, heads.root())
    with pytest.raises(ValueError, match="listed twice"):
        build_heads([(report_id(0), 4), (str(report_id(0)).upper(), 3)])
    line = heads_extension(2, heads.root())
    for bad in (line + " ", line.replace(" 2 ", " 02 "), line.replace(" 2 ", " ² ")):
        with pytest.raises(ValueError, match="malformed"):
            parse_heads_extension([bad])
    with pytest.raises(ValueError, match="2 courtwatch-report-heads lines"):
        parse_heads_extension([line, line])


# --- hostile zips -----------------------------------------------------------------


def test_corrupted_and_truncated_zips_are_reported_not_raised(bundle: bytes) -> None:
    for damaged in (
        bundle[: len(bundle) // 2],  # truncated download
        bundle[:-30],  # end of central directory cut
        b"",
        bundle.replace(b"events.jsonl", b"events.jsonX", 1),  # local header renamed
    ):
        report = verify_bundle(damaged)
        assert not report.ok and report.problems, damaged[:20]
    # A flipped byte inside a compressed member: zlib or CRC error, reported.
    start = bundle.index(b"proofs.json") + 40
    flipped = bundle[:start] + bytes([bundle[start] ^ 0xFF]) + bundle[start + 1 :]
    assert not verify_bundle(flipped).ok


def test_a_zip_bomb_is_bounded(bundle: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "MAX_FILE_BYTES", 1024 * 1024)
    files = members(bundle)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            if name != "events.jsonl":
                zf.writestr(name, data)
        zf.writestr("events.jsonl", b"\n" * (64 * 1024 * 1024))  # 64 MB -> ~64 KB
    data = buffer.getvalue()
    assert len(data) < 200_000
    assert verify_bundle(data).problems == ["events.jsonl is larger than 1048576 bytes"]
    # A lying declared size does not help: the read itself is bounded.
    lying = data.replace((64 * 1024 * 1024).to_bytes(4, "little"), (10).to_bytes(4, "little"))
    assert not verify_bundle(lying).ok


def test_huge_numbers_in_proofs_are_reported(bundle: bytes, key: SigningKey) -> None:
    files = members(bundle)
    text = files["proofs.json"].decode()
    doc = json.loads(text)
    assert doc["format"] == FORMAT
    huge = text.replace('"current_version": 4', '"current_version": ' + "9" * 5000, 1)
    assert huge != text
    report = verify_bundle(rezip(dict(files, **{"proofs.json": huge.encode()})), key.vkey)
    assert report.problems and report.problems[0].startswith("proofs.json is malformed")
    doc["reports"][0]["current_version"] = 10**18
    files["proofs.json"] = json.dumps(doc).encode()
    assert not verify_bundle(rezip(files), key.vkey).ok


def test_build_bundle_still_builds_an_empty_bundle_that_then_fails(
    log: Log, key: SigningKey
) -> None:
    data = build_bundle([], [], log.checkpoint(), key.vkey)
    assert not verify_bundle(data, key.vkey).ok


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13, 64, 100])
def test_the_heads_tree_is_the_rfc_9162_tree(count: int) -> None:
    from uuid import UUID

    from courtwatch.transparency.heads import entry_bytes, verify_head
    from courtwatch.transparency.merkle import MemoryTree

    latest = [(UUID(int=i * 7919 + 1), i % 5 + 1) for i in range(count)]
    heads = build_heads(latest)
    reference = MemoryTree()
    for rid, version in heads.entries:
        reference.append(entry_bytes(rid, version))
    assert heads.root() == reference.root()
    for rid, _ in heads.entries:
        position, version, proof = heads.proof(rid)
        assert proof == reference.inclusion_proof(position)
        verify_head(rid, version, position, proof, heads.count, heads.root())
