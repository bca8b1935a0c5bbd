"""Refreshing an old bundle: tie its checkpoint to a newer (witnessed) one.

A bundle proves its records against the checkpoint it was made with. Years
later a court may ask whether that checkpoint is still part of the log everyone
sees today. A *refreshed* bundle answers without touching the evidence: every
file of the original bundle is kept byte for byte (so the proofs, and the
checkpoint a filing cited, stay exactly what they were), and one file is added::

    refresh.json   {"format": "courtwatch-bundle-refresh-v1",
                    "checkpoint": <the newer signed note, with the witnesses'
                                   cosignature lines>,
                    "consistency_proof": [hex, ...]}

The consistency proof (RFC 9162 section 2.1.4.2) shows that the newer log is the
bundle's log plus later records only. Both verifiers check that the newer
checkpoint is signed by the same key, names the same log, is not smaller, and
that the proof holds; witness keys given to a verifier are then required on the
*newer* checkpoint (an old bundle may predate the witnesses). Refreshing again
replaces refresh.json: it always ties the original checkpoint to the newest.

Standard library, ``cryptography`` and ``rfc8785`` only: the offline verifier
imports this module.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence

from courtwatch.transparency.bundle import _ZIP_DATE, CHECKPOINT_NAME
from courtwatch.transparency.checkpoint import parse_checkpoint_text, split_note
from courtwatch.transparency.merkle import verify_consistency

REFRESH_NAME = "refresh.json"
REFRESH_FORMAT = "courtwatch-bundle-refresh-v1"


class RefreshError(ValueError):
    """The bundle cannot be refreshed with what was given."""


def refresh_document(newer_note: str, proof: Sequence[bytes]) -> bytes:
    """refresh.json's bytes: the same inputs give the same bytes."""
    doc = {
        "format": REFRESH_FORMAT,
        "checkpoint": newer_note,
        "consistency_proof": [h.hex() for h in proof],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def bundle_checkpoint(bundle: bytes) -> str:
    """The signed note a bundle's proofs lead to (its checkpoint.txt)."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
            return zf.read(CHECKPOINT_NAME).decode("utf-8")
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError, ValueError, OSError) as e:
        raise RefreshError(f"cannot read {CHECKPOINT_NAME} from the bundle: {e}") from None


def refresh_bundle(bundle: bytes, newer_note: str, proof: Sequence[bytes]) -> bytes:
    """The bundle with refresh.json set to ``newer_note`` and ``proof``.

    Every other file keeps its bytes and its place; the zip is written as
    ``build_bundle`` writes one (fixed dates, deflate), so the same old bundle and
    the same newer checkpoint give the same refreshed zip, byte for byte. The
    proof is checked here too: a refresh that would not verify is never written.
    """
    old = parse_checkpoint_text(split_note(bundle_checkpoint(bundle))[0])
    new = parse_checkpoint_text(split_note(newer_note)[0])
    if new.origin != old.origin:
        raise RefreshError(f"the newer checkpoint is for log {new.origin!r}, not {old.origin!r}")
    if new.size < old.size:
        raise RefreshError(
            f"the newer checkpoint ({new.size} records) is smaller than the bundle's ({old.size})"
        )
    verify_consistency(old.size, new.size, old.root, new.root, list(proof))
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        kept = [(i.filename, zf.read(i)) for i in zf.infolist() if i.filename != REFRESH_NAME]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, data in [*kept, (REFRESH_NAME, refresh_document(newer_note, proof))]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    return buffer.getvalue()
