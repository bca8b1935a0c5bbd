"""The transparency log as stored in PostgreSQL: signing key, checkpoints, proofs.

The Merkle tree itself is written by ``projections.transparency``; this module
reads it. Every proof is one query (the colleague's ``*_plan`` functions list the
nodes, one ``unnest`` join fetches them). Checkpoints are signed C2SP notes kept
forever in ``log_checkpoints``: a lawyer may cite any of them years later.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg

from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.infrastructure.scheduler import Periodic
from courtwatch.transparency.checkpoint import SigningKey, sign_checkpoint
from courtwatch.transparency.heads import Heads, build_heads
from courtwatch.transparency.merkle import (
    ProofError,
    consistency_proof_from_nodes,
    consistency_proof_plan,
    inclusion_proof_from_nodes,
    inclusion_proof_plan,
    root_from_nodes,
    root_plan,
    verify_consistency,
)
from projections.transparency_log.keys import (
    SigningKeyUnavailable as SigningKeyUnavailable,
)
from projections.transparency_log.keys import (
    current_vkey,
    key_for_size,
    load_for_signing,
    registered_keys,
)
from projections.transparency_log.keys import key_path as key_path
from projections.transparency_log.projection import create_schema, fetch_nodes

log = logging.getLogger(__name__)

_PUBLISH_LOCK = 0x636F7572746C6F69  # serialises publishers across processes
_schema_ready: set[str] = set()
# Heads lists are the same forever for a given tree size: keep the last few, so a
# burst of bundle downloads does not rebuild one per request.
_heads_cache: dict[tuple[str, int], Heads] = {}
_HEADS_CACHE_SIZE = 4


class LogError(Exception):
    """The transparency log cannot answer: a leaf, size or checkpoint that does not exist."""


class AwaitingCheckpoint(Exception):
    """Nothing signed covers this yet; the signing process will publish one soon.

    The web process never signs: it answers 503 with ``Retry-After`` instead.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class LogInconsistent(Exception):
    """The stored tree no longer extends the last signed checkpoint: refuse to sign."""


@dataclass(frozen=True)
class CheckpointRecord:
    tree_size: int
    root_hash: bytes
    note: str
    published_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "published_at": self.published_at.isoformat(),
            "note": self.note,
        }


@dataclass(frozen=True)
class Leaf:
    leaf_index: int
    notification_id: int
    report_id: UUID
    version: int
    leaf_hash: bytes


# --- schema and key ------------------------------------------------------------------


def ensure_schema(database: Database) -> None:
    """Create the log tables if the projection has not run yet (once per process)."""
    if database.url in _schema_ready:
        return
    with database.connect() as conn, conn.transaction():
        create_schema(conn.cursor())
    _schema_ready.add(database.url)


def key_name(settings: Settings) -> str:
    # C2SP convention: the key is named after the log's origin line.
    return settings.log_origin


def signing_key(database: Database, settings: Settings) -> SigningKey:
    """The log's Ed25519 key, for the processes that sign (never the web process).

    Made on first use only; once the log has a key on record or a checkpoint, a
    missing or unusable key file raises ``SigningKeyUnavailable`` (see ``log_keys``).
    """
    with _connect(database) as conn, conn.transaction():
        return load_for_signing(conn, settings)


def check_signing_key(database: Database, settings: Settings) -> None:
    """At startup of anything that signs: fail now, in one line, not at the first checkpoint."""
    signing_key(database, settings)


def public_key(database: Database) -> str:
    """The verifier key (``name+id+base64``) on record: no private key needed."""
    with _connect(database) as conn:
        vkey = current_vkey(conn)
    if vkey is None:
        raise AwaitingCheckpoint("the log has no signing key yet: no checkpoint was signed", 60)
    return vkey


def key_of_checkpoint(database: Database, size: int) -> str:
    """The verifier key that signed the checkpoint of ``size`` leaves."""
    with _connect(database) as conn:
        key = key_for_size(registered_keys(conn), size)
    if key is None:
        raise AwaitingCheckpoint("the log has no signing key on record yet", 60)
    return key.vkey


# --- reading the tree ----------------------------------------------------------------


def _connect(database: Database) -> AbstractContextManager[psycopg.Connection]:
    ensure_schema(database)
    return database.pooled()


