"""Collecting witness cosignatures for our checkpoints (C2SP tlog-witness, client side).

After the log signs a checkpoint, each configured witness is sent it with a
consistency proof from the last size that witness cosigned; the cosignature lines
it answers are checked against its key and stored in ``log_cosignatures``, from
where they are served appended to the checkpoint and carried by bundles.

Configuration: ``<COURTWATCH_DATA_DIR>/witnesses.txt``, one witness per line::

    <witness public key (name+keyid+base64, type 0x04)> <submission URL prefix>

It is re-read on every round, so adding a partner needs no restart.

Never in the way of reports: this runs on its own schedule in its own thread
(``WitnessCollector``), every request has a timeout, and a witness that is down,
slow or refusing is logged and asked again next round. A 409 answer names the
size the witness holds; we retry once from there. A witness that holds a size
larger than anything we signed, or refuses our checkpoint as inconsistent, is
logged as an error: either it was fed someone else's tree of our log, or ours
was rewritten, and both need a person.
"""

from __future__ import annotations

import base64
import http.client
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.infrastructure.scheduler import Periodic
from courtwatch.transparency.checkpoint import CheckpointError
from courtwatch.transparency.cosignature import (
    CosignerKey,
    parse_cosigner_vkey,
    verify_cosignatures,
)
from courtwatch.transparency.witness import MAX_PROOF_LINES
from projections.transparency_log.store import (
    CheckpointRecord,
    _connect,
    consistency,
    latest_checkpoint,
)

log = logging.getLogger(__name__)

WITNESSES_FILE = "witnesses.txt"
TIMEOUT_SECONDS = 10.0
MAX_ANSWER_BYTES = 64 * 1024
_SIZE_ANSWER = re.compile(rb"(0|[1-9][0-9]{0,18})\n")


@dataclass(frozen=True)
class WitnessEndpoint:
    key: CosignerKey
    url: str
    """The submission prefix: ``<url>/add-checkpoint`` is posted to."""


@dataclass(frozen=True)
class Outcome:
    witness: str
    status: str
    """"cosigned", "already", or what went wrong, in a few words."""


def witnesses_path(settings: Settings) -> Path:
    return settings.data_dir / WITNESSES_FILE


def configured_witnesses(settings: Settings) -> list[WitnessEndpoint]:
    """The witnesses in ``witnesses.txt`` (none if there is no such file)."""
    path = witnesses_path(settings)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2 or not fields[1].startswith(("http://", "https://")):
            raise ValueError(f"{path}:{number}: expected '<witness public key> <http(s) URL>'")
        found.append(WitnessEndpoint(parse_cosigner_vkey(fields[0]), fields[1].rstrip("/")))
    return found


def submission_body(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode("utf-8")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would become a GET elsewhere; a witness answers directly.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": "text/plain; charset=utf-8"}
    )
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return int(answer.status), answer.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as answer:
        return int(answer.code), answer.read(MAX_ANSWER_BYTES)


def _last_cosigned_size(database: Database, witness: CosignerKey) -> int:
    with _connect(database) as conn:
        row = conn.execute(
            "SELECT coalesce(max(tree_size), 0) FROM log_cosignatures WHERE witness = %s",
            (str(witness),),
        ).fetchone()
    return int(row[0]) if row else 0


def _has_cosignature(database: Database, witness: CosignerKey, size: int) -> bool:
    with _connect(database) as conn:
        row = conn.execute(
            "SELECT 1 FROM log_cosignatures WHERE witness = %s AND tree_size = %s",
            (str(witness), size),
        ).fetchone()
    return row is not None


def _store(database: Database, size: int, witness: CosignerKey, line: str, at: int) -> None:
    with _connect(database) as conn, conn.transaction():
        conn.execute(
            "INSERT INTO log_cosignatures (tree_size, witness, line, cosigned_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (size, str(witness), line, datetime.fromtimestamp(at, UTC)),
        )


def _proof(database: Database, old: int, size: int) -> list[bytes]:
    return consistency(database, old, size) if 0 < old < size else []


