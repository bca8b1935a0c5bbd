"""Witness cosignatures on checkpoints: C2SP tlog-cosignature, ``cosignature/v1`` (Ed25519).

A cosignature is a witness's statement "as of time T, the largest tree of this log
that I have seen, and checked to be consistent with every earlier one I saw, has
this root". A checkpoint that several independent witnesses cosigned cannot be a
split view shown only to one court: the operator would have had to fool every
witness, each of which refuses a tree that contradicts one it already signed.

Format (https://c2sp.org/tlog-cosignature), a signed-note signature line::

    — <witness name> base64(key ID || u64 big-endian timestamp || Ed25519 signature)

Key ID: SHA-256(<name> || 0x0A || 0x04 || 32-byte public key)[:4] (signature type
0x04 of c2sp.org/signed-note). The Ed25519 signature covers::

    cosignature/v1\\n
    time <timestamp in decimal>\\n
    <the checkpoint's note text, extension lines included, final newline included>

A witness's verifier key is ``<name>+<key ID hex>+base64(0x04 || public key)``; its
private key file ``PRIVATE+KEY+<name>+<key ID hex>+base64(0x04 || seed)``, the
same shape as the log's key with the cosignature type byte, so one can never be
mistaken for the other.

Standard library + ``cryptography`` only: the offline verifier imports this.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from courtwatch.transparency.checkpoint import (
    SIGNATURE_PREFIX,
    CheckpointError,
    KeyKind,
    _b64,
    _check_key_name,
    parse_checkpoint_text,
    read_private_file,
    split_note,
    write_private_file,
)

ALG_COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1"
_PRIVATE_PREFIX = "PRIVATE+KEY+"
# The spec caps the timestamp at 2^63 - 1 (it is a u64 on the wire).
MAX_TIMESTAMP = 2**63 - 1
_SIGNATURE_BYTES = 4 + 8 + 64


class CosignatureError(CheckpointError):
    """A witness key or cosignature is malformed, or a cosignature does not verify."""


@dataclass(frozen=True)
class CosignerKey:
    """A witness's public key, as configured by whoever trusts that witness."""

    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        return cosigner_vkey(self.name, self.public_key)


@dataclass(frozen=True)
class CosigningKey:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def vkey(self) -> str:
        return cosigner_vkey(self.name, self.public_key)

    def verifier(self) -> CosignerKey:
        return CosignerKey(self.name, cosigner_key_id(self.name, self.public_key), self.public_key)


@dataclass(frozen=True)
class Cosignature:
    witness: CosignerKey
    timestamp: int
    line: str
    """The whole signature line, em dash to newline, as it goes into a note."""


# --- keys ----------------------------------------------------------------------------

_WITNESS_KEY = KeyKind(
    algorithm=ALG_COSIGNATURE_V1,
    error=CosignatureError,
    private_name="witness private key",
    public_name="witness public key",
    damaged_private="witness key file is damaged",
    wrong_type=(
        "is not a cosignature/v1 key (signature type 0x04); "
        "a log's checkpoint key (type 0x01) cannot cosign"
    ),
)


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    return _WITNESS_KEY.key_id(name, public_key)


def cosigner_vkey(name: str, public_key: bytes) -> str:
    return _WITNESS_KEY.vkey(name, public_key)


def generate_cosigning_key(name: str) -> CosigningKey:
    _check_key_name(name)
    return CosigningKey(name, Ed25519PrivateKey.generate())


def cosigning_key_string(key: CosigningKey) -> str:
    return _WITNESS_KEY.private_string(key.name, key.private_key)


def parse_cosigning_key(text: str) -> CosigningKey:
    return CosigningKey(*_WITNESS_KEY.parse_private(text))


def parse_cosigner_vkey(text: str) -> CosignerKey:
    return CosignerKey(*_WITNESS_KEY.parse_public(text))


