"""Evidence bundles from the database: one report's history, or the reports of a time range.

The events in a bundle are the canonical events of the *stored rows*, and their
leaf hashes are the ones recorded in the log. ``write_bundle`` re-verifies the
whole bundle before writing it, so a row edited since it was logged makes the
export fail loudly instead of handing a lawyer evidence that will not verify.

Completeness: a bundle holds *every* version of each report it names, from 1 to
the version current at the bundle's checkpoint, plus the proof of that current
version against the checkpoint's signed heads line (``transparency.heads``). A
time-range bundle therefore holds the whole history (up to the checkpoint) of
every report with an event in the range.

Who signs: only the CLI (``sign=True``) signs a fresh checkpoint. The web process
calls with ``sign=False`` and uses the newest checkpoint, or raises
``AwaitingCheckpoint`` (503 with Retry-After) until the signing process has
published one that covers the report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tqdm import tqdm

from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.infrastructure.event_log import EVENTS_TABLE
from courtwatch.transparency.bundle import BundleEvent, LeafProof, ReportHead, write_bundle
from courtwatch.transparency.canonical import canonical_event
from courtwatch.transparency.checkpoint import Checkpoint, parse_checkpoint_text, split_note
from courtwatch.transparency.heads import HeadsError, parse_heads_extension
from projections.transparency_log.store import (
    AwaitingCheckpoint,
    CheckpointRecord,
    LogError,
    inclusions,
    key_of_checkpoint,
    latest_checkpoint,
    publish_checkpoint,
    report_heads,
)

_ROWS = (
    "SELECT l.leaf_index, l.leaf_hash, e.originator_id, e.originator_version, e.topic, e.state "
    f"FROM log_leaves l JOIN {EVENTS_TABLE} e ON e.notification_id = l.notification_id "
)


ReadingAids = Callable[[Sequence[BundleEvent], Checkpoint, str], Mapping[str, bytes]]
"""(events, checkpoint, verifier key) -> record.html / verify.html bytes, rendered by a
layer that knows labels and languages (web/transparency/record.py); this one does not."""


@dataclass(frozen=True)
class Export:
    events: int
    checkpoint: CheckpointRecord
    pending: int
    """Events of the report not yet in a checkpoint (the projection is behind)."""


def export_bundle(
    database: Database,
    settings: Settings,
    path: str | os.PathLike[str],
    *,
    report_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: bool = False,
    sign: bool = True,
    reading_aids: ReadingAids | None = None,
) -> Export:
    """Write an evidence bundle for ``report_id``, or for the reports with events in [since, until).

    ``sign`` signs a checkpoint of the current tree first (the CLI). Without it the
    newest published checkpoint is used (the web process, which holds no key).
    """
    if (report_id is None) == (since is None and until is None):
        raise ValueError("export either one report or a time range")
    checkpoint = _checkpoint(database, settings, sign)
    size = checkpoint.tree_size
    if report_id is not None:
        selected, pending = _report_rows(database, report_id, size)
        if not selected:
            raise AwaitingCheckpoint(
                f"report {report_id} is newer than the last checkpoint ({size} records): "
                "a checkpoint covering it is published within "
                f"{settings.checkpoint_interval_seconds:.0f} s",
                settings.checkpoint_interval_seconds,
            )
    else:
        selected, pending = _range_rows(database, size, since, until, progress), 0
    if not selected:
        raise LogError("no logged events match: nothing to export")
    proofs = inclusions(database, [leaf for leaf, _, _ in selected], size)
    with database.pooled() as conn:
        heads = report_heads(conn, size)
    ids = sorted({str(event["id"]) for _, _, event in selected})
    try:
        claims = [ReportHead(rid, *_head(heads.proof(rid))) for rid in ids]
    except KeyError as e:  # cannot happen for rows below `size`; say so if it does
        raise LogError(f"record {e} is not in the heads list of checkpoint {size}") from None
    events = [BundleEvent(leaf, event) for leaf, _, event in selected]
    vkey = key_of_checkpoint(database, size)
    signed = parse_checkpoint_text(split_note(checkpoint.note)[0])
    write_bundle(
        path,
        events,
        [LeafProof(leaf, leaf_hash, proofs[leaf]) for leaf, leaf_hash, _ in selected],
        checkpoint.note,
        vkey,
        heads=claims,
        readable=reading_aids(events, signed, vkey) if reading_aids is not None else None,
    )
    return Export(len(selected), checkpoint, pending)


def _head(proof: tuple[int, int, list[bytes]]) -> tuple[int, int, list[bytes]]:
    position, version, path = proof
    return version, position, path


def _checkpoint(database: Database, settings: Settings, sign: bool) -> CheckpointRecord:
    checkpoint = publish_checkpoint(database, settings) if sign else latest_checkpoint(database)
    if checkpoint is None:
        if sign:
            raise LogError("the log is empty: nothing to export")
        raise AwaitingCheckpoint(
            "no checkpoint has been published yet; one is published within "
            f"{settings.checkpoint_interval_seconds:.0f} s of the first report",
            settings.checkpoint_interval_seconds,
        )
    try:
        extensions = parse_checkpoint_text(split_note(checkpoint.note)[0]).extensions
        has_heads = parse_heads_extension(extensions) is not None
    except (ValueError, HeadsError):
        has_heads = False
    if not has_heads:
        # Signed before checkpoints listed report heads: it cannot prove completeness.
        raise AwaitingCheckpoint(
            f"the newest checkpoint ({checkpoint.tree_size} records) predates report heads; "
            "the next one the signing process publishes will do",
            settings.checkpoint_interval_seconds,
        )
    return checkpoint


Selected = list[tuple[int, bytes, dict[str, Any]]]


def _report_rows(database: Database, report_id: UUID, size: int) -> tuple[Selected, int]:
    with database.connect() as conn:
        rows = conn.execute(
            _ROWS + "WHERE l.originator_id = %s AND l.leaf_index < %s ORDER BY l.leaf_index",
            (report_id, size),
        ).fetchall()
        row = conn.execute(
            f"SELECT count(*) FROM {EVENTS_TABLE} WHERE originator_id = %s",
            (report_id,),
        ).fetchone()
    total = int(row[0]) if row else 0
    if total == 0:
        raise LogError(f"no report with id {report_id}")
    return [_selected(r) for r in rows], total - len(rows)


def _range_rows(
    database: Database, size: int, since: datetime | None, until: datetime | None, progress: bool
) -> Selected:
    """Every event below ``size`` of every report with at least one event in the range.

    Whole histories, so that each report in the bundle can be proven complete.
    """
    touched: set[UUID] = set()
    with database.connect() as conn, conn.transaction(), conn.cursor(name="export") as curs:
        curs.itersize = 5000
        curs.execute(_ROWS + "WHERE l.leaf_index < %s ORDER BY l.leaf_index", (size,))
        for row in tqdm(curs, total=size, unit="event", desc="exporting", disable=not progress):
            if _in_range(_selected(row)[2].get("timestamp"), since, until):
                touched.add(row[2])
    if not touched:
        return []
    with database.connect() as conn:
        rows = conn.execute(
            _ROWS + "WHERE l.originator_id = ANY(%s) AND l.leaf_index < %s ORDER BY l.leaf_index",
            (list(touched), size),
        ).fetchall()
    return [_selected(r) for r in rows]


def _selected(row: Any) -> tuple[int, bytes, dict[str, Any]]:
    leaf, leaf_hash, rid, version, topic, state = row
    return int(leaf), bytes(leaf_hash), canonical_event(rid, int(version), topic, state)


def _in_range(stamp: Any, since: datetime | None, until: datetime | None) -> bool:
    if not isinstance(stamp, str):
        return False  # undecodable or untimed events cannot be placed in a range
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return (since is None or at >= since) and (until is None or at < until)
