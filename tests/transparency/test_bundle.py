"""Evidence bundles, from the lawyer's side.

A lawyer receives a zip of records, cites it, and later someone checks it with
``courtwatch verify`` on a laptop with no database and no network. An untouched
bundle verifies; a single changed byte anywhere is reported in words that say
which record or file failed and what that means.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from courtwatch.transparency.bundle import (
    README,
    BundleError,
    BundleEvent,
    ConsistencyEntry,
    LeafProof,
    ReportHead,
    build_bundle,
    write_bundle,
)
from courtwatch.transparency.canonical import canonical_event, canonical_json
from courtwatch.transparency.checkpoint import (
    SigningKey,
    generate_signing_key,
    key_fingerprint,
    sign_checkpoint,
)
from courtwatch.transparency.heads import Heads, build_heads
from courtwatch.transparency.merkle import MemoryTree, leaf_hash
from courtwatch.transparency.verify import main, verify_bundle

ORIGIN = "courtwatch.example.org/log"
LOG_SIZE = 40
REPORTS = [0, 4, 9]  # the reports a lawyer asked for: four events each
CITED = [leaf for r in REPORTS for leaf in range(4 * r, 4 * r + 4)]
OLD_SIZE = 20  # a checkpoint cited in an earlier filing


def report_id(i: int) -> UUID:
    return UUID(int=0x3F2B8C1E7D4A4E2B9F106A5C2D8E0000 + i // 4)


def row(i: int) -> tuple[UUID, int, str, bytes]:
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": f"2026-11-22T20:{i:02d}:00+00:00"},
        "agents": 3,
        "location": "pasillo del tercer piso",
    }
    return report_id(i), i % 4 + 1, "courtwatch.domain:Report.Event", json.dumps(state).encode()


class Log:
    """Just enough of the operator's side to issue bundles."""

    def __init__(self, key: SigningKey, rows: list[tuple[UUID, int, str, bytes]]) -> None:
        self.key = key
        self.events = [canonical_event(*r) for r in rows]
        self.tree = MemoryTree()
        for e in self.events:
            self.tree.append(canonical_json(e))

    def heads(self, size: int | None = None) -> Heads:
        latest: dict[str, int] = {}
        for e in self.events[: self.tree.size if size is None else size]:
            latest[e["id"]] = max(latest.get(e["id"], 0), e["version"])
        return build_heads(latest.items())

    def checkpoint(self, size: int | None = None, key: SigningKey | None = None) -> str:
        size = self.tree.size if size is None else size
        extension = self.heads(size).extension()
        return sign_checkpoint(ORIGIN, size, self.tree.root(size), key or self.key, (extension,))

    def report_heads(self, leaves: list[int]) -> list[ReportHead]:
        heads = self.heads()
        ids = sorted({self.events[i]["id"] for i in leaves})
        return [ReportHead(rid, *heads.proof(rid)[1::-1], heads.proof(rid)[2]) for rid in ids]

    def bundle(self, leaves: list[int], *, older: int | None = OLD_SIZE) -> bytes:
        consistency = []
        if older is not None:
            proof = self.tree.consistency_proof(older)
            consistency.append(ConsistencyEntry(self.checkpoint(older), proof))
        return build_bundle(
            [BundleEvent(i, self.events[i]) for i in leaves],
            [LeafProof(i, self.tree.get_node(0, i), self.tree.inclusion_proof(i)) for i in leaves],
            self.checkpoint(),
            self.key.vkey,
            consistency,
            self.report_heads(leaves),
        )


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key(ORIGIN)


@pytest.fixture(scope="module")
def log(key: SigningKey) -> Log:
    return Log(key, [row(i) for i in range(LOG_SIZE)])


@pytest.fixture(scope="module")
def bundle(log: Log) -> bytes:
    return log.bundle(CITED)


def members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def edited(bundle: bytes, name: str, old: bytes, new: bytes) -> bytes:
    files = members(bundle)
    assert files[name].count(old) >= 1, f"{old!r} not in {name}"
    files[name] = files[name].replace(old, new, 1)
    return rezip(files)


