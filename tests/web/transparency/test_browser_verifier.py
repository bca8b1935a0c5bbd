"""The browser verifier and `courtwatch verify` give one verdict on one table of bundles.

verify.html is opened from the unzipped bundle as a file:// page, offline, in
Chromium; the same tampered bundles go through verify_bundle. Every case must
get the same verdict and the same sentences from both, and name its failure.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from courtwatch.transparency.bundle import (
    BundleEvent,
    ConsistencyEntry,
    LeafProof,
    build_bundle,
)
from courtwatch.transparency.checkpoint import (
    CheckpointError,
    generate_signing_key,
    sign_checkpoint,
    split_note,
)
from courtwatch.transparency.cosignature import (
    add_cosignature_lines,
    cosign,
    generate_cosigning_key,
)
from courtwatch.transparency.refresh import refresh_document
from courtwatch.transparency.verify import verify_bundle
from tests.transparency.test_bundle import CITED, OLD_SIZE, ORIGIN, Log, row
from web.transparency.verifier import verifier_html

Files = dict[str, bytes]
KEY = generate_signing_key(ORIGIN)
LOG = Log(KEY, [row(i) for i in range(40)])
# The same log, later: 21 more records. A bundle of LOG refreshed to it ties to "today".
LATER = Log(KEY, [row(i) for i in range(61)])


def untouched_files() -> Files:
    bundle = build_bundle(
        [BundleEvent(i, LOG.events[i]) for i in CITED],
        [LeafProof(i, LOG.tree.get_node(0, i), LOG.tree.inclusion_proof(i)) for i in CITED],
        LOG.checkpoint(),
        KEY.vkey,
        [ConsistencyEntry(LOG.checkpoint(OLD_SIZE), LOG.tree.consistency_proof(OLD_SIZE))],
        LOG.report_heads(CITED),
        readable={"verify.html": verifier_html("en")},
    )
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def zipped(files: Files) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def edit_event(files: Files) -> None:
    files["events.jsonl"] = files["events.jsonl"].replace(b'"agents":3', b'"agents":4', 1)


def remove_event(files: Files) -> None:
    lines = files["events.jsonl"].splitlines(keepends=True)
    files["events.jsonl"] = b"".join(lines[:-1])


def swap_proofs(files: Files) -> None:
    proofs = json.loads(files["proofs.json"])
    first, second = proofs["leaves"][0], proofs["leaves"][5]
    first["inclusion_proof"], second["inclusion_proof"] = (
        second["inclusion_proof"],
        first["inclusion_proof"],
    )
    files["proofs.json"] = json.dumps(proofs, indent=2).encode()


def resign_with_another_key(files: Files) -> None:
    forger = generate_signing_key(ORIGIN)
    files["checkpoint.txt"] = LOG.checkpoint(key=forger).encode()
    files["public-key.txt"] = (forger.vkey + "\n").encode()


def checkpoint_of_another_log(files: Files) -> None:
    other = Log(generate_signing_key("other.example.org/log"), [row(i) for i in range(7, 50)])
    heads = other.heads().extension()
    files["checkpoint.txt"] = sign_checkpoint(
        "other.example.org/log", other.tree.size, other.tree.root(), other.key, (heads,)
    ).encode()


def damage_consistency(files: Files) -> None:
    proofs = json.loads(files["proofs.json"])
    proof = proofs["consistency"][0]["proof"]
    proof[0], proof[1] = proof[1], proof[0]
    files["proofs.json"] = json.dumps(proofs, indent=2).encode()


def duplicate_a_line(files: Files) -> None:
    lines = files["events.jsonl"].splitlines(keepends=True)
    files["events.jsonl"] = b"".join([*lines, lines[0]])


def respace_a_line(files: Files) -> None:
    files["events.jsonl"] = files["events.jsonl"].replace(b'"agents":3', b'"agents": 3', 1)


def alter_the_signed_size(files: Files) -> None:
    files["checkpoint.txt"] = files["checkpoint.txt"].replace(b"\n40\n", b"\n41\n", 1)


def refresh(files: Files) -> None:
    files["refresh.json"] = refresh_document(LATER.checkpoint(), LATER.tree.consistency_proof(40))


def damage_the_refresh_proof(files: Files) -> None:
    proof = LATER.tree.consistency_proof(40)
    proof[0], proof[1] = proof[1], proof[0]
    files["refresh.json"] = refresh_document(LATER.checkpoint(), proof)


def refresh_from_another_log(files: Files) -> None:
    other = Log(generate_signing_key("other.example.org/log"), [row(i) for i in range(61)])
    note = sign_checkpoint(
        "other.example.org/log", 61, other.tree.root(), other.key, (other.heads().extension(),)
    )
    files["refresh.json"] = refresh_document(note, other.tree.consistency_proof(40))


def refresh_to_a_smaller_checkpoint(files: Files) -> None:
    files["refresh.json"] = refresh_document(LOG.checkpoint(OLD_SIZE), [])


def refresh_that_is_not_json(files: Files) -> None:
    files["refresh.json"] = b'{"format": "courtwatch-bundle-refresh-v1", "checkpoint": 1}'


def _resize(files: Files, size: str) -> None:
    files["checkpoint.txt"] = files["checkpoint.txt"].replace(b"\n40\n", f"\n{size}\n".encode(), 1)


def size_of_21_digits(files: Files) -> None:
    _resize(files, "1" * 21)


def size_beyond_a_u64(files: Files) -> None:
    _resize(files, str(2**64))  # 20 digits, one more than the largest u64


def size_of_5000_digits(files: Files) -> None:
    _resize(files, "9" * 5000)


def largest_u64_size(files: Files) -> None:
    # Parsed by both (its signature fails): sizes beyond 2**53 must not be rounded.
    _resize(files, str(2**64 - 1))
    proofs = json.loads(files["proofs.json"])
    proofs["tree_size"] = 2**53 - 1
    files["proofs.json"] = json.dumps(proofs, indent=2).encode()


def leaf_index_beyond_2_53(files: Files) -> None:
    proofs = json.loads(files["proofs.json"])
    proofs["leaves"][0]["leaf_index"] = 10**25
    files["proofs.json"] = json.dumps(proofs, indent=2).encode()


def fractional_leaf_index(files: Files) -> None:
    # JSON.parse reads 0.0 as 0, Python as a float: the browser accepted what Python refused.
    text = files["proofs.json"].decode()
    files["proofs.json"] = text.replace('"leaf_index": 0,', '"leaf_index": 0.0,', 1).encode()


def drop_the_heads(files: Files) -> None:
    proofs = json.loads(files["proofs.json"])
    proofs["format"] = "courtwatch-evidence-bundle-v1"
    files["proofs.json"] = json.dumps(proofs, indent=2).encode()


# More ways to tamper, where only agreement between the two verifiers is asked.
MORE: list[tuple[str, Callable[[Files], None], str]] = [
    ("older checkpoint not a prefix", damage_consistency, "is not a prefix of the signed log"),
    ("duplicated event", duplicate_a_line, "appears more than once"),
    ("non-canonical line", respace_a_line, "not exactly RFC 8785 canonical JSON"),
    ("altered checkpoint", alter_the_signed_size, "checkpoint signature does not verify"),
    ("old format", drop_the_heads, "cannot prove that no event was left out"),
    ("refresh.json not a document", refresh_that_is_not_json, "refresh.json is malformed"),
    ("tree size of 21 digits", size_of_21_digits, "is not a decimal number of at most 20 digits"),
    ("tree size beyond a u64", size_beyond_a_u64, "is not a decimal number of at most 20 digits"),
    ("tree size of 5,000 digits", size_of_5000_digits, "of at most 20 digits"),
    ("largest u64 tree size", largest_u64_size, "Checkpoint:  18446744073709551615 records"),
    ("leaf index beyond 2**53", leaf_index_beyond_2_53, "leaf_index is larger than 2**53 - 1"),
    ("leaf index 0.0", fractional_leaf_index, "it holds '0.0', which is not a whole number"),
]

# The sentence both verifiers print, and the plain summary the page adds above it.
CASES: list[tuple[str, Callable[[Files], None] | None, str]] = [
    ("untouched", None, "VERIFIED: all 12 record(s)"),
    ("edited event", edit_event, "content does not match its leaf hash — the event was edited"),
    ("removed event", remove_event, "are missing from events.jsonl: events were removed"),
    ("swapped proof", swap_proofs, "does not lead to the signed root"),
    ("wrong key", resign_with_another_key, "is not the expected key"),
    ("checkpoint from another log", checkpoint_of_another_log, "it comes from another log"),
    # An old bundle refreshed to a newer checkpoint of the same log, and three bad refreshes.
    ("refreshed", refresh, "Refreshed:   the log's checkpoint of 61 records"),
    ("refresh with a wrong consistency proof", damage_the_refresh_proof, "is not a prefix of"),
    ("refresh from another log", refresh_from_another_log, "checkpoint is for log 'other."),
    ("refresh to a smaller checkpoint", refresh_to_a_smaller_checkpoint, "is smaller than"),
]
# Changes that leave a bundle verifying.
STILL_VERIFIES = (refresh,)


def case_bundle(mutate: Callable[[Files], None] | None) -> bytes:
    files = untouched_files()
    if mutate is not None:
        mutate(files)
    return zipped(files)


def unzip(bundle: bytes, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        zf.extractall(folder)
    (folder / "bundle.zip").write_bytes(bundle)
    return folder


async def browser_verdict(
    browser: Any,
    folder: Path,
    dropped: list[Path],
    *,
    key: str = KEY.vkey,
    origin: str = ORIGIN,
    witnesses: tuple[str, ...] = (),
    quorum: str = "",
) -> tuple[str, str]:
    """Open verify.html from ``folder`` offline, give it ``dropped``: (verdict, report text)."""
    context = await browser.new_context(offline=True)
    fetched: list[str] = []
    page = await context.new_page()
    page.on("request", lambda r: fetched.append(r.url) if not r.url.startswith("file:") else None)
    try:
        await page.goto((folder / "verify.html").as_uri())
        # One round trip, no change events (four fills cost ~0.3 s a case on a loaded
        # machine); dropping the file below runs the check with these values.
        await page.evaluate(
            """([key, origin, witnesses, quorum]) => {
                document.getElementById("expected-key").value = key;
                document.getElementById("expected-origin").value = origin;
                document.getElementById("expected-witnesses").value = witnesses;
                document.getElementById("quorum").value = quorum;
            }""",
            [key, origin, "\n".join(witnesses), quorum],
        )
        await page.set_input_files("#files", [str(p) for p in dropped])
        verdict = await page.wait_for_selector("#verdict[data-verdict]", timeout=30_000)
        assert verdict is not None
        answer = (await verdict.get_attribute("data-verdict")) or ""
        text = await page.inner_text("#report")
        summary = await page.inner_text("#summary")
        assert (answer == "verified") is (summary == ""), summary
    finally:
        await context.close()
    assert fetched == [], f"the verifier asked the network for {fetched}"
    return answer, text


@pytest.mark.parametrize(
    ("case", "mutate", "named"), [*CASES, *MORE], ids=[c[0] for c in [*CASES, *MORE]]
)
async def test_both_verifiers_give_the_same_verdict(
    browser: Any,
    tmp_path: Path,
    case: str,
    mutate: Callable[[Files], None] | None,
    named: str,
) -> None:
    bundle = case_bundle(mutate)
    python = verify_bundle(bundle, expected_vkey=KEY.vkey, expected_origin=ORIGIN)
    folder = unzip(bundle, tmp_path / "bundle")
    verdict, text = await browser_verdict(browser, folder, [folder / "bundle.zip"])

    assert python.ok is (mutate is None or mutate in STILL_VERIFIES)
    assert verdict == ("verified" if python.ok else "failed")
    assert named in python.render() and named in text, (python.render(), text)
    # Not only the verdict: the same sentences, line for line.
    assert text.strip() == python.render().strip()


async def test_the_unzipped_files_can_be_dropped_instead_of_the_zip(
    browser: Any, tmp_path: Path
) -> None:
    for name, mutate in (("untouched", None), ("edited", edit_event)):
        folder = unzip(case_bundle(mutate), tmp_path / name)
        loose = [folder / n for n in ("events.jsonl", "proofs.json", "checkpoint.txt")]
        verdict, text = await browser_verdict(browser, folder, [*loose, folder / "public-key.txt"])
        assert verdict == ("verified" if mutate is None else "failed"), text
        if mutate is not None:
            assert "the event was edited" in text


def lying_zip_bomb() -> bytes:
    """events.jsonl inflates to 80 MiB of spaces while its headers claim 1 KiB."""
    files = untouched_files()
    files["events.jsonl"] = b" " * (80 * 1024 * 1024)
    data = bytearray(zipped(files))
    at = 0
    while True:  # patch every central-directory entry for events.jsonl
        at = data.find(b"PK\x01\x02", at)
        if at < 0:
            break
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == b"events.jsonl":
            struct.pack_into("<I", data, at + 24, 1024)
        at += 4
    return bytes(data)


async def test_hostile_files_get_a_clear_answer_not_a_hang(browser: Any, tmp_path: Path) -> None:
    folder = unzip(case_bundle(None), tmp_path / "bundle")
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(lying_zip_bomb())
    verdict, text = await browser_verdict(browser, folder, [bomb])
    assert verdict == "failed" and "events.jsonl is larger than 67108864 bytes" in text

    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(zlib.compress(b"not a zip at all" * 100))
    verdict, text = await browser_verdict(browser, folder, [garbage])
    assert verdict == "failed" and "cannot read the bundle as a zip file" in text
    assert not verify_bundle(garbage.read_bytes()).ok

    huge = tmp_path / "huge.zip"
    with huge.open("wb") as f:
        f.truncate(300 * 1024 * 1024)  # sparse: no disk used, but too large to load
    verdict, text = await browser_verdict(browser, folder, [huge])
    assert verdict == "failed" and "too large to check in a browser" in text

    verdict, text = await browser_verdict(browser, folder, [folder / "bundle.zip"], key="nonsense")
    assert verdict == "failed" and "the key you gave is not valid" in text


async def test_both_verifiers_require_the_same_witness_quorum(browser: Any, tmp_path: Path) -> None:
    """Cosigned by two witnesses; a third named; a forged cosignature; a log key as witness."""
    w1, w2, w3 = (generate_cosigning_key(f"w{i}.example/witness") for i in (1, 2, 3))
    files = untouched_files()
    note = files["checkpoint.txt"].decode()
    text = split_note(note)[0]
    lines = [cosign(text, w1, 1_700_000_000), cosign(text, w2, 1_700_000_100)]
    files["checkpoint.txt"] = add_cosignature_lines(note, lines).encode()
    forged = dict(files)
    blob = bytearray(base64.b64decode(lines[1].split(" ")[2]))
    blob[-1] ^= 1
    dash, name, _ = lines[1].split(" ")
    forged["checkpoint.txt"] = (
        f"{note}{lines[0]}{dash} {name} {base64.b64encode(bytes(blob)).decode()}\n".encode()
    )
    both = (w1.vkey, w2.vkey)
    cases: list[tuple[Files, tuple[str, ...], str, bool, str]] = [
        (files, both, "", True, "Witnessed:   by w2.example/witness at 2023-11-14 22:15:00 UTC"),
        # An explicit quorum of 2 out of three named witnesses, one of which never cosigned.
        (files, (*both, w3.vkey), "2", True, "Witnessed:   by w1.example/witness"),
        # One forged line: that problem, and then an unmet quorum (1 of 2), in both.
        (forged, both, "", False, "cosigned by 1 of the 2 witnesses given, 2 required"),
    ]
    # Refreshed: the witnesses are required on the newer checkpoint, not the bundle's.
    later = LATER.checkpoint()
    later_text = split_note(later)[0]
    cosigned_later = add_cosignature_lines(
        later, [cosign(later_text, w1, 1_800_000_000), cosign(later_text, w2, 1_800_000_100)]
    )
    proof = LATER.tree.consistency_proof(40)
    refreshed = {**untouched_files(), "refresh.json": refresh_document(cosigned_later, proof)}
    uncosigned = {**files, "refresh.json": refresh_document(later, proof)}
    cases += [
        (refreshed, both, "", True, "by w2.example/witness at 2027-01-15 08:01:40 UTC (the newer"),
        (uncosigned, both, "", False, "the newer checkpoint is cosigned by 0 of the 2 witnesses"),
    ]
    for number, (case, witnesses, quorum, ok, named) in enumerate(cases):
        bundle = zipped(case)
        python = verify_bundle(
            bundle, KEY.vkey, ORIGIN, witnesses=witnesses, quorum=int(quorum) if quorum else None
        )
        folder = unzip(bundle, tmp_path / f"w{number}")
        verdict, shown = await browser_verdict(
            browser, folder, [folder / "bundle.zip"], witnesses=witnesses, quorum=quorum
        )
        assert python.ok is ok and verdict == ("verified" if ok else "failed"), shown
        assert named in python.render() and shown.strip() == python.render().strip(), shown
    # A log's key (type 0x01) is not a witness key (verify.js's parseWitnessKey says the same).
    with pytest.raises(CheckpointError, match="0x04"):
        verify_bundle(zipped(files), KEY.vkey, ORIGIN, witnesses=[KEY.vkey])
