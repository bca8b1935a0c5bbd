"""Signed checkpoints: "this log had N entries and root hash R", signed with Ed25519.

Two public formats, so that existing transparency-log tools can read ours:

C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) — the note text is

    <origin>\\n<tree size in decimal>\\n<base64 root hash>\\n[<extension line>\\n]...

C2SP signed-note (https://c2sp.org/signed-note) — the text, one empty line, then
one line per signature::

    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature of the text)>

(``—`` is U+2014 EM DASH). The Ed25519 key ID is the first 4 bytes of
SHA-256(key name || 0x0A || 0x01 || 32-byte public key). A verifier key ("vkey")
is written ``<name>+<key ID as 8 hex digits>+<base64(0x01 || public key)>``; the
private key file uses the same shape as Go's ``golang.org/x/mod/sumdb/note``:
``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || 32-byte seed)>``.

Standard library + ``cryptography`` only: the offline verifier imports this.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from courtwatch.transparency.merkle import HASH_SIZE

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space
# signed-note lets verifiers refuse notes with too many signatures; this bounds work.
MAX_SIGNATURES = 100
_PRIVATE_PREFIX = "PRIVATE+KEY+"
# At most 20 digits (a u64, as C2SP tlog-checkpoint says): int() raises a plain
# ValueError beyond 4,300 digits, which escaped every caller that expects CheckpointError.
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
MAX_TREE_SIZE = 2**64 - 1


class CheckpointError(ValueError):
    """A checkpoint or key is malformed, or its signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The note text (the part that is signed)."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        return vkey_string(self.name, self.public_key)

    def fingerprint(self) -> str:
        return key_fingerprint(self.public_key)


@dataclass(frozen=True)
class SigningKey:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def vkey(self) -> str:
        return vkey_string(self.name, self.public_key)


# --- keys ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyKind:
    """How one kind of Ed25519 key is written: the log's own (signed-note type 0x01)
    or a witness's (cosignature/v1, type 0x04).

    Both use the same shapes, ``<name>+<key ID hex>+base64(type || key)`` and
    ``PRIVATE+KEY+`` before it for the seed; the type byte inside the key ID and the
    encoding is what keeps one from ever being taken for the other. Only that byte,
    the error raised and the words of the errors differ, so both kinds share one
    reader and one writer.
    """

    algorithm: int
    error: type[CheckpointError]
    private_name: str
    public_name: str
    damaged_private: str
    wrong_type: str

    def key_id(self, name: str, public_key: bytes) -> bytes:
        data = name.encode("utf-8") + b"\n" + bytes([self.algorithm]) + public_key
        return hashlib.sha256(data).digest()[:4]

    def vkey(self, name: str, public_key: bytes) -> str:
        _check_key_name(name)
        encoded = _b64(bytes([self.algorithm]) + public_key)
        return f"{name}+{self.key_id(name, public_key).hex()}+{encoded}"

    def private_string(self, name: str, private_key: Ed25519PrivateKey) -> str:
        seed = private_key.private_bytes_raw()
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        encoded = _b64(bytes([self.algorithm]) + seed)
        return f"{_PRIVATE_PREFIX}{name}+{self.key_id(name, public).hex()}+{encoded}"

    def parse_private(self, text: str) -> tuple[str, Ed25519PrivateKey]:
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise self.error(f"a private key must start with {_PRIVATE_PREFIX!r}")
        name, id_hex, raw = self._split(text[len(_PRIVATE_PREFIX) :], self.private_name)
        if len(raw) != 32:
            raise self.error(f"{self.private_name} seed is {len(raw)} bytes, expected 32")
        private_key = Ed25519PrivateKey.from_private_bytes(raw)
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if self.key_id(name, public).hex() != id_hex:
            raise self.error(f"{self.damaged_private}: its key ID does not match the key")
        return name, private_key

    def parse_public(self, text: str) -> tuple[str, bytes, bytes]:
        """``(name, key ID, public key)`` of a verifier key."""
        name, id_hex, raw = self._split(text.strip(), self.public_name)
        if len(raw) != 32:
            raise self.error(f"{self.public_name} is {len(raw)} bytes, expected 32")
        if self.key_id(name, raw).hex() != id_hex:
            raise self.error(
                f"{self.public_name} {text.strip()!r} is damaged: its key ID does not match the key"
            )
        return name, bytes.fromhex(id_hex), raw

    def _split(self, text: str, what: str) -> tuple[str, str, bytes]:
        parts = text.split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3:
            raise self.error(f"{what} must look like <name>+<key id hex>+<base64 key>")
        name, id_hex, encoded = parts
        _check_key_name(name)
        if not re.fullmatch(r"[0-9a-f]{8}", id_hex):
            raise self.error(
                f"the key ID in the {what} must be 8 lowercase hex digits, got {id_hex!r}"
            )
        raw = _unb64(encoded, what)
        if not raw or raw[0] != self.algorithm:
            raise self.error(f"{what} {self.wrong_type}")
        return name, id_hex, raw[1:]