def save_cosigning_key(key: CosigningKey, path: str | os.PathLike[str]) -> None:
    """A new 0600 file, never overwriting: a witness that loses its key loses its history."""
    write_private_file(path, cosigning_key_string(key))


def load_cosigning_key(path: str | os.PathLike[str]) -> CosigningKey:
    text = read_private_file(
        path,
        what="witness key",
        risk="anyone who reads it can cosign as this witness",
        error=CosignatureError,
    )
    return parse_cosigning_key(text)


# --- signing and verifying -----------------------------------------------------------


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The exact bytes a cosignature/v1 signature covers."""
    _check_timestamp(timestamp)
    return f"{HEADER}\ntime {timestamp}\n{checkpoint_text}".encode()


def cosign(checkpoint_text: str, key: CosigningKey, timestamp: int) -> str:
    """One signature line (ending in a newline) cosigning the checkpoint body."""
    parse_checkpoint_text(checkpoint_text)  # never cosign what is not a checkpoint
    signature = key.private_key.sign(signed_message(checkpoint_text, timestamp))
    blob = cosigner_key_id(key.name, key.public_key) + timestamp.to_bytes(8, "big") + signature
    return f"{SIGNATURE_PREFIX}{key.name} {_b64(blob)}\n"


def verify_cosignatures(
    note: str, witnesses: Iterable[CosignerKey]
) -> tuple[list[Cosignature], list[str]]:
    """(valid cosignatures by ``witnesses``, problems) for a signed checkpoint note.

    Signature lines by other keys (the log's own, unknown witnesses) are ignored,
    as signed-note requires. A line that names a known witness and its key ID but
    does not verify is reported as a problem: someone altered the note or forged it.
    Each witness counts once, however many lines it has.
    """
    text, signatures = split_note(note)
    by_id = {(w.name, w.key_id): w for w in witnesses}
    found: dict[str, Cosignature] = {}
    problems: list[str] = []
    for name, blob in signatures:
        witness = by_id.get((name, blob[:4]))
        if witness is None:
            continue
        try:
            timestamp = verify_one(text, witness, blob)
        except CosignatureError as e:
            problems.append(str(e))
            continue
        line = f"{SIGNATURE_PREFIX}{name} {_b64(blob)}\n"
        found.setdefault(str(witness), Cosignature(witness, timestamp, line))
    return list(found.values()), problems


def verify_one(checkpoint_text: str, witness: CosignerKey, blob: bytes) -> int:
    """The timestamp of one cosignature (key ID || timestamp || signature) by ``witness``."""
    if len(blob) != _SIGNATURE_BYTES:
        raise CosignatureError(
            f"cosignature by {witness.name} is {len(blob)} bytes, a cosignature/v1 is "
            f"{_SIGNATURE_BYTES}"
        )
    if blob[:4] != witness.key_id:
        raise CosignatureError(f"cosignature by {witness.name} has another key ID")
    timestamp = int.from_bytes(blob[4:12], "big")
    if timestamp > MAX_TIMESTAMP:
        raise CosignatureError(f"cosignature by {witness.name} has an impossible timestamp")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(witness.public_key)
        public_key.verify(blob[12:], signed_message(checkpoint_text, timestamp))
    except (InvalidSignature, ValueError):
        raise CosignatureError(
            f"the cosignature by witness {witness.name} does not verify: the checkpoint "
            "was altered after it was cosigned, or the cosignature was forged"
        ) from None
    return timestamp


def add_cosignature_lines(note: str, lines: Sequence[str]) -> str:
    """``note`` with the signature ``lines`` appended (each ending in a newline), no duplicates."""
    present = set(note.split("\n"))
    extra = [line for line in lines if line.rstrip("\n") not in present]
    return note + "".join(extra)


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise CosignatureError(f"a cosignature timestamp must be an integer, got {timestamp!r}")
    if not 0 < timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"cosignature timestamp {timestamp} is out of range")
