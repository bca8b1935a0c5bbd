"""Offline verification of an evidence bundle: ``courtwatch verify BUNDLE``.

This runs on a lawyer's or expert's computer, possibly years from now, with no
database and no network. It (and everything it imports) therefore uses only the
standard library, ``cryptography`` and ``rfc8785``; a test enforces that.

Every check that fails adds one sentence to the report saying which record or file
failed and what that means, and checking goes on so the report is complete.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785

from courtwatch.transparency.bundle import (
    CHECKPOINT_NAME,
    EVENTS_NAME,
    FORMAT,
    OLD_FORMATS,
    PROOFS_NAME,
    PUBLIC_KEY_NAME,
    REQUIRED_FILES,
)
from courtwatch.transparency.canonical import strict_json_loads
from courtwatch.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    parse_and_verify_checkpoint,
    parse_checkpoint_text,
    parse_vkey,
    split_note,
)
from courtwatch.transparency.cosignature import (
    CosignatureError,
    CosignerKey,
    parse_cosigner_vkey,
    verify_cosignatures,
)
from courtwatch.transparency.heads import HeadsError, parse_heads_extension, verify_head
from courtwatch.transparency.merkle import (
    ProofError,
    RootMismatchError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from courtwatch.transparency.refresh import REFRESH_FORMAT, REFRESH_NAME

# Bounds what a hostile zip can make us decompress; real bundles are far smaller.
MAX_FILE_BYTES = 512 * 1024 * 1024
_HEX = re.compile(r"(?:[0-9a-f]{2})*")


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events_verified: int = 0
    covered: dict[str, int] = field(default_factory=dict)
    """Record id -> newest version at the checkpoint, for records proven complete."""
    checkpoint: Checkpoint | None = None
    checkpoint_verified: bool = False
    key: VerifierKey | None = None
    key_matches_expected: bool | None = None
    """None when the caller gave no expected key: then only the bundled key was used."""
    witnessed: list[tuple[str, int]] = field(default_factory=list)
    """(witness name, cosignature time) of the known witnesses that cosigned."""
    refreshed: Checkpoint | None = None
    """The newer checkpoint of refresh.json, once its signature and its consistency
    with the bundle's checkpoint verified (then witnesses are checked on it)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines: list[str] = []
        if self.checkpoint is not None:
            cp = self.checkpoint
            lines.append(f"Log:         {cp.origin}")
            trust = "" if self.checkpoint_verified else " (its signature is NOT valid)"
            lines.append(f"Checkpoint:  {cp.size} records, root hash {cp.root.hex()}{trust}")
        if self.refreshed is not None:
            new = self.refreshed
            lines.append(
                f"Refreshed:   the log's checkpoint of {new.size} records, root hash "
                f"{new.root.hex()}, contains this one unchanged (consistency proof verified)"
            )
        if self.key is not None:
            lines.append(f"Signing key: {self.key}")
            lines.append(f"Fingerprint: {self.key.fingerprint()}")
        which = " (the newer checkpoint)" if self.refreshed is not None else ""
        lines.extend(f"Witnessed:   by {name} at {_utc(at)}{which}" for name, at in self.witnessed)
        lines.extend(f"Note: {note}" for note in self.notes)
        size = self.checkpoint.size if self.checkpoint is not None else "?"
        lines.extend(
            f"Covered:     report {rid} versions 1-{version} "
            f"(every version up to checkpoint {size})"
            for rid, version in sorted(self.covered.items())
        )
        if self.ok:
            lines.append(
                f"VERIFIED: all {self.events_verified} record(s) are in the signed log, unaltered, "
                f"and no version of the {len(self.covered)} report(s) above is missing."
            )
        else:
            lines.append(f"FAILED: {len(self.problems)} problem(s):")
            lines.extend(f"  - {problem}" for problem in self.problems)
        return "\n".join(lines)


# 9999-12-31 23:59:59 UTC: a forged cosignature may carry any u64 time, and a
# later one cannot be shown as a date (datetime refuses it; so does JavaScript's).
_LAST_DATE = 253402300799


def _utc(seconds: int) -> str:
    if seconds > _LAST_DATE:
        return f"{seconds} s after 1970 (beyond year 9999)"
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True)
class _Leaf:
    leaf_hash: bytes
    proof: list[bytes]


@dataclass(frozen=True)
class _Head:
    current_version: int
    head_index: int
    head_proof: list[bytes]