NOTE_KEY = KeyKind(
    algorithm=ALG_ED25519,
    error=CheckpointError,
    private_name="private key",
    public_name="public key",
    damaged_private="private key file is damaged",
    wrong_type="is not an Ed25519 key (algorithm byte 0x01)",
)


def key_id(name: str, public_key: bytes) -> bytes:
    return NOTE_KEY.key_id(name, public_key)


def vkey_string(name: str, public_key: bytes) -> str:
    return NOTE_KEY.vkey(name, public_key)


def key_fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw public key, in groups of four hex digits to read aloud.

    The key ID is only 32 bits, too short to compare against a published key:
    anyone can make a key with a chosen ID.
    """
    digest = hashlib.sha256(public_key).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def generate_signing_key(name: str) -> SigningKey:
    _check_key_name(name)
    return SigningKey(name, Ed25519PrivateKey.generate())


def signing_key_string(key: SigningKey) -> str:
    return NOTE_KEY.private_string(key.name, key.private_key)


def parse_signing_key(text: str) -> SigningKey:
    return SigningKey(*NOTE_KEY.parse_private(text))


def save_signing_key(key: SigningKey, path: str | os.PathLike[str]) -> None:
    """Write the private key to a new file readable only by its owner.

    The file is created with mode 0600 in the same call that creates it (never
    chmod-ed afterwards), so there is no moment when others could read it, and an
    existing file is never overwritten: losing the old key would orphan every
    checkpoint it signed.
    """
    write_private_file(path, signing_key_string(key))


def write_private_file(path: str | os.PathLike[str], text: str) -> None:
    """A new file, mode 0600 from the call that creates it, never overwriting."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def read_private_file(
    path: str | os.PathLike[str], *, what: str, risk: str, error: type[Exception]
) -> str:
    """A private key file's text, refusing one that others can read (like ssh does)."""
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise error(
            f"{what} {os.fspath(path)!r} is accessible by other users "
            f"(mode {stat.filemode(mode)}); {risk}. Run: chmod 600 on it"
        )
    return Path(path).read_text(encoding="utf-8")


def load_signing_key(path: str | os.PathLike[str]) -> SigningKey:
    """Read a private key file, refusing one that others can read (like ssh does)."""
    text = read_private_file(
        path,
        what="private key",
        risk="anyone who reads it can forge checkpoints",
        error=CheckpointError,
    )
    return parse_signing_key(text)


def parse_vkey(text: str) -> VerifierKey:
    return VerifierKey(*NOTE_KEY.parse_public(text))


def _check_key_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")


def sign_checkpoint(
    origin: str, size: int, root: bytes, key: SigningKey, extensions: tuple[str, ...] = ()
) -> str:
    """The signed note for a checkpoint, ready to publish or put in a bundle."""
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    text = checkpoint.text()
    parse_checkpoint_text(text)  # never sign something our own verifier would reject
    signature = key.private_key.sign(text.encode("utf-8"))
    encoded = _b64(key_id(key.name, key.public_key) + signature)
    return f"{text}\n{SIGNATURE_PREFIX}{key.name} {encoded}\n"


