"""Key rotation statements: "from tree size N on, the log's key is NEW", signed by OLD and NEW.

A log whose key silently changes has a new identity: nothing ties its later
checkpoints to the ones a court already saw. A deliberate rotation is therefore a
public statement in C2SP signed-note form, signed by *both* keys (signed-note
allows several signatures)::

    courtwatch-log-key-rotation
    <origin>
    old <old vkey>
    new <new vkey>
    after <tree size N>

    — <old key name> <base64 signature>
    — <new key name> <base64 signature>

Checkpoints of up to N leaves are signed by the old key, later ones by the new key.

Standard library + ``cryptography`` only.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from courtwatch.transparency.checkpoint import (
    SIGNATURE_PREFIX,
    CheckpointError,
    SigningKey,
    VerifierKey,
    key_id,
    parse_vkey,
    split_note,
)

HEADER = "courtwatch-log-key-rotation"
_SIZE = re.compile(r"0|[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class Rotation:
    origin: str
    old: VerifierKey
    new: VerifierKey
    after_size: int

    def text(self) -> str:
        return f"{HEADER}\n{self.origin}\nold {self.old}\nnew {self.new}\nafter {self.after_size}\n"


def sign_rotation(origin: str, old: SigningKey, new: SigningKey, after_size: int) -> str:
    rotation = Rotation(origin, parse_vkey(old.vkey), parse_vkey(new.vkey), after_size)
    text = rotation.text()
    lines = []
    for key in (old, new):
        signature = key.private_key.sign(text.encode("utf-8"))
        encoded = base64.b64encode(key_id(key.name, key.public_key) + signature).decode("ascii")
        lines.append(f"{SIGNATURE_PREFIX}{key.name} {encoded}\n")
    return text + "\n" + "".join(lines)


def parse_and_verify_rotation(note: str) -> Rotation:
    """The rotation in ``note`` if both the old and the new key signed it."""
    text, signatures = split_note(note)
    lines = text[:-1].split("\n")
    if len(lines) != 5 or lines[0] != HEADER:
        raise CheckpointError("malformed key rotation statement")
    origin, old_line, new_line, after_line = lines[1:]
    if not (old_line.startswith("old ") and new_line.startswith("new ")):
        raise CheckpointError("malformed key rotation statement: no old/new key lines")
    if not after_line.startswith("after ") or not _SIZE.fullmatch(after_line[6:]):
        raise CheckpointError("malformed key rotation statement: no 'after <tree size>' line")
    rotation = Rotation(
        origin, parse_vkey(old_line[4:]), parse_vkey(new_line[4:]), int(after_line[6:])
    )
    if rotation.text() != text:
        raise CheckpointError("malformed key rotation statement: not in canonical form")
    for key in (rotation.old, rotation.new):
        _verify(text, signatures, key)
    return rotation


def _verify(text: str, signatures: list[tuple[str, bytes]], key: VerifierKey) -> None:
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    for name, sig in signatures:
        if name == key.name and sig[:4] == key.key_id and len(sig) == 68:
            try:
                public.verify(sig[4:], text.encode("utf-8"))
                return
            except InvalidSignature:
                break
    raise CheckpointError(f"the key rotation statement is not signed by {key}")
