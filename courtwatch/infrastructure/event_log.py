"""The event log's positions, in one place.

eventsourcing stores every event of the ``Courtwatch`` application in one
table; its ``notification_id`` is a report's position in the log. Commit order
equals id order (writers lock the table), but ids can have gaps (a rolled-back
save consumes one): never treat a position as a dense index.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from courtwatch.infrastructure.database import Database

# The table eventsourcing creates for the application named "Courtwatch".
EVENTS_TABLE = "courtwatch_events"


def head(database: Database) -> int:
    """The position of the newest stored event (0 for an empty log)."""
    with database.connect() as conn:
        row = conn.execute(
            f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
        ).fetchone()
    return int(row[0]) if row else 0


def count_after(database: Database, position: int, topics: Sequence[str]) -> int:
    """How many events of these topics lie after ``position``."""
    with database.connect() as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {EVENTS_TABLE} WHERE notification_id > %s AND topic = ANY(%s)",
            (position, list(topics)),
        ).fetchone()
    return int(row[0]) if row else 0


def any_after(database: Database, position: int, topics: Sequence[str]) -> bool:
    """Whether any event of these topics lies after ``position`` (all topics when empty)."""
    if not topics:  # ANY('{}') would match nothing
        return head(database) > position
    with database.connect() as conn:
        row = conn.execute(
            f"SELECT 1 FROM {EVENTS_TABLE} WHERE notification_id > %s AND topic = ANY(%s) LIMIT 1",
            (position, list(topics)),
        ).fetchone()
    return row is not None


def stored_originators(database: Database, ids: Sequence[UUID]) -> set[UUID]:
    """Which of these aggregates have events already (one query for a whole batch)."""
    if not ids:
        return set()
    with database.connect() as conn:
        rows = conn.execute(
            f"SELECT DISTINCT originator_id FROM {EVENTS_TABLE} "
            "WHERE originator_id = ANY(%s) AND originator_version = 1",
            (list(ids),),
        ).fetchall()
    return {row[0] if isinstance(row[0], UUID) else UUID(str(row[0])) for row in rows}