def submit(
    database: Database,
    endpoint: WitnessEndpoint,
    checkpoint: CheckpointRecord,
    timeout: float = TIMEOUT_SECONDS,
) -> Outcome:
    """Ask one witness to cosign ``checkpoint``; store its cosignature if it does."""
    name = endpoint.key.name
    if _has_cosignature(database, endpoint.key, checkpoint.tree_size):
        return Outcome(name, "already")
    old = _last_cosigned_size(database, endpoint.key)
    for attempt in range(2):
        if old > checkpoint.tree_size:
            log.error(
                "witness holds a larger tree of our log than we have signed",
                extra={"witness": name, "witness_size": old, "tree_size": checkpoint.tree_size},
            )
            return Outcome(name, f"witness holds size {old}")
        proof = _proof(database, old, checkpoint.tree_size)
        if len(proof) > MAX_PROOF_LINES:
            return Outcome(name, "proof too long")
        body = submission_body(old, proof, checkpoint.note)
        status, answer = _post(f"{endpoint.url}/add-checkpoint", body, timeout)
        if status == 409 and attempt == 0:
            match = _SIZE_ANSWER.fullmatch(answer)
            if match is None:
                log.warning("witness answered 409 without a size", extra={"witness": name})
                return Outcome(name, "HTTP 409")
            old = int(match.group(1))  # the witness's own size: prove from there
            continue
        if status != 200:
            level = logging.ERROR if status == 422 else logging.WARNING
            log.log(
                level,
                "witness did not cosign our checkpoint",
                extra={
                    "witness": name,
                    "status": status,
                    "old_size": old,
                    "tree_size": checkpoint.tree_size,
                    "answer": answer[:300].decode("utf-8", "replace"),
                },
            )
            return Outcome(name, f"HTTP {status}")
        return _accept(database, endpoint, checkpoint, answer)
    log.warning("witness answered 409 twice", extra={"witness": name})
    return Outcome(name, "HTTP 409")


def _accept(
    database: Database, endpoint: WitnessEndpoint, checkpoint: CheckpointRecord, answer: bytes
) -> Outcome:
    name = endpoint.key.name
    try:
        lines = answer.decode("utf-8")
        found, problems = verify_cosignatures(checkpoint.note + lines, [endpoint.key])
    except (UnicodeDecodeError, CheckpointError) as e:
        found, problems = [], [str(e)]
    if not found:
        log.warning(
            "witness answered without a valid cosignature",
            extra={"witness": name, "problems": problems[:3]},
        )
        return Outcome(name, "no valid cosignature")
    _store(database, checkpoint.tree_size, endpoint.key, found[0].line, found[0].timestamp)
    log.info("witness cosigned", extra={"witness": name, "tree_size": checkpoint.tree_size})
    return Outcome(name, "cosigned")


def collect_cosignatures(
    database: Database,
    settings: Settings,
    witnesses: Sequence[WitnessEndpoint] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> list[Outcome]:
    """One round: every configured witness is asked for the newest checkpoint."""
    endpoints = configured_witnesses(settings) if witnesses is None else list(witnesses)
    if not endpoints:
        return []
    checkpoint = latest_checkpoint(database)
    if checkpoint is None:
        return []
    outcomes = []
    for endpoint in endpoints:
        try:
            outcomes.append(submit(database, endpoint, checkpoint, timeout))
        # Down, unreachable, timed out, or not speaking HTTP: never the caller's problem.
        except (OSError, ValueError, http.client.HTTPException) as e:
            log.warning(
                "witness unreachable; will retry next round",
                extra={"witness": endpoint.key.name, "error": type(e).__name__},
            )
            outcomes.append(Outcome(endpoint.key.name, "unreachable"))
    return outcomes


class WitnessCollector(Periodic):
    """Asks the configured witnesses for cosignatures on the checkpoint schedule."""

    def __init__(self, database: Database, settings: Settings) -> None:
        super().__init__(
            "witnesses",
            settings.checkpoint_interval_seconds,
            lambda: collect_cosignatures(database, settings),
        )