@dataclass(frozen=True)
class _Proofs:
    leaves: dict[int, _Leaf]
    heads: dict[str, _Head] | None
    """None for an old (v1) bundle, which cannot prove completeness."""


_EVENT_PREFIX = b'{"event":'
_LEAF_SEPARATOR = b',"leaf_index":'


def verify_bundle(
    bundle: str | os.PathLike[str] | bytes,
    expected_vkey: str | None = None,
    expected_origin: str | None = None,
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
) -> VerifyReport:
    """Check every record in a bundle against the signed checkpoint.

    ``expected_vkey`` is the operator's published key. Without it the bundled key
    is used, which proves only that the bundle is internally consistent.
    ``witnesses`` are the public keys of witnesses the reader trusts; at least
    ``quorum`` of them (default: all) must have cosigned the bundle's checkpoint,
    which shows the checkpoint is the one history those witnesses saw.
    ``expected_origin`` is the log's published name (its /log page): one operator
    key may sign several logs, and a checkpoint of another log proves nothing here.
    """
    report = VerifyReport()
    expected = parse_vkey(expected_vkey) if expected_vkey is not None else None
    known = [parse_cosigner_vkey(w) for w in witnesses]
    needed = len(known) if quorum is None else quorum
    if not 0 <= needed <= len(known):
        raise CosignatureError(f"a quorum of {needed} needs at least {needed} --witness keys")
    files = _read_zip(bundle, report)
    if files is None:
        return report

    key = _check_key(files[PUBLIC_KEY_NAME], expected, report)
    checkpoint = _check_checkpoint(files[CHECKPOINT_NAME], key, report)
    if checkpoint is None:
        return report
    report.checkpoint = checkpoint
    if REFRESH_NAME in files:
        # A refreshed bundle: the witnesses vouch for the newer checkpoint, and the
        # consistency proof ties the bundle's checkpoint to it.
        _check_refresh(files[REFRESH_NAME], checkpoint, key, known, needed, report)
    elif known:
        _check_witnesses(files[CHECKPOINT_NAME], known, needed, report)
    if expected_origin is not None and checkpoint.origin != expected_origin:
        report.problems.append(
            f"the checkpoint is for log {checkpoint.origin!r}, not the expected "
            f"{expected_origin!r}: it comes from another log"
        )
    proofs = _read_proofs(files[PROOFS_NAME], checkpoint, key, report)
    if proofs is None:
        return report
    versions = _check_events(files[EVENTS_NAME], proofs.leaves, checkpoint, report)
    _check_complete(versions, proofs.heads, checkpoint, report)
    return report


def _read_zip(
    bundle: str | os.PathLike[str] | bytes, report: VerifyReport
) -> dict[str, bytes] | None:
    try:
        source = io.BytesIO(bundle) if isinstance(bundle, bytes) else Path(bundle)
        with zipfile.ZipFile(source) as zf:
            names = [info.filename for info in zf.infolist()]
            # Two members with one name: unzip tools disagree on which one you see.
            duplicated = sorted({n for n in names if names.count(n) > 1})
            if duplicated:
                report.problems.append(
                    f"the bundle contains several files named {', '.join(duplicated)}: "
                    "it was assembled by hand or tampered with"
                )
                return None
            missing = [n for n in REQUIRED_FILES if n not in names]
            if missing:
                report.problems.append(f"the bundle is missing {', '.join(missing)}")
                return None
            files: dict[str, bytes] = {}
            optional = [REFRESH_NAME] if REFRESH_NAME in names else []
            for name in [*REQUIRED_FILES, *optional]:
                # The declared size may lie; the bounded read below is what protects us
                # from a zip bomb, this only answers early for an honest huge file.
                if zf.getinfo(name).file_size > MAX_FILE_BYTES:
                    report.problems.append(f"{name} is larger than {MAX_FILE_BYTES} bytes")
                    return None
                with zf.open(name) as member:
                    data = member.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    report.problems.append(f"{name} is larger than {MAX_FILE_BYTES} bytes")
                    return None
                files[name] = data
            return files
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        NotImplementedError,  # an unsupported compression method
        RuntimeError,  # an encrypted member
        ValueError,
    ) as e:
        report.problems.append(f"cannot read the bundle as a zip file: {e}")
        return None


