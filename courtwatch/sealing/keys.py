"""The organisation's sealing key pair.

The public key seals (every web process has it); the private key unseals and
lives in one file: under the data folder by default, or only on a lawyer's
machine. The file holds the raw X25519 private key as PKCS#8 PEM and must not
be readable by group or others: a key file anyone on the server can read is
refused rather than used.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

PUBLIC_PREFIX = "cwseal1:"


class SealingKeyError(ValueError):
    """A key file or public key text courtwatch cannot use (said in one sentence)."""


def generate() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_bytes(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: X25519PublicKey) -> str:
    """Names a key pair in envelopes and on screens; 16 hex digits of SHA-256."""
    return hashlib.sha256(b"courtwatch-sealing-key\x00" + public_bytes(key)).hexdigest()[:16]


def public_text(key: X25519PublicKey) -> str:
    return PUBLIC_PREFIX + base64.urlsafe_b64encode(public_bytes(key)).decode().rstrip("=")


def parse_public_text(text: str) -> X25519PublicKey:
    text = text.strip()
    if not text.startswith(PUBLIC_PREFIX):
        raise SealingKeyError(f"a sealing public key starts with {PUBLIC_PREFIX}")
    body = text[len(PUBLIC_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return X25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise SealingKeyError("not a sealing public key (32 bytes, base64url)") from None


def write_private_key(path: Path, key: X25519PrivateKey) -> None:
    """Create ``path`` with mode 0600 (never overwrite an existing key: it may be the only copy)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())


def read_private_key(path: Path) -> X25519PrivateKey:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as error:
        raise SealingKeyError(f"cannot read the unsealing key {path}: {error.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SealingKeyError(
            f"the unsealing key {path} is readable by others (mode {stat.S_IMODE(mode):o}): "
            "chmod 600 it"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SealingKeyError(f"{path} is not an unsealing key") from None
    if not isinstance(key, X25519PrivateKey):
        raise SealingKeyError(f"{path} is not an X25519 unsealing key")
    return key