def tree_size(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves").fetchone()
    return int(row[0]) if row else 0


def root_at(conn: psycopg.Connection, size: int) -> bytes:
    return root_from_nodes(size, fetch_nodes(conn.cursor(), root_plan(size)))


def report_heads(conn: psycopg.Connection, size: int) -> Heads:
    """Each record's newest version among the first ``size`` leaves (see ``heads``)."""
    cache_key = (str(conn.info.dsn), size)
    cached = _heads_cache.get(cache_key)
    if cached is not None:
        return cached
    rows = conn.execute(
        "SELECT originator_id, max(originator_version) FROM log_leaves "
        "WHERE leaf_index < %s GROUP BY originator_id",
        (size,),
    ).fetchall()
    heads = build_heads((r[0], int(r[1])) for r in rows)
    while len(_heads_cache) >= _HEADS_CACHE_SIZE:
        _heads_cache.pop(next(iter(_heads_cache)))
    _heads_cache[cache_key] = heads
    return heads


def _leaf(row: tuple[Any, ...]) -> Leaf:
    return Leaf(int(row[0]), int(row[1]), row[2], int(row[3]), bytes(row[4]))


_LEAF_COLUMNS = "leaf_index, notification_id, originator_id, originator_version, leaf_hash"


def _one_row(database: Database, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    with _connect(database) as conn:
        return conn.execute(sql, params).fetchone()


def leaf_at(database: Database, leaf_index: int) -> Leaf:
    row = _one_row(
        database, f"SELECT {_LEAF_COLUMNS} FROM log_leaves WHERE leaf_index = %s", (leaf_index,)
    )
    if row is None:
        raise LogError(f"the log has no leaf {leaf_index}")
    return _leaf(row)


def leaf_for(database: Database, report_id: UUID, version: int) -> Leaf:
    row = _one_row(
        database,
        f"SELECT {_LEAF_COLUMNS} FROM log_leaves "
        "WHERE originator_id = %s AND originator_version = %s",
        (report_id, version),
    )
    if row is None:
        raise LogError(f"report {report_id} v{version} is not in the log (yet)")
    return _leaf(row)


def leaves_of(database: Database, report_id: UUID) -> list[Leaf]:
    with _connect(database) as conn:
        rows = conn.execute(
            f"SELECT {_LEAF_COLUMNS} FROM log_leaves WHERE originator_id = %s "
            "ORDER BY originator_version",
            (report_id,),
        ).fetchall()
    return [_leaf(r) for r in rows]


# --- checkpoints ---------------------------------------------------------------------

# The note as served and bundled: the log's signed note followed by every witness
# cosignature received for it (signed-note allows extra signature lines; verifiers
# ignore the ones they do not know).
_CHECKPOINT_COLUMNS = (
    "tree_size, root_hash, note || coalesce((SELECT string_agg(c.line, '' ORDER BY c.witness) "
    "FROM log_cosignatures c WHERE c.tree_size = log_checkpoints.tree_size), ''), published_at"
)


def _checkpoint(row: tuple[Any, ...]) -> CheckpointRecord:
    return CheckpointRecord(int(row[0]), bytes(row[1]), row[2], row[3])


def checkpoints(
    database: Database, after: int = 0, limit: int | None = None
) -> list[CheckpointRecord]:
    """Checkpoints with more than ``after`` leaves, oldest first (at most ``limit``)."""
    with _connect(database) as conn:
        rows = conn.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM log_checkpoints WHERE tree_size > %s "
            "ORDER BY tree_size LIMIT %s",
            (after, limit),
        ).fetchall()
    return [_checkpoint(r) for r in rows]


def latest_checkpoint(database: Database) -> CheckpointRecord | None:
    row = _one_row(
        database,
        f"SELECT {_CHECKPOINT_COLUMNS} FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1",
    )
    return _checkpoint(row) if row else None


def checkpoint_at(database: Database, size: int) -> CheckpointRecord:
    row = _one_row(
        database, f"SELECT {_CHECKPOINT_COLUMNS} FROM log_checkpoints WHERE tree_size = %s", (size,)
    )
    if row is None:
        raise LogError(f"no checkpoint was published at tree size {size}")
    return _checkpoint(row)


def covering_checkpoint(database: Database, leaf_index: int) -> CheckpointRecord | None:
    """The newest checkpoint that includes ``leaf_index`` (None: awaiting the next one)."""
    latest = latest_checkpoint(database)
    return latest if latest is not None and latest.tree_size > leaf_index else None


def publish_checkpoint(database: Database, settings: Settings) -> CheckpointRecord | None:
    """Sign the current tree if it grew since the last checkpoint; return the newest one.

    Before signing, the stored tree must extend the previous checkpoint (a
    consistency proof from the database that verifies): a rewritten tree is never
    signed, so a rewrite can only ever contradict an earlier signature.
    """
    with _connect(database) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PUBLISH_LOCK,))
        key = load_for_signing(conn, settings)
        row = conn.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1"
        ).fetchone()
        last = _checkpoint(row) if row else None
        size = tree_size(conn)
        if size == 0 or (last is not None and size <= last.tree_size):
            return last
        # Stored nodes never change once written, so the root of `size` computed
        # now is the same whatever the projection commits meanwhile.
        root = root_at(conn, size)
        if last is not None:
            proof = consistency_proof_from_nodes(
                last.tree_size,
                size,
                fetch_nodes(conn.cursor(), consistency_proof_plan(last.tree_size, size)),
            )
            try:
                verify_consistency(last.tree_size, size, last.root_hash, root, proof)
            except ProofError as e:
                raise LogInconsistent(
                    f"the stored tree of {size} leaves does not extend the checkpoint at "
                    f"{last.tree_size}: {e}. Run `courtwatch audit`"
                ) from None
        # The heads line makes every checkpoint say which version of each report was
        # current, so a bundle can prove that none of a report's events is missing.
        extension = report_heads(conn, size).extension()
        note = sign_checkpoint(settings.log_origin, size, root, key, (extension,))
        created = conn.execute(
            f"INSERT INTO log_checkpoints (tree_size, root_hash, note) VALUES (%s, %s, %s) "
            f"RETURNING {_CHECKPOINT_COLUMNS}",
            (size, root, note),
        ).fetchone()
        assert created is not None
    log.info("checkpoint published", extra={"tree_size": size, "root": root.hex()})
    return _checkpoint(created)


