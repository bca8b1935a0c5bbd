"""A transparency-log witness: C2SP tlog-witness ``add-checkpoint``, minus the HTTP.

A witness keeps, for each log it watches, the latest checkpoint it cosigned. A
new checkpoint is cosigned only if the log signed it and a consistency proof
shows it extends that one; otherwise it is refused, and that refusal is the
point: a log showing one court one history and another court another cannot get
both cosigned by the same witness.

Request body (https://c2sp.org/tlog-witness)::

    old <size of the checkpoint the client thinks the witness has>\\n
    <consistency proof hash, base64>\\n          (0 to 63 lines)
    \\n
    <signed checkpoint note>

Outcomes, each an HTTP status: 200 with cosignature lines; 400 malformed; 403 no
valid signature by a key trusted for the origin; 404 unknown origin; 409 the old
size is not the witness's (the body tells the right one); 422 the proof does not
verify, or a different root for the size already cosigned (a fork).

State lives in one JSON file in the witness's own folder, replaced atomically
(write a temporary file, fsync, rename, fsync the folder) under an exclusive
lock, so the check "old size is mine" and the update are one step even across
processes (the race the spec warns about would roll a log back).

Standard library + ``cryptography`` only.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from courtwatch.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    parse_and_verify_checkpoint,
    parse_checkpoint_text,
    split_note,
)
from courtwatch.transparency.cosignature import CosigningKey, add_cosignature_lines, cosign
from courtwatch.transparency.merkle import EMPTY_ROOT, HASH_SIZE, ProofError, verify_consistency

MAX_BODY_BYTES = 64 * 1024
MAX_PROOF_LINES = 63
# Tree sizes are u64 in the spec; bigger than 2^63 - 1 is nonsense for any real log.
MAX_TREE_SIZE = 2**63 - 1
_SIZE = re.compile(r"old (0|[1-9][0-9]{0,18})")
STATE_FILE = "witness-state.json"
_LOCK_FILE = "witness-state.lock"


class WitnessRefusal(Exception):
    """The witness will not cosign; ``status`` is the HTTP status the protocol asks for."""

    def __init__(self, status: int, reason: str, *, latest_size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.latest_size = latest_size
        self.origin: str | None = None
        self.size: int | None = None
        self.root: bytes | None = None
        self.note: str | None = None
        """Set when the log's signature verified: a signed contradiction is evidence."""


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


@dataclass(frozen=True)
class Cosigned:
    origin: str
    size: int
    root: bytes
    note: str
    """The log's checkpoint as verified (without the witness's own line)."""
    cosignature: str

    def published(self) -> str:
        """The note with this witness's cosignature, for the monitoring endpoint."""
        return add_cosignature_lines(self.note, [self.cosignature])


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an ``add-checkpoint`` body; ``WitnessRefusal(400)`` if it is malformed."""
    if len(body) > MAX_BODY_BYTES:
        raise WitnessRefusal(400, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRefusal(400, "the request body is not UTF-8") from None
    head, separator, note = text.partition("\n\n")
    if not separator:
        raise WitnessRefusal(400, "no empty line between the old size and proof and the note")
    lines = head.split("\n")
    match = _SIZE.fullmatch(lines[0])
    if match is None:
        raise WitnessRefusal(400, "the first line must be 'old <tree size in decimal>'")
    old_size = int(match.group(1))
    if old_size > MAX_TREE_SIZE:
        raise WitnessRefusal(400, "the old size is out of range")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for number, line in enumerate(lines[1:], start=1):
        try:
            value = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            value = b""
        if len(value) != HASH_SIZE or base64.b64encode(value).decode("ascii") != line:
            raise WitnessRefusal(400, f"consistency proof line {number} is not a base64 hash")
        proof.append(value)
    return AddCheckpoint(old_size, tuple(proof), note)


class WitnessState:
    """The latest cosigned checkpoint of each log, in one JSON file in ``folder``."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = self.folder / STATE_FILE
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, dict[str, object]]]:
        """The state, exclusively (threads and processes); a changed dict is saved on exit."""
        with self._lock, open(self.folder / _LOCK_FILE, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = self._read()
                before = json.dumps(state, sort_keys=True)
                yield state
                if json.dumps(state, sort_keys=True) != before:
                    self._write(state)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def latest(self, origin: str) -> Cosigned | None:
        with self.locked() as state:
            return _entry(origin, state.get(origin))

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict):
            raise ValueError(f"{self.path} is not a witness state file")
        return data

    def _write(self, state: Mapping[str, object]) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".state-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(state, f, sort_keys=True, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)  # the rename itself must survive a power cut
        finally:
            os.close(folder)