def _check_key(
    data: bytes, expected: VerifierKey | None, report: VerifyReport
) -> VerifierKey | None:
    bundled: VerifierKey | None = None
    try:
        bundled = parse_vkey(data.decode("utf-8"))
    except (CheckpointError, UnicodeDecodeError) as e:
        report.problems.append(f"{PUBLIC_KEY_NAME}: {e}")
    if expected is None:
        report.key = bundled
        if bundled is not None:
            report.notes.append(
                "checked with the key inside the bundle only. Compare its fingerprint "
                "above with the one the log operator publishes, or run again with --key."
            )
        return bundled
    report.key = expected
    report.key_matches_expected = bundled is not None and str(bundled) == str(expected)
    if bundled is not None and not report.key_matches_expected:
        report.problems.append(
            f"the bundle's public key ({bundled}) is not the expected key ({expected}): "
            "the bundle may have been re-signed by someone else"
        )
    return expected


def _check_checkpoint(
    data: bytes, key: VerifierKey | None, report: VerifyReport
) -> Checkpoint | None:
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError:
        report.problems.append(f"{CHECKPOINT_NAME} is not UTF-8 text")
        return None
    if key is not None:
        try:
            checkpoint = parse_and_verify_checkpoint(note, key)
            report.checkpoint_verified = True
            return checkpoint
        except CheckpointError as e:
            report.problems.append(str(e))
    # Unsigned or unverifiable, the body still lets us report on every record.
    try:
        return parse_checkpoint_text(split_note(note)[0])
    except CheckpointError as e:
        report.problems.append(f"{CHECKPOINT_NAME}: {e}")
        return None


def _check_witnesses(
    data: bytes,
    known: list[CosignerKey],
    needed: int,
    report: VerifyReport,
    where: str = CHECKPOINT_NAME,
    what: str = "the checkpoint",
) -> None:
    try:
        found, problems = verify_cosignatures(data.decode("utf-8"), known)
    except (UnicodeDecodeError, CheckpointError) as e:
        found, problems = [], [str(e)]
    report.problems.extend(f"{where}: {p}" for p in problems)
    report.witnessed = sorted((c.witness.name, c.timestamp) for c in found)
    if len(found) < needed:
        names = ", ".join(name for name, _ in report.witnessed) or "none of them"
        report.problems.append(
            f"{what} is cosigned by {len(found)} of the {len(known)} witnesses given, "
            f"{needed} required ({names}): no quorum of independent witnesses vouches that "
            "this is the one history of the log everyone sees"
        )


def _check_refresh(
    data: bytes,
    checkpoint: Checkpoint,
    key: VerifierKey | None,
    known: list[CosignerKey],
    needed: int,
    report: VerifyReport,
) -> None:
    """refresh.json: a newer checkpoint of the same log that extends the bundle's."""
    try:
        doc = strict_json_loads(data, whole_numbers=True)
        if not isinstance(doc, dict) or doc.get("format") != REFRESH_FORMAT:
            raise ValueError(f'it is not a {REFRESH_FORMAT} document (member "format")')
        note = doc.get("checkpoint")
        if not isinstance(note, str):
            raise ValueError('it needs a "checkpoint" signed note')
        proof = [
            _hex(h, "consistency_proof")
            for h in _list(doc.get("consistency_proof"), "consistency_proof")
        ]
    except (ValueError, RecursionError) as e:
        report.problems.append(f"{REFRESH_NAME} is malformed: {e}")
        return
    what = "the newer checkpoint"
    try:
        newer = _checkpoint_of(note, key, checkpoint.origin)
    except CheckpointError as e:
        report.problems.append(f"{REFRESH_NAME}: {what}: {e}")
        return
    if key is None and newer.origin != checkpoint.origin:
        report.problems.append(
            f"{REFRESH_NAME}: {what}: checkpoint is for log {newer.origin!r}, "
            f"not the expected {checkpoint.origin!r}"
        )
        return
    if newer.size < checkpoint.size:
        report.problems.append(
            f"{REFRESH_NAME}: {what} ({newer.size} records) is smaller than the bundle's "
            f"checkpoint ({checkpoint.size} records): it is not newer, and a log never shrinks"
        )
        return
    try:
        verify_consistency(checkpoint.size, newer.size, checkpoint.root, newer.root, proof)
    except ProofError as e:
        report.problems.append(
            f"{REFRESH_NAME}: the bundle's checkpoint ({checkpoint.size} records) is not a "
            f"prefix of {what} ({newer.size} records): {e}. The log was changed since the "
            "bundle was made, or the proof is damaged"
        )
        return
    report.refreshed = newer
    if known:
        _check_witnesses(note.encode("utf-8"), known, needed, report, REFRESH_NAME, what)


