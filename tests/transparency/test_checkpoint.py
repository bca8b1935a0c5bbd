"""Signed checkpoints: the operator's public, signed statement of the log's state.

A checkpoint is what a lawyer cites alongside a record. It must verify only with
the operator's key and only if not a single character was changed, and the
operator's private key must never be readable by anyone else on the server.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from courtwatch.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    SigningKey,
    generate_signing_key,
    key_id,
    load_signing_key,
    parse_and_verify_checkpoint,
    parse_vkey,
    save_signing_key,
    sign_checkpoint,
    split_note,
)

ORIGIN = "courtwatch.example.org/log"
ROOT = hashlib.sha256(b"some root").digest()


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key(ORIGIN)


@pytest.fixture(scope="module")
def note(key: SigningKey) -> str:
    return sign_checkpoint(ORIGIN, 1234, ROOT, key)


def test_a_signed_checkpoint_reads_back_with_the_operators_key(key: SigningKey, note: str) -> None:
    assert parse_and_verify_checkpoint(note, key.vkey) == Checkpoint(ORIGIN, 1234, ROOT)


def test_the_note_follows_c2sp_tlog_checkpoint_and_signed_note(key: SigningKey, note: str) -> None:
    # Checked against the specs by hand, so that other tlog tools can read our notes.
    body, signature_line = note.split("\n\n")
    assert body == f"{ORIGIN}\n1234\n{base64.b64encode(ROOT).decode()}"
    assert signature_line.startswith(f"\u2014 {ORIGIN} ")
    assert signature_line.endswith("\n") and signature_line.count("\n") == 1
    blob = base64.b64decode(signature_line.split(" ")[2])
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + key.public_key).digest()[:4]
    assert blob[:4] == expected_id == key_id(ORIGIN, key.public_key)
    Ed25519PublicKey.from_public_bytes(key.public_key).verify(blob[4:], (body + "\n").encode())

    name, id_hex, encoded = key.vkey.split("+", 2)
    assert (name, id_hex) == (ORIGIN, expected_id.hex())
    assert base64.b64decode(encoded) == b"\x01" + key.public_key


def test_extension_lines_are_signed_and_returned(key: SigningKey) -> None:
    note = sign_checkpoint(ORIGIN, 7, ROOT, key, extensions=("witnessed-by example",))
    assert parse_and_verify_checkpoint(note, key.vkey).extensions == ("witnessed-by example",)


def test_signatures_by_other_parties_are_ignored(key: SigningKey, note: str) -> None:
    # A witness may cosign: its signature line must not break our verification.
    witness = generate_signing_key("witness.example")
    cosigned = note + sign_checkpoint(ORIGIN, 1234, ROOT, witness).split("\n\n")[1]
    assert parse_and_verify_checkpoint(cosigned, key.vkey).size == 1234
    assert parse_and_verify_checkpoint(cosigned, witness.vkey).size == 1234


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda n: n.replace("1234", "1235", 1), "signature does not verify with key"),
        (lambda n: n.replace(ORIGIN, ORIGIN + "2", 1), "signature does not verify with key"),
        (lambda n: n.replace("\n\n", "\nextra\n\n", 1), "signature does not verify with key"),
        (lambda n: n[:-10] + "\n", "not valid base64|not canonical base64"),
        (lambda n: n.replace("\u2014", "-"), "does not start with"),
        (lambda n: n.rstrip("\n"), "must end with a newline"),
        (lambda n: n.replace("\n\n", "\n"), "no empty line|does not start with"),
        (lambda n: n.replace("1234", "01234", 1), "not a decimal number"),
        (lambda n: n.replace("1234", "-1", 1), "not a decimal number"),
        (lambda n: "\n".join(n.split("\n")[:1] + n.split("\n")[3:]), "needs an origin line"),
        (lambda n: n.replace("\n", "\r\n"), "control character"),
    ],
    ids=[
        "tree-size-changed",
        "origin-changed",
        "line-added",
        "signature-truncated",
        "hyphen-instead-of-em-dash",
        "no-final-newline",
        "no-blank-line",
        "leading-zero",
        "negative-size",
        "lines-missing",
        "crlf",
    ],
)
def test_a_tampered_checkpoint_is_rejected(
    key: SigningKey, note: str, edit: Callable[[str], str], message: str
) -> None:
    with pytest.raises(CheckpointError, match=message):
        parse_and_verify_checkpoint(edit(note), key.vkey)


def test_a_signature_cut_short_is_rejected(key: SigningKey, note: str) -> None:
    body, line = note.split("\n\n")
    name, encoded = line.rstrip("\n").split(" ")[1:]
    short = base64.b64encode(base64.b64decode(encoded)[:40]).decode()
    with pytest.raises(CheckpointError, match="is 36 bytes, an Ed25519 signature is 64"):
        parse_and_verify_checkpoint(f"{body}\n\n\u2014 {name} {short}\n", key.vkey)


def test_another_key_cannot_vouch_for_the_checkpoint(note: str) -> None:
    impostor = generate_signing_key(ORIGIN)  # same name, different key
    with pytest.raises(CheckpointError, match="is not signed by key"):
        parse_and_verify_checkpoint(note, impostor.vkey)


def test_a_forged_signature_under_our_key_id_is_rejected(key: SigningKey) -> None:
    # Same name and key ID as the real key, but signed by someone else.
    forger = generate_signing_key(ORIGIN)
    forged = sign_checkpoint(ORIGIN, 1, ROOT, forger)
    body, line = forged.split("\n\n")
    name, encoded = line.rstrip("\n").split(" ")[1:]
    blob = key_id(ORIGIN, key.public_key) + base64.b64decode(encoded)[4:]
    note = f"{body}\n\n\u2014 {name} {base64.b64encode(blob).decode()}\n"
    with pytest.raises(CheckpointError, match="signature does not verify with key"):
        parse_and_verify_checkpoint(note, key.vkey)


def test_the_checkpoint_must_be_for_the_expected_log(key: SigningKey, note: str) -> None:
    with pytest.raises(CheckpointError, match=re.escape("not the expected 'other.example/log'")):
        parse_and_verify_checkpoint(note, key.vkey, origin="other.example/log")


def test_a_damaged_public_key_is_refused(key: SigningKey) -> None:
    name, id_hex, encoded = key.vkey.split("+", 2)
    with pytest.raises(CheckpointError, match="key ID does not match"):
        parse_vkey(f"{name}+{'0' * 8}+{encoded}")
    with pytest.raises(CheckpointError, match="must look like"):
        parse_vkey(name)
    with pytest.raises(CheckpointError, match="8 lowercase hex digits"):
        parse_vkey(f"{name}+ABCDEF01+{encoded}")
    other_algorithm = base64.b64encode(bytes([2]) + key.public_key).decode()
    with pytest.raises(CheckpointError, match="not an Ed25519 key"):
        parse_vkey(f"{name}+{id_hex}+{other_algorithm}")


def test_the_private_key_file_is_created_readable_only_by_its_owner(
    tmp_path: Path, key: SigningKey
) -> None:
    path = tmp_path / "log.key"
    old_umask = os.umask(0)  # even with a permissive umask, others get nothing
    try:
        save_signing_key(key, path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_signing_key(path)
    assert loaded.vkey == key.vkey
    assert path.read_text().startswith(f"PRIVATE+KEY+{ORIGIN}+")


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "log.key"
    save_signing_key(key, path)
    with pytest.raises(FileExistsError):
        save_signing_key(generate_signing_key(ORIGIN), path)
    assert load_signing_key(path).vkey == key.vkey


def test_a_key_file_others_can_read_is_refused(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "log.key"
    save_signing_key(key, path)
    path.chmod(0o644)
    with pytest.raises(CheckpointError, match="accessible by other users"):
        load_signing_key(path)


def test_signing_refuses_what_verification_would_reject(key: SigningKey) -> None:
    with pytest.raises(CheckpointError, match="origin line is empty"):
        sign_checkpoint("", 1, ROOT, key)
    with pytest.raises(CheckpointError, match="root hash is 31 bytes"):
        sign_checkpoint(ORIGIN, 1, ROOT[:31], key)
    with pytest.raises(CheckpointError, match="key name"):
        generate_signing_key("has space")


def test_split_note_returns_the_signed_text(note: str) -> None:
    text, signatures = split_note(note)
    assert text == note.split("\n\n")[0] + "\n"
    assert [name for name, _ in signatures] == [ORIGIN]