def only_problem(report: Any) -> str:
    assert len(report.problems) == 1, report.problems
    return str(report.problems[0])


# --- the untouched bundle ------------------------------------------------------


def test_an_untouched_bundle_verifies(bundle: bytes, key: SigningKey) -> None:
    report = verify_bundle(bundle, expected_vkey=key.vkey)
    assert report.problems == []
    assert report.ok and report.events_verified == len(CITED)
    assert report.checkpoint is not None and report.checkpoint.size == LOG_SIZE
    assert report.key_matches_expected is True and report.checkpoint_verified


def test_the_bundle_has_the_documented_layout(bundle: bytes, key: SigningKey) -> None:
    files = members(bundle)
    assert sorted(files) == [
        "README.txt",
        "checkpoint.txt",
        "events.jsonl",
        "proofs.json",
        "public-key.txt",
    ]
    lines = files["events.jsonl"].decode().splitlines()
    assert [json.loads(line)["leaf_index"] for line in lines] == CITED
    proofs = json.loads(files["proofs.json"])
    assert proofs["tree_size"] == LOG_SIZE
    assert [p["leaf_index"] for p in proofs["leaves"]] == CITED
    assert files["public-key.txt"].decode().strip() == key.vkey
    assert b"courtwatch verify" in files["README.txt"]


def test_the_same_evidence_gives_the_same_zip_byte_for_byte(log: Log) -> None:
    # Ed25519 signatures are deterministic, and zip timestamps are fixed.
    assert log.bundle(CITED) == log.bundle(CITED)


def test_the_readme_recipe_recomputes_a_leaf_hash_by_hand(bundle: bytes) -> None:
    files = members(bundle)
    line = files["events.jsonl"].splitlines()[0]
    record = line[len(b'{"event":') : line.rindex(b',"leaf_index":')]
    by_hand = hashlib.sha256(b"\x00" + record).hexdigest()
    assert by_hand == json.loads(files["proofs.json"])["leaves"][0]["leaf_hash"]
    assert "SHA-256(0x00 || record bytes)" in README


def test_the_readme_inclusion_script_works_as_printed(bundle: bytes, log: Log) -> None:
    # Run the README's own snippet: an expert will copy it verbatim.
    snippet = README.split("standard library:\n\n", 1)[1]
    scope: dict[str, Any] = {}
    exec(textwrap.dedent(snippet).split("\nline = open")[0], scope)
    proofs = json.loads(members(bundle)["proofs.json"])
    for leaf in proofs["leaves"]:
        root = scope["root_from_proof"](
            bytes.fromhex(leaf["leaf_hash"]),
            leaf["leaf_index"],
            proofs["tree_size"],
            [bytes.fromhex(h) for h in leaf["inclusion_proof"]],
        )
        assert root == log.tree.root()


# --- a single changed byte -----------------------------------------------------


def test_editing_one_byte_of_an_event_names_the_record(bundle: bytes, key: SigningKey) -> None:
    tampered = edited(bundle, "events.jsonl", b'"agents":3', b'"agents":4')
    problem = only_problem(verify_bundle(tampered, expected_vkey=key.vkey))
    assert problem == (
        f"event at leaf 0 (report {report_id(0)} v1): "
        "content does not match its leaf hash — the event was edited"
    )


def test_editing_an_event_and_its_leaf_hash_breaks_the_proof(
    bundle: bytes, key: SigningKey, log: Log
) -> None:
    files = members(bundle)
    forged = dict(log.events[17]) | {"payload": {"agents": 0}}
    files["events.jsonl"] = files["events.jsonl"].replace(
        canonical_json(log.events[17]), canonical_json(forged)
    )
    proofs = json.loads(files["proofs.json"])
    # (leaf 17's hash is also in leaf 16's proof, as its sibling: change only its own)
    [entry] = [leaf for leaf in proofs["leaves"] if leaf["leaf_index"] == 17]
    entry["leaf_hash"] = leaf_hash(canonical_json(forged)).hex()
    files["proofs.json"] = json.dumps(proofs).encode()
    problem = only_problem(verify_bundle(rezip(files), expected_vkey=key.vkey))
    assert problem == "inclusion proof for leaf 17 does not lead to the signed root"