def _entry(origin: str, raw: object) -> Cosigned | None:
    if not isinstance(raw, dict):
        return None
    return Cosigned(
        origin,
        int(raw["size"]),
        base64.b64decode(raw["root"]),
        str(raw["note"]),
        str(raw.get("cosignature", "")),
    )


class Witness:
    """Checks and cosigns checkpoints of the ``logs`` it trusts (origin -> log key)."""

    def __init__(
        self,
        key: CosigningKey,
        logs: Mapping[str, VerifierKey],
        state: WitnessState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.logs = dict(logs)
        self.state = state
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> str:
        """Cosignature line(s) for the checkpoint in ``body``; ``WitnessRefusal`` otherwise."""
        request = parse_add_checkpoint(body)
        checkpoint = self._verified(request.note)
        refusal_context = (checkpoint.origin, checkpoint.size, checkpoint.root, request.note)
        try:
            return self._check_and_cosign(request, checkpoint)
        except WitnessRefusal as refusal:
            refusal.origin, refusal.size, refusal.root, refusal.note = refusal_context
            raise

    def _verified(self, note: str) -> Checkpoint:
        try:
            text, _ = split_note(note)
            checkpoint = parse_checkpoint_text(text)
        except CheckpointError as e:
            raise WitnessRefusal(400, f"the checkpoint is malformed: {e}") from None
        vkey = self.logs.get(checkpoint.origin)
        if vkey is None:
            raise WitnessRefusal(404, "this witness does not know that log")
        try:
            parse_and_verify_checkpoint(note, vkey, origin=checkpoint.origin)
        except CheckpointError as e:
            raise WitnessRefusal(403, f"the log's signature does not verify: {e}") from None
        if checkpoint.size > MAX_TREE_SIZE:
            raise WitnessRefusal(400, "the checkpoint's tree size is out of range")
        return checkpoint

    def _check_and_cosign(self, request: AddCheckpoint, checkpoint: Checkpoint) -> str:
        if request.old_size > checkpoint.size:
            raise WitnessRefusal(400, "the old size is larger than the checkpoint's size")
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            raise WitnessRefusal(422, "an empty tree must have the empty tree's root")
        with self.state.locked() as state:
            latest = _entry(checkpoint.origin, state.get(checkpoint.origin))
            latest_size = latest.size if latest is not None else 0
            if request.old_size != latest_size:
                raise WitnessRefusal(
                    409,
                    f"this witness last cosigned size {latest_size}, not {request.old_size}",
                    latest_size=latest_size,
                )
            if latest is None:
                if request.proof:
                    raise WitnessRefusal(422, "a proof from the empty tree must be empty")
            else:
                try:
                    verify_consistency(
                        latest.size, checkpoint.size, latest.root, checkpoint.root, request.proof
                    )
                except ProofError as e:
                    raise WitnessRefusal(
                        422,
                        f"not consistent with the checkpoint of size {latest.size} this "
                        f"witness cosigned: {e}",
                    ) from None
            text, _ = split_note(request.note)
            line = cosign(text, self.key, self._now())
            # Persisted before answering: the `with` saves on exit, before we return.
            state[checkpoint.origin] = {
                "size": checkpoint.size,
                "root": base64.b64encode(checkpoint.root).decode("ascii"),
                "note": request.note,
                "cosignature": line,
            }
            return line

    def _now(self) -> int:
        return max(1, int(self.clock()))
