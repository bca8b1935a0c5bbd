"""cosignature/v1 (C2SP tlog-cosignature): key IDs, the signed message, round trips."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from courtwatch.transparency.checkpoint import (
    generate_signing_key,
    key_id,
    parse_and_verify_checkpoint,
    sign_checkpoint,
    split_note,
)
from courtwatch.transparency.cosignature import (
    CosignatureError,
    CosigningKey,
    add_cosignature_lines,
    cosign,
    cosigner_key_id,
    generate_cosigning_key,
    load_cosigning_key,
    parse_cosigner_vkey,
    parse_cosigning_key,
    save_cosigning_key,
    signed_message,
    verify_cosignatures,
)

# RFC 8032 section 7.1, TEST 1: a published Ed25519 seed and its public key.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def rfc_key(name: str = "witness.example/w1") -> CosigningKey:
    return CosigningKey(name, Ed25519PrivateKey.from_private_bytes(RFC8032_SEED))


def test_key_id_is_sha256_of_name_newline_type_0x04_and_key() -> None:
    name = "witness.example/w1"
    expected = hashlib.sha256(name.encode() + b"\n\x04" + RFC8032_PUBLIC).digest()[:4]
    assert rfc_key().public_key == RFC8032_PUBLIC
    assert cosigner_key_id(name, RFC8032_PUBLIC) == expected
    # A log key (type 0x01) of the same name and key material has another ID.
    assert key_id(name, RFC8032_PUBLIC) != expected
    vkey = rfc_key().vkey
    assert vkey == f"{name}+{expected.hex()}+" + base64.b64encode(b"\x04" + RFC8032_PUBLIC).decode()
    assert parse_cosigner_vkey(vkey).public_key == RFC8032_PUBLIC


def test_signed_message_is_the_spec_example() -> None:
    # The message printed in c2sp.org/tlog-cosignature, "Ed25519 signed message".
    assert signed_message(BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_the_spec_example_line_has_our_layout() -> None:
    # The cosignature line in the spec's example note: key ID, then the u64 timestamp
    # of its example message, then 64 signature bytes.
    blob = base64.b64decode(
        "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
    )
    assert len(blob) == 4 + 8 + 64
    assert int.from_bytes(blob[4:12], "big") == 1679315147


def test_known_answer_with_the_rfc8032_key() -> None:
    # Ed25519 is deterministic: this line must never change (pins the wire layout).
    line = cosign(BODY, rfc_key(), 1679315147)
    blob = base64.b64decode(line.split(" ")[2])
    assert line.startswith("\u2014 witness.example/w1 ")
    assert blob[:4] == cosigner_key_id("witness.example/w1", RFC8032_PUBLIC)
    assert blob[4:12] == (1679315147).to_bytes(8, "big")
    expected_sig = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED).sign(
        signed_message(BODY, 1679315147)
    )
    assert blob[12:] == expected_sig


def test_round_trip_on_a_real_checkpoint_and_tampering() -> None:
    log_key = generate_signing_key("court.example/log")
    note = sign_checkpoint("court.example/log", 5, b"\x01" * 32, log_key, ("ext 1",))
    w1, w2 = generate_cosigning_key("w1.example/w"), generate_cosigning_key("w2.example/w")
    text, _ = split_note(note)
    cosigned = add_cosignature_lines(note, [cosign(text, w1, 100), cosign(text, w2, 200)])
    # The log's own signature still verifies with cosignature lines present.
    parse_and_verify_checkpoint(cosigned, log_key.vkey)
    found, problems = verify_cosignatures(cosigned, [w1.verifier(), w2.verifier()])
    assert problems == []
    assert sorted((c.witness.name, c.timestamp) for c in found) == [
        ("w1.example/w", 100),
        ("w2.example/w", 200),
    ]
    # Only known witnesses count; an unknown one is ignored, not an error.
    found, problems = verify_cosignatures(cosigned, [w1.verifier()])
    assert [c.witness.name for c in found] == ["w1.example/w"] and problems == []
    # An edited extension line breaks every cosignature (they cover it).
    edited = cosigned.replace("ext 1", "ext 2")
    found, problems = verify_cosignatures(edited, [w1.verifier(), w2.verifier()])
    assert found == [] and len(problems) == 2
    # A changed timestamp does too.
    name, blob = split_note(cosigned)[1][1]
    forged = bytearray(blob)
    forged[11] ^= 1
    line = f"\u2014 {name} {base64.b64encode(bytes(forged)).decode()}\n"
    found, problems = verify_cosignatures(note + line, [w1.verifier()])
    assert found == [] and "does not verify" in problems[0]
    # Adding the same line twice keeps one.
    assert add_cosignature_lines(cosigned, [cosign(text, w1, 100)]) == cosigned


def test_keys_round_trip_and_refuse_the_wrong_type(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = generate_cosigning_key("w.example/w")
    path = tmp_path / "w.key"
    save_cosigning_key(key, path)
    assert load_cosigning_key(path).vkey == key.vkey
    with pytest.raises(FileExistsError):
        save_cosigning_key(key, path)
    log_key = generate_signing_key("w.example/w")
    with pytest.raises(CosignatureError, match="0x04"):
        parse_cosigner_vkey(log_key.vkey)
    with pytest.raises(CosignatureError):
        parse_cosigning_key("PRIVATE+KEY+w+00000000+AAAA")
    with pytest.raises(CosignatureError):
        cosign(BODY, key, 0)
    with pytest.raises(CosignatureError):
        cosign(BODY, key, 2**63)