def test_editing_one_byte_of_a_proof_is_caught(bundle: bytes, key: SigningKey, log: Log) -> None:
    files = members(bundle)
    proofs = json.loads(files["proofs.json"])
    [entry] = [leaf for leaf in proofs["leaves"] if leaf["leaf_index"] == 17]
    proof_hash = entry["inclusion_proof"][2]
    entry["inclusion_proof"][2] = proof_hash[:-1] + ("0" if proof_hash[-1] != "0" else "1")
    files["proofs.json"] = json.dumps(proofs).encode()
    tampered = rezip(files)
    problem = only_problem(verify_bundle(tampered, expected_vkey=key.vkey))
    assert problem == "inclusion proof for leaf 17 does not lead to the signed root"


def test_editing_one_byte_of_the_checkpoint_is_caught(bundle: bytes, key: SigningKey) -> None:
    tampered = edited(bundle, "checkpoint.txt", f"\n{LOG_SIZE}\n".encode(), b"\n41\n")
    report = verify_bundle(tampered, expected_vkey=key.vkey)
    assert report.problems[0] == (
        f"checkpoint signature does not verify with key {key.vkey}: "
        "the checkpoint was altered or signed by another key"
    )
    # The proofs were made for 40 records, so they no longer fit either.
    assert not report.ok and not report.checkpoint_verified
    assert "its signature is NOT valid" in report.render()


def test_a_swapped_key_is_caught_when_the_published_key_is_given(
    bundle: bytes, key: SigningKey, log: Log
) -> None:
    # The attacker re-signs the checkpoint and ships their own key in the bundle.
    attacker = generate_signing_key(ORIGIN)
    files = members(bundle)
    files["public-key.txt"] = (attacker.vkey + "\n").encode()
    files["checkpoint.txt"] = log.checkpoint(key=attacker).encode()
    files["proofs.json"] = json.dumps(
        json.loads(files["proofs.json"]) | {"consistency": []}
    ).encode()
    tampered = rezip(files)

    pinned = verify_bundle(tampered, expected_vkey=key.vkey)
    assert pinned.key_matches_expected is False
    assert pinned.problems[0] == (
        f"the bundle's public key ({attacker.vkey}) is not the expected key ({key.vkey}): "
        "the bundle may have been re-signed by someone else"
    )
    assert any("is not signed by key" in p for p in pinned.problems)

    # Without the published key the bundle is only self-consistent, so the
    # report shows the fingerprint to compare and says so.
    unpinned = verify_bundle(tampered)
    assert unpinned.ok and unpinned.key_matches_expected is None
    assert unpinned.key is not None
    assert unpinned.key.fingerprint() != key_fingerprint(key.public_key)
    assert "Compare its fingerprint" in unpinned.notes[0]
    assert unpinned.key.fingerprint() in unpinned.render()


def test_a_swapped_key_without_a_new_signature_is_caught(bundle: bytes) -> None:
    attacker = generate_signing_key(ORIGIN)
    files = members(bundle)
    files["public-key.txt"] = (attacker.vkey + "\n").encode()
    problems = verify_bundle(rezip(files)).problems
    # Both the bundled checkpoint and the older one it extends are refused.
    assert problems[0].startswith(f"checkpoint is not signed by key {attacker.vkey}")
    assert problems[1].startswith("older checkpoint #1: checkpoint is not signed by key")
    assert len(problems) == 2


# --- history and bundle structure ----------------------------------------------


