"""The event log's positions, in one place.

eventsourcing stores every event of the ``Courtwatch`` application in one
table; its ``notification_id`` is a report's position in the log. Commit order
equals id order (writers lock the table), but ids can have gaps (a rolled-back
save consumes one): never treat a position as a dense index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import sql

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


def stored_originators(
    database: Database, ids: Sequence[UUID], conn: psycopg.Connection | None = None
) -> set[UUID]:
    """Which of these aggregates have events already (one query for a whole batch).
    ``conn``: an open connection to ask on (an import asks once per batch, and
    a new connection costs PostgreSQL a process: ~14 ms on a busy machine)."""
    if not ids:
        return set()
    query = (
        f"SELECT DISTINCT originator_id FROM {EVENTS_TABLE} "
        "WHERE originator_id = ANY(%s) AND originator_version = 1"
    )
    if conn is not None:
        rows = conn.execute(query, (list(ids),)).fetchall()
    else:
        with database.connect() as own:
            rows = own.execute(query, (list(ids),)).fetchall()
    return {row[0] if isinstance(row[0], UUID) else UUID(str(row[0])) for row in rows}


def insert_events_as_arrays(recorder: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
    """eventsourcing's PostgreSQL insert_events for a large batch, cheaper in CPU.

    The same transaction as the recorder's own (lock_timeout, the EXCLUSIVE
    table lock that makes positions follow commit order, the NOTIFY its
    subscribers wait on, one INSERT returning the positions in order), but
    the events go as four binary arrays instead of one array of composite
    values, which psycopg escapes field by field in Python: that was half
    of an import's writer CPU (~20 us an event). Errors are eventsourcing's
    (an already stored event raises its IntegrityError), as get_connection
    maps them.
    """
    if not stored_events:
        return []
    insert = sql.SQL(
        "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
        " SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
        " RETURNING notification_id"
    ).format(
        schema=sql.Identifier(recorder.datastore.schema),
        table=sql.Identifier(recorder.events_table_name),
    )
    params = (
        [e.originator_id for e in stored_events],
        [e.originator_version for e in stored_events],
        [e.topic for e in stored_events],
        [e.state for e in stored_events],
    )
    with recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
        recorder._lock_table(curs)
        recorder._notify_channel(curs)
        curs.execute(insert, params)
        return [row["notification_id"] for row in curs.fetchall()]
