"""Salted SHA-256 commitments to sealed values, carried by the public event.

A commitment is public forever (it is a leaf of the transparency log), so it
must not let anyone test a guess: a name or an A-number has little entropy. The
salt is 32 random bytes, sealed with the value and never public unless a
lawyer discloses it. The report id and the field name are hashed in too, so a
disclosed value and salt prove one field of one report and nothing else.

    commitment = SHA-256( "courtwatch-sealed-commitment/1" 0x00
                          || report id (16 bytes)
                          || field name (ASCII) 0x00
                          || salt (32 bytes)
                          || value (UTF-8) )

written as 64 lowercase hex digits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from uuid import UUID

DOMAIN = b"courtwatch-sealed-commitment/1\x00"
SALT_BYTES = 32


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def commitment(report_id: UUID, field: str, salt: bytes, value: str) -> str:
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a salt is {SALT_BYTES} bytes")
    if not field.isascii() or "\x00" in field:
        raise ValueError("a field name is plain ASCII")
    digest = hashlib.sha256()
    digest.update(DOMAIN)
    digest.update(report_id.bytes)
    digest.update(field.encode("ascii") + b"\x00")
    digest.update(salt)
    digest.update(value.encode("utf-8"))
    return digest.hexdigest()


def matches(report_id: UUID, field: str, salt: bytes, value: str, logged: str) -> bool:
    try:
        computed = commitment(report_id, field, salt, value)
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(computed, logged) if isinstance(logged, str) else False


def commitment_to_bytes(report_id: UUID, label: str, salt: bytes, data: bytes) -> str:
    """The same construction over raw bytes (a photo), ``label`` naming it (``photo:<id>``)."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a salt is {SALT_BYTES} bytes")
    digest = hashlib.sha256()
    digest.update(DOMAIN)
    digest.update(report_id.bytes)
    digest.update(label.encode("ascii") + b"\x00")
    digest.update(salt)
    digest.update(data)
    return digest.hexdigest()