def _read_proofs(
    data: bytes, checkpoint: Checkpoint, key: VerifierKey | None, report: VerifyReport
) -> _Proofs | None:
    try:
        doc = strict_json_loads(data, whole_numbers=True)
        if not isinstance(doc, dict) or doc.get("format") not in (FORMAT, *OLD_FORMATS):
            raise ValueError(f'it is not a {FORMAT} document (member "format")')
        tree_size = _int(doc.get("tree_size"), "tree_size")
        entries = _list(doc.get("leaves"), "leaves")
        leaves: dict[int, _Leaf] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                raise ValueError('every item of "leaves" must be an object')
            index = _int(entry.get("leaf_index"), "leaf_index")
            if index in leaves:
                raise ValueError(f"leaf {index} is listed twice")
            leaves[index] = _Leaf(
                _hex(entry.get("leaf_hash"), f"leaf_hash of leaf {index}"),
                [
                    _hex(h, f"inclusion_proof of leaf {index}")
                    for h in _list(entry.get("inclusion_proof"), f"inclusion_proof of leaf {index}")
                ],
            )
        heads = None if doc["format"] in OLD_FORMATS else _read_heads(doc.get("reports"))
        consistency = _list(doc.get("consistency", []), "consistency")
    except (ValueError, RecursionError) as e:
        report.problems.append(f"{PROOFS_NAME} is malformed: {e}")
        return None
    if tree_size != checkpoint.size:
        report.problems.append(
            f"{PROOFS_NAME} is for a tree of {tree_size} records, "
            f"but the checkpoint is for {checkpoint.size}"
        )
    if doc.get("root_hash") not in (None, checkpoint.root.hex()):
        report.problems.append(f"{PROOFS_NAME} names a different root hash than the checkpoint")
    for number, entry in enumerate(consistency, start=1):
        _check_consistency(number, entry, checkpoint, key, report)
    return _Proofs(leaves, heads)


def _read_heads(value: Any) -> dict[str, _Head]:
    heads: dict[str, _Head] = {}
    for entry in _list(value, "reports"):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ValueError('every item of "reports" must be an object with an "id"')
        record_id = entry["id"]
        if record_id in heads:
            raise ValueError(f"report {record_id} is listed twice in reports")
        heads[record_id] = _Head(
            _int(entry.get("current_version"), f"current_version of report {record_id}"),
            _int(entry.get("head_index"), f"head_index of report {record_id}"),
            [
                _hex(h, f"head_proof of report {record_id}")
                for h in _list(entry.get("head_proof"), f"head_proof of report {record_id}")
            ],
        )
    return heads


def _check_consistency(
    number: int, entry: Any, checkpoint: Checkpoint, key: VerifierKey | None, report: VerifyReport
) -> None:
    what = f"older checkpoint #{number}"
    try:
        if not isinstance(entry, dict) or not isinstance(entry.get("old_checkpoint"), str):
            raise ValueError('it needs an "old_checkpoint" signed note')
        proof = [_hex(h, "proof") for h in _list(entry.get("proof"), "proof")]
        note = entry["old_checkpoint"]
    except ValueError as e:
        report.problems.append(f"{what} in {PROOFS_NAME} is malformed: {e}")
        return
    try:
        old = _checkpoint_of(note, key, checkpoint.origin)
    except CheckpointError as e:
        report.problems.append(f"{what}: {e}")
        return
    try:
        verify_consistency(old.size, checkpoint.size, old.root, checkpoint.root, proof)
    except ProofError as e:
        report.problems.append(
            f"{what} ({old.size} records) is not a prefix of the signed log: {e}. "
            "Records present then were changed or removed, or the proof is damaged"
        )


