"""Sealing one report's details: a random data key, AEAD, the key wrapped for the organisation.

As ODK's encrypted forms do: the server that accepts a report needs only the
organisation's public key, and what it stores cannot be read without the
private key. Destroying the wrapped data key (redaction) makes the ciphertext
unreadable for everyone, the private key's holder included.

Layouts (version byte first, so a later format can be told apart):

- wrapped key: 0x01 || ephemeral X25519 public key (32) || nonce (12) ||
  ChaCha20-Poly1305(KEK, data key) (48); KEK = HKDF-SHA256(X25519(ephemeral,
  organisation), salt = ephemeral public || organisation public,
  info = "courtwatch-sealed-key/1" || report id).
- ciphertext: 0x01 || nonce (12) || ChaCha20-Poly1305(data key, plaintext,
  aad = "courtwatch-sealed/1" || report id); plaintext = RFC 8785 JSON
  ``{"fields": {name: {"salt": base64, "value": text}}}``.

The report id is bound in both, so a sealed part cannot be moved to another report.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

import rfc8785
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from courtwatch.sealing.commitments import SALT_BYTES, commitment, commitment_to_bytes, new_salt
from courtwatch.sealing.fields import SEALED_FIELDS
from courtwatch.sealing.keys import fingerprint, public_bytes

VERSION = b"\x01"
NONCE_BYTES = 12
DATA_KEY_BYTES = 32
WRAPPED_KEY_BYTES = 1 + 32 + NONCE_BYTES + DATA_KEY_BYTES + 16
_KEY_INFO = b"courtwatch-sealed-key/1"
_AAD = b"courtwatch-sealed/1"


class UnsealFailed(ValueError):
    """The sealed part cannot be opened: wrong key, damaged, or its data key was destroyed."""


@dataclass(frozen=True)
class Sealed:
    commitments: dict[str, str]
    """Field -> commitment, for every sealed field (empty ones too): the public event's part."""
    ciphertext: bytes
    wrapped_key: bytes
    key_fingerprint: str
    fields: tuple[str, ...]
    """The fields that hold a value (stored with the envelope, never public)."""


@dataclass(frozen=True)
class Opened:
    value: str
    salt: bytes


def _kek(shared: bytes, ephemeral: bytes, organisation: bytes, report_id: UUID) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral + organisation,
        info=_KEY_INFO + report_id.bytes,
    ).derive(shared)


def wrap_data_key(report_id: UUID, data_key: bytes, organisation: X25519PublicKey) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = public_bytes(ephemeral.public_key())
    kek = _kek(
        ephemeral.exchange(organisation), ephemeral_public, public_bytes(organisation), report_id
    )
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed_key = ChaCha20Poly1305(kek).encrypt(nonce, data_key, VERSION + report_id.bytes)
    return VERSION + ephemeral_public + nonce + sealed_key


def unwrap_data_key(report_id: UUID, wrapped: bytes | None, private: X25519PrivateKey) -> bytes:
    if not wrapped:
        raise UnsealFailed("the data key of this report was destroyed (redacted)")
    if len(wrapped) != WRAPPED_KEY_BYTES or wrapped[:1] != VERSION:
        raise UnsealFailed("the wrapped data key is damaged")
    ephemeral_public = wrapped[1:33]
    nonce = wrapped[33 : 33 + NONCE_BYTES]
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        kek = _kek(shared, ephemeral_public, public_bytes(private.public_key()), report_id)
        return ChaCha20Poly1305(kek).decrypt(
            nonce, wrapped[33 + NONCE_BYTES :], VERSION + report_id.bytes
        )
    except (InvalidTag, ValueError):
        raise UnsealFailed("this key does not unseal this report") from None


def seal(report_id: UUID, values: Mapping[str, str], organisation: X25519PublicKey) -> Sealed:
    """Seal ``values`` (sealed field -> text) for the holder of the organisation's private key."""
    unknown = set(values) - set(SEALED_FIELDS)
    if unknown:
        raise ValueError(f"not sealed fields: {sorted(unknown)}")
    # Every field is committed, empty or not: the public event does not say
    # which details were given (a name, an A-number), only that some were.
    salts = {name: new_salt() for name in SEALED_FIELDS}
    plain = {
        name: {"salt": base64.b64encode(salts[name]).decode(), "value": values.get(name, "")}
        for name in SEALED_FIELDS
    }
    data_key = secrets.token_bytes(DATA_KEY_BYTES)
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = ChaCha20Poly1305(data_key).encrypt(
        nonce, rfc8785.dumps({"fields": plain}), _AAD + report_id.bytes
    )
    return Sealed(
        commitments={
            name: commitment(report_id, name, salts[name], values.get(name, ""))
            for name in SEALED_FIELDS
        },
        ciphertext=VERSION + nonce + body,
        wrapped_key=wrap_data_key(report_id, data_key, organisation),
        key_fingerprint=fingerprint(organisation),
        fields=tuple(name for name in SEALED_FIELDS if values.get(name)),
    )