# --- proofs --------------------------------------------------------------------------


def inclusion(database: Database, leaf_index: int, size: int) -> list[bytes]:
    """Inclusion proof of ``leaf_index`` in the tree of ``size`` leaves (one query)."""
    with _connect(database) as conn:
        _check_size(conn, size)
        if not 0 <= leaf_index < size:
            raise LogError(f"leaf {leaf_index} is not in a tree of {size} leaves")
        nodes = fetch_nodes(conn.cursor(), inclusion_proof_plan(leaf_index, size))
    return inclusion_proof_from_nodes(leaf_index, size, nodes)


def inclusions(database: Database, leaf_indexes: list[int], size: int) -> dict[int, list[bytes]]:
    """Several inclusion proofs against one size, still one query (for bundles)."""
    plans = {i: inclusion_proof_plan(i, size) for i in leaf_indexes}
    union = list(dict.fromkeys(node for plan in plans.values() for node in plan))
    with _connect(database) as conn:
        _check_size(conn, size)
        nodes = fetch_nodes(conn.cursor(), union)
    return {i: inclusion_proof_from_nodes(i, size, nodes) for i in leaf_indexes}


def consistency(database: Database, size1: int, size2: int) -> list[bytes]:
    """Consistency proof that the tree of ``size2`` leaves extends the one of ``size1``."""
    if not 0 < size1 <= size2:
        raise LogError(
            f"no consistency proof from {size1} to {size2} leaves: need 0 < first <= second"
        )
    with _connect(database) as conn:
        _check_size(conn, size2)
        nodes = fetch_nodes(conn.cursor(), consistency_proof_plan(size1, size2))
    return consistency_proof_from_nodes(size1, size2, nodes)


def _check_size(conn: psycopg.Connection, size: int) -> None:
    if size < 1 or size > tree_size(conn):
        raise LogError(f"the log has no tree of {size} leaves")


# --- scheduled publishing ------------------------------------------------------------


class CheckpointScheduler(Periodic):
    """Publishes a checkpoint every ``checkpoint_interval_seconds`` when the tree grew."""

    def __init__(self, database: Database, settings: Settings) -> None:
        super().__init__(
            "checkpoints",
            settings.checkpoint_interval_seconds,
            lambda: publish_checkpoint(database, settings),
        )