def _check_events(
    data: bytes, leaves: dict[int, _Leaf], checkpoint: Checkpoint, report: VerifyReport
) -> dict[str, dict[int, int]]:
    """Check each line; return record id -> {version: leaf index} of the lines that verified."""
    seen: set[int] = set()
    versions: dict[str, dict[int, int]] = {}
    if data and not data.endswith(b"\n"):
        report.problems.append(f"{EVENTS_NAME} does not end with a newline: it was cut short")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        where = f"{EVENTS_NAME} line {number}"
        try:
            item = strict_json_loads(line)
            if not isinstance(item, dict) or set(item) != {"event", "leaf_index"}:
                raise ValueError('each line must be {"event": ..., "leaf_index": ...}')
            index = _int(item["leaf_index"], "leaf_index")
            event = item["event"]
            if not isinstance(event, dict):
                raise ValueError('"event" must be an object')
            # The hashed bytes are the raw line's, as the README's by-hand method takes
            # them: a line that only re-canonicalises to the right bytes is refused.
            if rfc8785.dumps(item) != line:
                raise ValueError(
                    "it is not exactly RFC 8785 canonical JSON (extra spaces, member order "
                    "or escapes differ), so its bytes are not the logged record's"
                )
            computed = leaf_hash(line[len(_EVENT_PREFIX) : line.rindex(_LEAF_SEPARATOR)])
        except (ValueError, RecursionError, UnicodeDecodeError) as e:
            # ValueError includes rfc8785.CanonicalizationError
            report.problems.append(f"{where} is malformed: {e}")
            continue
        label = f"event at leaf {index} ({_describe(event)})"
        if index in seen:
            report.problems.append(f"{label}: appears more than once in {EVENTS_NAME}")
            continue
        seen.add(index)
        # Presence, not validity: an edited event is reported once, as edited, not
        # a second time as missing.
        _note_version(event, index, label, versions, report)
        leaf = leaves.get(index)
        if leaf is None:
            report.problems.append(f"{label}: {PROOFS_NAME} has no proof for it")
            continue
        if computed != leaf.leaf_hash:
            report.problems.append(
                f"{label}: content does not match its leaf hash — the event was edited"
            )
            continue
        try:
            verify_inclusion(computed, index, checkpoint.size, leaf.proof, checkpoint.root)
        except RootMismatchError:
            report.problems.append(
                f"inclusion proof for leaf {index} does not lead to the signed root"
            )
            continue
        except ProofError as e:
            report.problems.append(f"inclusion proof for leaf {index} is invalid: {e}")
            continue
        report.events_verified += 1
    for index in sorted(set(leaves) - seen):
        report.problems.append(
            f"{PROOFS_NAME} has a proof for leaf {index} but {EVENTS_NAME} has no such event"
        )
    return versions


def _note_version(
    event: dict[str, Any],
    index: int,
    label: str,
    versions: dict[str, dict[int, int]],
    report: VerifyReport,
) -> None:
    record_id, version = event.get("id"), event.get("version")
    if not isinstance(record_id, str) or isinstance(version, bool) or not isinstance(version, int):
        report.problems.append(f"{label}: the event has no report id and version")
        return
    of_record = versions.setdefault(record_id, {})
    if version in of_record:
        report.problems.append(
            f"{label}: report {record_id} v{version} is also at leaf {of_record[version]}: "
            "an event was duplicated"
        )
    else:
        of_record[version] = index


def _check_complete(
    versions: dict[str, dict[int, int]],
    heads: dict[str, _Head] | None,
    checkpoint: Checkpoint,
    report: VerifyReport,
) -> None:
    """Every report must be there with all its versions up to the signed current one."""
    if report.events_verified == 0:
        report.problems.append(
            "the bundle holds no verified records: it proves nothing about any report"
        )
    if heads is None:
        report.problems.append(
            "this is an old (v1) bundle: it cannot prove that no event was left out. "
            "Ask for a new export"
        )
        return
    try:
        signed = parse_heads_extension(checkpoint.extensions)
    except HeadsError as e:
        report.problems.append(f"{CHECKPOINT_NAME}: {e}")
        return
    if signed is None:
        report.problems.append(
            f"{CHECKPOINT_NAME} does not list the reports' current versions, so the bundle "
            "cannot prove that no event was left out"
        )
        return
    count, root = signed
    for record_id in sorted(set(versions) - set(heads)):
        report.problems.append(
            f"report {record_id}: {PROOFS_NAME} does not say which version was current, "
            "so events of it may have been left out"
        )
    for record_id, head in sorted(heads.items()):
        try:
            verify_head(
                record_id, head.current_version, head.head_index, head.head_proof, count, root
            )
        except (ProofError, HeadsError, ValueError) as e:
            report.problems.append(
                f"report {record_id}: the claim that v{head.current_version} was its current "
                f"version at checkpoint {checkpoint.size} does not verify against the signed "
                f"checkpoint ({e}): events may have been removed and the claim edited"
            )
            continue
        have = versions.get(record_id, {})
        expected = range(1, head.current_version + 1)
        missing = [v for v in expected if v not in have]
        extra = sorted(v for v in have if v > head.current_version)
        if missing:
            report.problems.append(
                f"report {record_id}: version(s) {_ranges(missing)} of 1-{head.current_version} "
                f"are missing from {EVENTS_NAME}: events were removed from the bundle"
            )
        if extra:
            report.problems.append(
                f"report {record_id}: version(s) {_ranges(extra)} are newer than the signed "
                f"current version {head.current_version}"
            )
        ordered = [have[v] for v in expected if v in have]
        if ordered != sorted(ordered):
            report.problems.append(
                f"report {record_id}: its versions are not in log order: the events were reordered"
            )
        if not missing and not extra:
            report.covered[record_id] = head.current_version


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``: a long gap stays one short sentence."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def _describe(event: dict[str, Any]) -> str:
    return f"report {event.get('id', '?')} v{event.get('version', '?')}"


