"""Evidence bundles: the zip a lawyer receives, cites, and can check without us.

Layout (format ``courtwatch-evidence-bundle-v2``)::

    README.txt       what this is, the log's name, key and key fingerprint, how to
                     check it; the by-hand proof steps last
    record.html      (optional) the records in words, for a reader: rendered by the
                     caller that knows labels and time zones (web/transparency/record.py)
                     and passed in as bytes; it is a reading aid, the proof covers
                     events.jsonl
    record.pdf       (optional) record.html as a PDF (web/transparency/record_pdf.py)
    verify.html      (optional) the browser verifier: the checks below in JavaScript
    events.jsonl     one line per event: RFC 8785 JSON {"event": <canonical event>,
                     "leaf_index": <n>}, in leaf order (see ``canonical``). The
                     hashed record is the raw bytes of the line between
                     ``{"event":`` and ``,"leaf_index":``; a line that is not
                     exactly canonical fails verification.
    proofs.json      {"format", "tree_size", "root_hash" (hex),
                      "leaves": [{"leaf_index", "leaf_hash" (hex),
                                  "inclusion_proof": [hex, ...]}],
                      "reports": [{"id", "current_version", "head_index",
                                   "head_proof": [hex, ...]}],
                      "consistency": [{"old_checkpoint": <signed note>,
                                       "proof": [hex, ...]}]}

Completeness (v2): every record (report) in the bundle appears with *all* its
versions 1..current_version, and "reports" proves that current_version is the
version the signed checkpoint names for it (see ``heads``), so a bundle with a
report's events removed - including its last ones - fails to verify.
    checkpoint.txt   the signed checkpoint the proofs lead to (see ``checkpoint``)
    public-key.txt   the log's verifier key, ``<name>+<key id>+<base64 key>``

Inclusion proofs are against the tree size of ``checkpoint.txt``. A consistency
entry proves that an older checkpoint (for example one cited in an earlier
filing) is a prefix of the bundled one, so nothing cited then was removed since.

Standard library, ``cryptography`` and ``rfc8785`` only: the offline verifier imports this module.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785

from courtwatch.transparency.checkpoint import parse_checkpoint_text, parse_vkey, split_note

FORMAT = "courtwatch-evidence-bundle-v2"
OLD_FORMATS = ("courtwatch-evidence-bundle-v1",)
README_NAME = "README.txt"
EVENTS_NAME = "events.jsonl"
PROOFS_NAME = "proofs.json"
CHECKPOINT_NAME = "checkpoint.txt"
PUBLIC_KEY_NAME = "public-key.txt"
REQUIRED_FILES = (EVENTS_NAME, PROOFS_NAME, CHECKPOINT_NAME, PUBLIC_KEY_NAME)
RECORD_NAME = "record.html"
RECORD_PDF_NAME = "record.pdf"
VERIFIER_NAME = "verify.html"
READABLE_NAMES = (RECORD_NAME, RECORD_PDF_NAME, VERIFIER_NAME)
# A fixed timestamp makes the same evidence produce the same zip, byte for byte,
# so the bundle's own SHA-256 can be cited too.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class BundleError(ValueError):
    """A bundle could not be written because it would not verify."""


@dataclass(frozen=True)
class BundleEvent:
    leaf_index: int
    event: Mapping[str, Any]
    """The canonical event, as ``canonical.canonical_event`` returns it."""


@dataclass(frozen=True)
class LeafProof:
    leaf_index: int
    leaf_hash: bytes
    inclusion_proof: Sequence[bytes]


@dataclass(frozen=True)
class ReportHead:
    """Proof that ``current_version`` was the record's newest version at the checkpoint."""

    record_id: str
    current_version: int
    head_index: int
    head_proof: Sequence[bytes]


@dataclass(frozen=True)
class ConsistencyEntry:
    old_checkpoint: str
    """An older signed note from the same log and key."""
    proof: Sequence[bytes] = field(default_factory=list)


