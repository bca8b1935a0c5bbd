"""Evidence bundles from the database: one report's history, or every event in a time range.

The events in a bundle are the canonical events of the *stored rows*, and their
leaf hashes are the ones recorded in the log. ``write_bundle`` re-verifies the
whole bundle before writing it, so a row edited since it was logged makes the
export fail loudly instead of handing a lawyer evidence that will not verify.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tqdm import tqdm

from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.infrastructure.event_log import EVENTS_TABLE
from courtwatch.transparency.bundle import BundleEvent, LeafProof, write_bundle
from courtwatch.transparency.canonical import canonical_event
from projections.transparency_log.store import (
    CheckpointRecord,
    LogError,
    inclusions,
    public_key,
    publish_checkpoint,
)

_ROWS = (
    "SELECT l.leaf_index, l.leaf_hash, e.originator_id, e.originator_version, e.topic, e.state "
    f"FROM log_leaves l JOIN {EVENTS_TABLE} e ON e.notification_id = l.notification_id "
)


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
) -> Export:
    """Write an evidence bundle for ``report_id``, or for events timestamped in [since, until)."""
    if (report_id is None) == (since is None and until is None):
        raise ValueError("export either one report or a time range")
    # Sign what is there now, so that the newest events are covered too.
    checkpoint = publish_checkpoint(database, settings)
    if checkpoint is None:
        raise LogError("the log is empty: nothing to export")
    size = checkpoint.tree_size
    if report_id is not None:
        selected, pending = _report_rows(database, report_id, size)
    else:
        selected, pending = _range_rows(database, size, since, until, progress), 0
    if not selected:
        raise LogError("no logged events match: nothing to export")
    proofs = inclusions(database, [leaf for leaf, _, _ in selected], size)
    write_bundle(
        path,
        [BundleEvent(leaf, event) for leaf, _, event in selected],
        [LeafProof(leaf, leaf_hash, proofs[leaf]) for leaf, leaf_hash, _ in selected],
        checkpoint.note,
        public_key(settings),
    )
    return Export(len(selected), checkpoint, pending)


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
    selected: Selected = []
    with database.connect() as conn, conn.transaction(), conn.cursor(name="export") as curs:
        curs.itersize = 5000
        curs.execute(_ROWS + "WHERE l.leaf_index < %s ORDER BY l.leaf_index", (size,))
        for row in tqdm(curs, total=size, unit="event", desc="exporting", disable=not progress):
            leaf, leaf_hash, event = _selected(row)
            if _in_range(event.get("timestamp"), since, until):
                selected.append((leaf, leaf_hash, event))
    return selected


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