def reseal(report_id: UUID, kept: Mapping[str, Opened], organisation: X25519PublicKey) -> Sealed:
    """The sealed part without some fields, under a new data key.

    The kept fields keep their salts, so their logged commitments still hold;
    the dropped fields' values and salts exist nowhere any more.
    """
    plain = {
        name: {"salt": base64.b64encode(item.salt).decode(), "value": item.value}
        for name, item in kept.items()
    }
    data_key = secrets.token_bytes(DATA_KEY_BYTES)
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = ChaCha20Poly1305(data_key).encrypt(
        nonce, rfc8785.dumps({"fields": plain}), _AAD + report_id.bytes
    )
    return Sealed(
        commitments={},
        ciphertext=VERSION + nonce + body,
        wrapped_key=wrap_data_key(report_id, data_key, organisation),
        key_fingerprint=fingerprint(organisation),
        fields=tuple(name for name in SEALED_FIELDS if name in kept and kept[name].value),
    )


def open_sealed(report_id: UUID, ciphertext: bytes | None, data_key: bytes) -> dict[str, Opened]:
    if not ciphertext or ciphertext[:1] != VERSION or len(ciphertext) < 1 + NONCE_BYTES + 16:
        raise UnsealFailed("the sealed part is missing or damaged")
    try:
        plain = ChaCha20Poly1305(data_key).decrypt(
            ciphertext[1 : 1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES :], _AAD + report_id.bytes
        )
        fields = json.loads(plain)["fields"]
        return {
            name: Opened(value=item["value"], salt=base64.b64decode(item["salt"], validate=True))
            for name, item in fields.items()
        }
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise UnsealFailed("the sealed part does not open with its data key") from None


def unseal(
    report_id: UUID, ciphertext: bytes | None, wrapped: bytes | None, private: X25519PrivateKey
) -> dict[str, Opened]:
    return open_sealed(report_id, ciphertext, unwrap_data_key(report_id, wrapped, private))


@dataclass(frozen=True)
class SealedBlob:
    """One photo, sealed alone: its own data key, so photos can be added after the
    report (the server cannot unwrap the report's key) and erased with it."""

    commitment: str
    ciphertext: bytes
    wrapped_key: bytes


def _blob_aad(report_id: UUID, label: str) -> bytes:
    return _AAD + report_id.bytes + label.encode("ascii")


def seal_blob(
    report_id: UUID, label: str, data: bytes, organisation: X25519PublicKey
) -> SealedBlob:
    """Seal ``data``; the salt is sealed in front of it (first 32 bytes of the plaintext)."""
    salt = new_salt()
    data_key = secrets.token_bytes(DATA_KEY_BYTES)
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = ChaCha20Poly1305(data_key).encrypt(nonce, salt + data, _blob_aad(report_id, label))
    return SealedBlob(
        commitment=commitment_to_bytes(report_id, label, salt, data),
        ciphertext=VERSION + nonce + body,
        wrapped_key=wrap_data_key(report_id, data_key, organisation),
    )


def unseal_blob(
    report_id: UUID,
    label: str,
    ciphertext: bytes | None,
    wrapped: bytes | None,
    private: X25519PrivateKey,
) -> tuple[bytes, bytes]:
    """(salt, data) of a sealed blob."""
    data_key = unwrap_data_key(report_id, wrapped, private)
    if not ciphertext or ciphertext[:1] != VERSION or len(ciphertext) < 1 + NONCE_BYTES + 16:
        raise UnsealFailed("the sealed photo is missing or damaged")
    try:
        plain = ChaCha20Poly1305(data_key).decrypt(
            ciphertext[1 : 1 + NONCE_BYTES],
            ciphertext[1 + NONCE_BYTES :],
            _blob_aad(report_id, label),
        )
    except InvalidTag:
        raise UnsealFailed("the sealed photo does not open with its data key") from None
    return plain[:SALT_BYTES], plain[SALT_BYTES:]