def build_bundle(
    events: Sequence[BundleEvent],
    proofs: Sequence[LeafProof],
    checkpoint_text: str,
    vkey: str,
    consistency: Sequence[ConsistencyEntry] = (),
    heads: Sequence[ReportHead] = (),
    readable: Mapping[str, bytes] | None = None,
) -> bytes:
    """The bundle as zip bytes. Pure: all hashes and proofs are computed by the caller.

    ``readable`` holds already-rendered reading aids by name (``READABLE_NAMES``):
    this module knows no labels, languages or time zones, the caller does. They
    are written in a fixed order, so the same inputs give the same zip.
    """
    checkpoint = parse_checkpoint_text(split_note(checkpoint_text)[0])
    extra = dict(readable or {})
    unknown = sorted(set(extra) - set(READABLE_NAMES))
    if unknown:
        raise ValueError(f"not a reading aid a bundle carries: {', '.join(unknown)}")
    lines = [
        rfc8785.dumps({"event": e.event, "leaf_index": e.leaf_index}) + b"\n"
        for e in sorted(events, key=lambda e: e.leaf_index)
    ]
    proofs_doc = {
        "format": FORMAT,
        "tree_size": checkpoint.size,
        "root_hash": checkpoint.root.hex(),
        "leaves": [
            {
                "leaf_index": p.leaf_index,
                "leaf_hash": p.leaf_hash.hex(),
                "inclusion_proof": [h.hex() for h in p.inclusion_proof],
            }
            for p in sorted(proofs, key=lambda p: p.leaf_index)
        ],
        "reports": [
            {
                "id": h.record_id,
                "current_version": h.current_version,
                "head_index": h.head_index,
                "head_proof": [x.hex() for x in h.head_proof],
            }
            for h in sorted(heads, key=lambda h: h.record_id)
        ],
        "consistency": [
            {"old_checkpoint": c.old_checkpoint, "proof": [h.hex() for h in c.proof]}
            for c in consistency
        ],
    }
    files = {
        README_NAME: readme_text(checkpoint.origin, vkey).encode("utf-8"),
        **{name: extra[name] for name in READABLE_NAMES if name in extra},
        EVENTS_NAME: b"".join(lines),
        PROOFS_NAME: (json.dumps(proofs_doc, indent=2, ensure_ascii=False) + "\n").encode(),
        CHECKPOINT_NAME: checkpoint_text.encode("utf-8"),
        PUBLIC_KEY_NAME: (vkey.strip() + "\n").encode("utf-8"),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def write_bundle(
    path: str | os.PathLike[str],
    events: Sequence[BundleEvent],
    proofs: Sequence[LeafProof],
    checkpoint_text: str,
    vkey: str,
    consistency: Sequence[ConsistencyEntry] = (),
    heads: Sequence[ReportHead] = (),
    *,
    check: bool = True,
    readable: Mapping[str, bytes] | None = None,
) -> None:
    """Write a bundle to ``path``, after checking it the way a lawyer's verifier will.

    A bundle that fails its own verification is never written (``BundleError``):
    handing a lawyer evidence that looks tampered with is worse than an error here.
    The file appears atomically, so a crash never leaves half a bundle behind.
    """
    data = build_bundle(events, proofs, checkpoint_text, vkey, consistency, heads, readable)
    if check:
        from courtwatch.transparency.verify import verify_bundle  # verify imports this module

        report = verify_bundle(data, expected_vkey=vkey)
        if not report.ok:
            raise BundleError(
                "refusing to write a bundle that does not verify:\n- "
                + "\n- ".join(report.problems)
            )
    write_atomically(Path(path), data)


def write_atomically(target: Path, data: bytes) -> None:
    """A whole bundle or none: a crash never leaves half of one where a whole one
    was expected (written next to it, synced, then renamed over it)."""
    fd, tmp = tempfile.mkstemp(prefix=".bundle-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def readme_text(origin: str, vkey: str) -> str:
    """README.txt: what this is first, for a lawyer; the by-hand proof steps last."""
    try:
        fingerprint = parse_vkey(vkey).fingerprint()
    except ValueError:
        fingerprint = "(the key is malformed)"
    return _README_HEAD.format(origin=origin, vkey=vkey.strip(), fingerprint=fingerprint) + README


_README_HEAD = """\
COURTWATCH EVIDENCE BUNDLE
==========================

What this is
------------
Records copied from the courtwatch transparency log, with the proof that each
one is exactly as it was logged and that no version of the reports in it was
left out. Read them in record.html (open it in any browser). If anyone -
including the people who run courtwatch - changed, back-dated or deleted a
record after it was logged, the check below fails.

The log that signed it
----------------------
  Log (origin):     {origin}
  Public key:       {vkey}
  Key fingerprint:  {fingerprint}

Compare the fingerprint with the one the operator publishes on its /log page
(or in court filings, or past bundles), character for character. The key in
this zip proves nothing by itself: whoever forged records could also replace it.

How to check it
---------------
1. Open verify.html (in this folder) in a browser; no internet is needed.
2. Drop this zip (or the unzipped files) onto the page. It says VERIFIED, or
   names exactly which record or file failed.
3. Check that the fingerprint it shows is the published one.

Or, with courtwatch installed (no internet or database needed):

    courtwatch verify --key "PUBLISHED KEY" --origin "LOG ORIGIN" BUNDLE.zip

(or python -m courtwatch.transparency.verify from a copy of the source).

Files
-----
  record.html     the records in words (a reading aid; the proof covers
                  events.jsonl, which it is rendered from)
  record.pdf      the same, as a PDF
  verify.html     the browser verifier
  events.jsonl    the records, one per line
  proofs.json     each record's fingerprint ("leaf hash") and its proof
  checkpoint.txt  the operator's signed statement: "the log had N records and
                  its fingerprint (root hash) was R"
  public-key.txt  the key that signed the checkpoint
  refresh.json    (only in a refreshed bundle) a newer checkpoint of the log
                  and the proof that it contains this one unchanged

An old bundle can be tied to the log as it is today, its files unchanged:
    courtwatch bundle refresh BUNDLE.zip --out REFRESHED.zip --url SITE

"""

# The engineer's part of README.txt, after the lawyer's (``readme_text``).
README = """\
How to verify by hand (for an expert witness)
---------------------------------------------
Everything uses SHA-256, Ed25519 and published standards: RFC 9162 (Merkle
trees), RFC 8785 (canonical JSON), C2SP tlog-checkpoint and signed-note.
"||" means "followed by"; 0x00 and 0x01 are single bytes.

1. Record bytes. Each line of events.jsonl is RFC 8785 canonical JSON of
   {"event": E, "leaf_index": n}, ending with one newline (0x0A). The record's
   bytes are exactly the bytes of the line between {"event": and
   ,"leaf_index": - taken as they are, never re-formatted. A line that is
   not exactly canonical (an extra space, another member order, an escaped
   character RFC 8785 writes plainly) is refused by the verifier too, so the
   by-hand check and the program always agree. E has the members id,
   version, topic, timestamp and payload (or id, version, topic and
   undecodable_state if the stored record could not be read as JSON).

2. Leaf hash. leaf_hash = SHA-256(0x00 || record bytes). It must equal the
   "leaf_hash" (hex) given for leaf n in proofs.json.

3. Inclusion proof (RFC 9162 section 2.1.3.2). Let N be the tree size in
   checkpoint.txt, r = leaf_hash, fn = n, sn = N - 1. For each hash p in
   "inclusion_proof", in order:
     - if sn is 0, the proof is invalid;
     - if fn is odd or fn = sn: r = SHA-256(0x01 || p || r), then, while fn is
       even and not 0, halve fn and sn (rounding down);
     - otherwise: r = SHA-256(0x01 || r || p);
     - then halve fn and sn (rounding down).
   At the end sn must be 0 and r must equal the root hash of the checkpoint.

4. Checkpoint. checkpoint.txt is the text
       <log name>
       <tree size N>
       <root hash, base64>
   (then extension lines, such as the one in step 5),
   then an empty line, then signature lines "— <key name> <base64>". The
   signed message is the text up to and including the newline before the
   empty line. The base64 decodes to 4 bytes of key ID followed by a 64-byte
   Ed25519 signature of that message. public-key.txt reads
   <key name>+<key ID hex>+<base64 of 0x01 || 32-byte Ed25519 public key>,
   and the key ID is the first 4 bytes of
   SHA-256(key name || 0x0A || 0x01 || public key).

5. Nothing left out. The checkpoint's extension line
       courtwatch-report-heads <count> <root, base64>
   commits, for every record in the log at that size, to its newest version:
   the RFC 9162 tree (step 3's method, with this count and root) over the
   entries "<record id> <version>" (ASCII), sorted by record id. For each
   entry of "reports" in proofs.json, hash "<id> <current_version>" as in
   step 2 and check "head_proof" at position "head_index". Then events.jsonl
   must hold that record's versions 1, 2, ... current_version, each exactly
   once. A bundle missing any of them - even the last - fails here.

6. Older checkpoints. Each entry of "consistency" in proofs.json holds an
   older signed checkpoint and an RFC 9162 section 2.1.4.2 consistency proof
   that the bundled checkpoint's log is that older log plus later records
   only: nothing in the older one was changed or removed.

7. Refreshed bundles. refresh.json, if present, holds {"format":
   "courtwatch-bundle-refresh-v1", "checkpoint": a newer signed checkpoint of
   the same log and key (with witness cosignature lines), "consistency_proof":
   [hex, ...]}: an RFC 9162 section 2.1.4.2 proof from checkpoint.txt's size
   and root to the newer one's. Its size must not be smaller.

A short Python script for step 2 and 3, using only the standard library:

    import hashlib, json
    H = lambda b: hashlib.sha256(b).digest()
    def root_from_proof(leaf_hash, n, N, proof):
        fn, sn, r = n, N - 1, leaf_hash
        for p in proof:
            assert sn > 0, "proof too long"
            if fn % 2 == 1 or fn == sn:
                r = H(b"\\x01" + p + r)
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn // 2, sn // 2
            else:
                r = H(b"\\x01" + r + p)
            fn, sn = fn // 2, sn // 2
        assert sn == 0, "proof too short"
        return r

    line = open("events.jsonl", "rb").readline()
    record = line[len(b'{"event":'):line.rindex(b',"leaf_index":')]
    print(H(b"\\x00" + record).hex())   # compare with proofs.json
"""