def test_an_older_cited_checkpoint_is_proven_to_be_a_prefix(bundle: bytes) -> None:
    proofs = json.loads(members(bundle)["proofs.json"])
    assert len(proofs["consistency"]) == 1
    assert f"\n{OLD_SIZE}\n" in proofs["consistency"][0]["old_checkpoint"]


def test_a_rewritten_history_fails_against_the_older_checkpoint(key: SigningKey, log: Log) -> None:
    # The operator edits record 5 (cited in an earlier filing at checkpoint 20)
    # and rebuilds the log. Every new proof is self-consistent, but it cannot
    # extend the checkpoint the court already saw.
    rows = [row(i) for i in range(LOG_SIZE)]
    uid, version, topic, _ = rows[5]
    rows[5] = (uid, version, topic, b'{"agents":0}')
    rewritten = Log(key, rows)
    data = rewritten.bundle(CITED, older=None)
    files = members(data)
    proofs = json.loads(files["proofs.json"])
    proofs["consistency"] = [
        {
            "old_checkpoint": log.checkpoint(OLD_SIZE),
            "proof": [h.hex() for h in rewritten.tree.consistency_proof(OLD_SIZE)],
        }
    ]
    files["proofs.json"] = json.dumps(proofs).encode()
    problem = only_problem(verify_bundle(rezip(files), expected_vkey=key.vkey))
    assert problem.startswith(f"older checkpoint #1 ({OLD_SIZE} records) is not a prefix")


def test_removing_a_record_but_not_its_proof_is_reported(bundle: bytes) -> None:
    files = members(bundle)
    files["events.jsonl"] = b"".join(files["events.jsonl"].splitlines(keepends=True)[1:])
    assert verify_bundle(rezip(files)).problems == [
        "proofs.json has a proof for leaf 0 but events.jsonl has no such event",
        f"report {report_id(0)}: version(s) 1 of 1-4 are missing from events.jsonl: "
        "events were removed from the bundle",
    ]


def test_two_files_with_the_same_name_are_refused(bundle: bytes) -> None:
    # Different unzip tools would show different copies to different readers.
    buffer = io.BytesIO(bundle)
    with zipfile.ZipFile(buffer, "a") as zf, pytest.warns(UserWarning, match="Duplicate"):
        zf.writestr("events.jsonl", b"")
    problem = only_problem(verify_bundle(buffer.getvalue()))
    assert "several files named events.jsonl" in problem


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "cannot read the bundle as a zip file"),
        (rezip({"events.jsonl": b""}), "missing proofs.json, checkpoint.txt, public-key.txt"),
    ],
)
def test_something_that_is_not_a_bundle_is_reported(data: bytes, message: str) -> None:
    assert message in only_problem(verify_bundle(data))


def test_a_record_line_with_duplicate_members_is_refused(bundle: bytes, log: Log) -> None:
    event_json = canonical_json(log.events[3])
    doubled = event_json[:-1] + b',"version":99}'
    tampered = edited(bundle, "events.jsonl", event_json, doubled)
    assert verify_bundle(tampered).problems == [
        "events.jsonl line 4 is malformed: duplicated member name(s) ['version']",
        "proofs.json has a proof for leaf 3 but events.jsonl has no such event",
        f"report {report_id(3)}: version(s) 4 of 1-4 are missing from events.jsonl: "
        "events were removed from the bundle",
    ]


# --- writing -------------------------------------------------------------------


def test_write_bundle_writes_a_bundle_that_verifies(
    tmp_path: Path, log: Log, key: SigningKey
) -> None:
    path = tmp_path / "evidence.zip"
    write_bundle(
        path,
        [BundleEvent(i, log.events[i]) for i in CITED],
        [LeafProof(i, log.tree.get_node(0, i), log.tree.inclusion_proof(i)) for i in CITED],
        log.checkpoint(),
        key.vkey,
        heads=log.report_heads(CITED),
    )
    assert verify_bundle(path, expected_vkey=key.vkey).ok