# Beyond it a JavaScript reader (the browser verifier) rounds a JSON integer: both
# verifiers refuse such an index or size, in the same words.
_MAX_JSON_INTEGER = 2**53 - 1


def _int(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > _MAX_JSON_INTEGER:
        raise ValueError(
            f"{what} is larger than 2**53 - 1: a JSON reader cannot be sure of its exact value"
        )
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    return value


def _hex(value: Any, what: str) -> bytes:
    # Strict: bytes.fromhex alone would also accept spaces and capitals.
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise ValueError(f"{what} must be lowercase hex, got {value!r}")
    return bytes.fromhex(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``courtwatch verify``, defined once: the ``courtwatch`` command
    and ``python -m courtwatch.transparency.verify`` both use them (two copies had
    drifted: ``courtwatch verify`` refused ``--origin``)."""
    parser.add_argument("bundle", help="path to the evidence bundle (.zip)")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--key", help="the log operator's published public key string")
    keys.add_argument("--key-file", help="a file holding the operator's published public key")
    parser.add_argument(
        "--origin", help="the log's published name (origin), as its /log page states it"
    )
    parser.add_argument(
        "--disclosure", help="also check a disclosed sealed value against the bundle's record"
    )
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="KEY",
        help="a witness's public key you trust (repeatable); its cosignature must be on "
        "the bundle's checkpoint",
    )
    parser.add_argument(
        "--quorum",
        type=int,
        help="how many of the --witness keys must have cosigned (default: all of them)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``courtwatch verify`` — exit status 0 if the bundle verifies, 1 if not."""
    parser = argparse.ArgumentParser(
        prog="courtwatch verify",
        description="Check a courtwatch evidence bundle offline.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Verify the bundle named by parsed ``add_arguments`` options and print the report."""
    expected = args.key
    if args.key_file:
        expected = Path(args.key_file).read_text(encoding="utf-8")
    try:
        report = verify_bundle(
            args.bundle,
            expected_vkey=expected,
            expected_origin=args.origin,
            witnesses=args.witness,
            quorum=args.quorum,
        )
    except CheckpointError as e:
        print(f"a key given with --key/--key-file/--witness is not valid: {e}", file=sys.stderr)
        return 2
    if args.disclosure and report.ok:
        report.problems.extend(_disclosure_problems(args.bundle, args.disclosure))
        if report.ok:
            report.notes.append("The disclosed sealed value matches its logged commitment.")
    print(report.render())
    return 0 if report.ok else 1


def _disclosure_problems(bundle: str, disclosure_path: str) -> list[str]:
    # Only after the bundle verified: its events are then the logged ones.
    from courtwatch.sealing.disclosure import (
        check_disclosure,
        check_photo_disclosure,
        events_of_bundle,
    )

    try:
        disclosure = strict_json_loads(Path(disclosure_path).read_bytes())
    except (OSError, ValueError, RecursionError) as e:
        return [f"the disclosure {disclosure_path} cannot be read: {e}"]
    if isinstance(disclosure, dict) and "file" in disclosure:
        # A photo: the file named in the disclosure, in the same folder (a bare name only).
        name = disclosure["file"]
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            return ["the disclosure's file must be a bare file name"]
        try:
            photo = (Path(disclosure_path).parent / name).read_bytes()
        except OSError as e:
            return [f"the disclosed photo {name} cannot be read: {e}"]
        return check_photo_disclosure(disclosure, photo, events_of_bundle(bundle))
    return check_disclosure(disclosure, events_of_bundle(bundle))


if __name__ == "__main__":
    sys.exit(main())


def _checkpoint_of(note: str, key: Any, origin: str) -> Checkpoint:
    """A signed note's checkpoint, its signature checked when the log's key is known
    (without one, the bundle's own checkpoint was not checked either)."""
    if key is None:
        return parse_checkpoint_text(split_note(note)[0])
    return parse_and_verify_checkpoint(note, key, origin=origin)