def parse_and_verify_checkpoint(
    note: str, vkey: str | VerifierKey, origin: str | None = None
) -> Checkpoint:
    """The checkpoint in ``note``, if ``vkey`` signed it; ``CheckpointError`` otherwise.

    Pass ``origin`` to also insist on which log it is: a valid checkpoint of another
    log signed with the same key proves nothing about this one.
    """
    verifier = vkey if isinstance(vkey, VerifierKey) else parse_vkey(vkey)
    text, signatures = split_note(note)
    checkpoint = parse_checkpoint_text(text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(
            f"checkpoint is for log {checkpoint.origin!r}, not the expected {origin!r}"
        )
    try:
        public_key = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    except ValueError:
        raise CheckpointError(f"public key {verifier} is not a valid Ed25519 key") from None
    found = False
    for name, sig in signatures:
        # Notes may carry signatures from others (witnesses); those are ignored.
        if name != verifier.name or sig[:4] != verifier.key_id:
            continue
        if len(sig) != 4 + 64:
            raise CheckpointError(
                f"signature by {name} is {len(sig) - 4} bytes, an Ed25519 signature is 64"
            )
        try:
            public_key.verify(sig[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise CheckpointError(
                f"checkpoint signature does not verify with key {verifier}: "
                "the checkpoint was altered or signed by another key"
            ) from None
        found = True
    if not found:
        names = ", ".join(f"{name} ({sig[:4].hex()})" for name, sig in signatures)
        raise CheckpointError(
            f"checkpoint is not signed by key {verifier} "
            f"(key ID {verifier.key_id.hex()}); it carries signatures from: {names}"
        )
    return checkpoint


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Split a signed note into its text and ``(key name, key ID || signature)`` pairs.

    Nothing is verified here.
    """
    if not note.endswith("\n"):
        raise CheckpointError("malformed signed note: it must end with a newline")
    for ch in note:
        if ch != "\n" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            raise CheckpointError(
                f"malformed signed note: control character U+{ord(ch):04X} is not allowed"
            )
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed signed note: no empty line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise CheckpointError("malformed signed note: no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"malformed signed note: more than {MAX_SIGNATURES} signatures")
    signatures: list[tuple[str, bytes]] = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(
                f"malformed signed note: signature line {number} does not start with "
                f"'{SIGNATURE_PREFIX}' (em dash, space): {line!r}"
            )
        fields = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(fields) != 2 or not fields[0]:
            raise CheckpointError(
                f"malformed signed note: signature line {number} must be '— <name> <base64>'"
            )
        name, encoded = fields
        sig = _unb64(encoded, f"signature line {number}")
        if len(sig) < 5:
            raise CheckpointError(f"malformed signed note: signature line {number} is too short")
        signatures.append((name, sig))
    return text, signatures


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Parse a checkpoint body (``split_note``'s text). Nothing is verified here."""
    if not text.endswith("\n"):
        raise CheckpointError("malformed checkpoint: it must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(
            "malformed checkpoint: it needs an origin line, a tree size line "
            f"and a root hash line, but has {len(lines)} line(s)"
        )
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("malformed checkpoint: the origin line is empty")
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise CheckpointError(
            f"malformed checkpoint: tree size {size_text[:30]!r} is not a decimal number "
            "of at most 20 digits"
        )
    root = _unb64(root_text, "checkpoint root hash")
    if len(root) != HASH_SIZE:
        raise CheckpointError(
            f"malformed checkpoint: root hash is {len(root)} bytes, expected {HASH_SIZE}"
        )
    if any(not line for line in extensions):
        raise CheckpointError("malformed checkpoint: extension lines must not be empty")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not valid base64: {text!r}") from None
    # Only one spelling per value: a signed text has a single meaning.
    if _b64(raw) != text:
        raise CheckpointError(f"{what} is not canonical base64: {text!r}")
    return raw