def test_write_bundle_refuses_evidence_that_would_look_tampered(
    tmp_path: Path, log: Log, key: SigningKey
) -> None:
    path = tmp_path / "evidence.zip"
    wrong_proof = log.tree.inclusion_proof(4)  # the proof of a different leaf
    with pytest.raises(BundleError, match="inclusion proof for leaf 3"):
        write_bundle(
            path,
            [BundleEvent(3, log.events[3])],
            [LeafProof(3, log.tree.get_node(0, 3), wrong_proof)],
            log.checkpoint(),
            key.vkey,
        )
    assert list(tmp_path.iterdir()) == []


# --- the command -----------------------------------------------------------------


def test_the_command_exits_zero_and_prints_the_fingerprint(
    tmp_path: Path, bundle: bytes, key: SigningKey, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "evidence.zip"
    path.write_bytes(bundle)
    assert main([str(path), "--key", key.vkey]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED: all 12 record(s)" in out
    assert key.vkey in out
    assert key_fingerprint(key.public_key) in out


def test_the_command_exits_one_and_lists_problems(
    tmp_path: Path, bundle: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "evidence.zip"
    path.write_bytes(edited(bundle, "events.jsonl", b'"agents":3', b'"agents":4'))
    assert main([str(path)]) == 1
    assert "the event was edited" in capsys.readouterr().out


def test_the_verifier_runs_without_any_server_side_library(tmp_path: Path, bundle: bytes) -> None:
    # A lawyer's laptop has no database drivers or web framework: make importing
    # any of them fail, verify a bundle, then list every third-party module loaded.
    path = tmp_path / "evidence.zip"
    path.write_bytes(bundle)
    script = textwrap.dedent(
        f"""
        import sys
        for name in ("psycopg", "psycopg_pool", "asyncpg", "eventsourcing", "starlette",
                     "uvicorn", "pydantic", "jinja2", "structlog", "sqlalchemy"):
            sys.modules[name] = None  # makes `import name` raise ImportError
        before = set(sys.modules)
        from courtwatch.transparency.verify import main
        status = main([{str(path)!r}])
        allowed = set(sys.stdlib_module_names) | {{
            "courtwatch", "cryptography", "rfc8785",
            "_cffi_backend", "_openssl",  # cryptography's own native bindings
        }}
        loaded = {{m.split(".")[0] for m in set(sys.modules) - before}}
        print("THIRD-PARTY:", sorted(loaded - allowed))
        sys.exit(status)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "THIRD-PARTY: []" in result.stdout, result.stdout


def test_reading_aids_are_carried_as_given_and_nothing_else_is_accepted(log: Log) -> None:
    """The pure writer takes record.html/verify.html as bytes from whoever renders them."""
    aids = {"record.html": b"<p>record</p>", "verify.html": b"<p>verifier</p>"}
    bundle = build_bundle(
        [BundleEvent(i, log.events[i]) for i in CITED],
        [LeafProof(i, log.tree.get_node(0, i), log.tree.inclusion_proof(i)) for i in CITED],
        log.checkpoint(),
        log.key.vkey,
        heads=log.report_heads(CITED),
        readable=aids,
    )
    files = members(bundle)
    assert files["record.html"] == aids["record.html"]
    assert files["verify.html"] == aids["verify.html"]
    # The reader's files come first in the zip, after the README.
    assert list(files)[:3] == ["README.txt", "record.html", "verify.html"]
    assert verify_bundle(bundle, expected_vkey=log.key.vkey).ok
    with pytest.raises(ValueError, match=r"events\.jsonl"):
        build_bundle([], [], log.checkpoint(), log.key.vkey, readable={"events.jsonl": b""})


def test_the_readme_names_the_log_key_and_fingerprint_before_the_proof_steps(
    bundle: bytes, key: SigningKey
) -> None:
    readme = members(bundle)["README.txt"].decode()
    assert f"Log (origin):     {ORIGIN}\n" in readme
    assert f"Key fingerprint:  {key_fingerprint(key.public_key)}\n" in readme
    assert readme.index("Key fingerprint") < readme.index("How to verify by hand")
