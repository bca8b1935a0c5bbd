"""The live map view: one row per report with its current state, and a feed.

Every event that changes a report updates its ``map_reports`` row and appends
one ``activity_feed`` row, and both are committed in one transaction with the
tracking record and a NOTIFY carrying the event's position. The feed is what
websocket clients resume from: "everything after position P".

An event the handler cannot process (a NUL that jsonb refuses, say) is parked
instead (``projections/parking.py``): the map goes on with later reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL

from courtwatch.domain.fold import plain, status_of
from courtwatch.domain.reports import REPORT_TOPICS, evolve, is_report_event
from projections.parking import Event, ParkingProjection, ParkingView

NOTIFY_CHANNEL = "courtwatch_live"

TOPICS = REPORT_TOPICS

DDL = [
    """CREATE TABLE IF NOT EXISTS map_reports (
        report_id uuid PRIMARY KEY,
        kind text NOT NULL,
        status text NOT NULL,
        verdict text,
        corroborations integer NOT NULL DEFAULT 0,
        courthouse_code text,
        lat double precision,
        lon double precision,
        observed_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        last_event text NOT NULL,
        details jsonb NOT NULL,
        position bigint NOT NULL
    )""",
    # Members' presence (display names): read by the console's reader only,
    # never by a public one. Added after the table first shipped, hence ALTER.
    "ALTER TABLE map_reports ADD COLUMN IF NOT EXISTS claimed_by jsonb NOT NULL DEFAULT '[]'",
    "ALTER TABLE map_reports ADD COLUMN IF NOT EXISTS on_scene_by jsonb NOT NULL DEFAULT '[]'",
    "ALTER TABLE map_reports ADD COLUMN IF NOT EXISTS resolved_by text",
    "CREATE INDEX IF NOT EXISTS map_reports_updated ON map_reports (updated_at DESC)",
    "CREATE INDEX IF NOT EXISTS map_reports_lat_lon ON map_reports (lat, lon)",
    # The GeoJSON export's batches (export.py) each start where the last ended.
    "CREATE INDEX IF NOT EXISTS map_reports_observed ON map_reports (observed_at, report_id)",
    """CREATE TABLE IF NOT EXISTS activity_feed (
        position bigint PRIMARY KEY,
        report_id uuid NOT NULL,
        event text NOT NULL,
        occurred_at timestamptz NOT NULL,
        state jsonb NOT NULL
    )""",
]
# A batch's final map rows on their way in (one per connection, emptied at commit).
STAGING_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS map_reports_batch "
    "(LIKE map_reports INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
COLUMNS = (
    "report_id", "kind", "status", "verdict", "corroborations", "courthouse_code", "lat", "lon",
    "observed_at", "updated_at", "last_event", "details", "position",
    "claimed_by", "on_scene_by", "resolved_by",
)  # fmt: skip
JSON_COLUMNS = ("details", "claimed_by", "on_scene_by")
# Events that change nothing the public map shows: their feed rows go to the
# console only, and they leave the public last_event and updated_at as they
# were, so the public map cannot tell that someone is on their way.
MEMBERS_ONLY_EVENTS = ("Claimed", "Resolved")

Row = dict[str, Any]
# The columns that hold the report's folded state (courtwatch.domain.fold).
STATE_FIELDS = (
    "kind", "courthouse_code", "lat", "lon", "observed_at", "details", "verdict", "corroborations",
    "claimed_by", "on_scene_by", "resolved_by",
)  # fmt: skip
Change = Callable[[Row | None], Row]


def _json_value(value: Any) -> Any:
    # What state_json's plain() makes of values JSON has no type for.
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# ensure_ascii as Jsonb has it: a lone surrogate reaches PostgreSQL escaped, and is refused there.
_encode = json.JSONEncoder(default=_json_value).encode


def json_text(value: Any) -> str:
    """``value`` as JSON text, datetimes as ISO 8601 and UUIDs as strings at any
    depth: what ``Jsonb(state_json(row))`` stores, in one pass (a batch encodes
    tens of thousands of these)."""
    return _encode(value)


def state_json(row: Row) -> dict[str, Any]:
    return {
        name: (str(value) if isinstance(value, UUID) else plain(value))
        for name, value in row.items()
    }


class Update(NamedTuple):
    """One event's change to its report's row."""

    tracking: Tracking
    report_id: UUID
    event: str
    at: datetime
    change: Change


class LiveMapView(ParkingView):
    projection_name = "livemap"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(SQL(statement).format() for statement in DDL)

    def record(
        self, tracking: Tracking, report_id: UUID, event: str, at: datetime, change: Change
    ) -> None:
        self.record_many([Update(tracking, report_id, event, at, change)])

    def record_many(self, updates: Sequence[Update]) -> None:
        """Apply a batch's changes, in order, with one statement per table.

        Each report's row is read once (locked), folded in memory through its
        events, and written once; every event still gets its own feed row with
        the state after it. One NOTIFY carries the batch's last position: the
        hub reads the feed after the position it has seen, so it gets them all.
        """
        if not updates:
            return
        # The batch's transaction, which also records the tracking (ParkingView.process_batch).
        with self.writing() as curs:
            curs.execute(
                SQL("SELECT * FROM map_reports WHERE report_id = ANY(%s) FOR UPDATE"),
                (list({u.report_id for u in updates}),),
            )
            rows: dict[UUID, Row] = {r["report_id"]: dict(r) for r in curs.fetchall()}
            folded_here: set[UUID] = set()  # rows not (yet) read back from the table
            zone = curs.connection.info.timezone
            feed = []
            for tracking, report_id, event, at, change in updates:
                current = rows.get(report_id)
                if current is not None and report_id in folded_here:
                    current = _as_read_back(current, zone)
                folded_here.add(report_id)
                row = change(None if current is None else dict(current))
                row["position"] = tracking.notification_id
                if current is None or event not in MEMBERS_ONLY_EVENTS:
                    row.update(last_event=event, updated_at=at)
                row["status"] = status_of(row["verdict"]).value
                rows[report_id] = row
                feed.append((tracking.notification_id, report_id, event, at, json_text(row)))
            # Each report's final row: COPY'd into a scratch table, then one upsert.
            curs.execute(SQL(STAGING_DDL))
            with curs.copy(
                SQL("COPY map_reports_batch ({cols}) FROM STDIN").format(
                    cols=SQL(", ").join(SQL(c) for c in COLUMNS)
                )
            ) as copy:
                for report_id in {u.report_id: None for u in updates}:
                    row = rows[report_id]
                    copy.write_row(
                        [json_text(row[c]) if c in JSON_COLUMNS else row[c] for c in COLUMNS]
                    )
            curs.execute(
                SQL(
                    "INSERT INTO map_reports ({cols}) SELECT {cols} FROM map_reports_batch "
                    "ON CONFLICT (report_id) DO UPDATE SET ({cols}) = ROW({excluded})"
                ).format(
                    cols=SQL(", ").join(SQL(c) for c in COLUMNS),
                    excluded=SQL(", ").join(SQL("EXCLUDED." + c) for c in COLUMNS),
                )
            )
            # Emptied now too, not only at commit: a retry writes several events in one transaction.
            curs.execute(SQL("DELETE FROM map_reports_batch"))
            with curs.copy(
                SQL(
                    "COPY activity_feed (position, report_id, event, occurred_at, state) FROM STDIN"
                )
            ) as copy:
                for values in feed:
                    copy.write_row(values)
            # Delivered on commit, so a listener never hears of rows it cannot read yet.
            curs.execute(
                SQL("SELECT pg_notify(%s, %s)"),
                (NOTIFY_CHANNEL, str(updates[-1].tracking.notification_id)),
            )


def _as_read_back(row: Row, zone: tzinfo) -> Row:
    """``row`` as ``SELECT * FROM map_reports`` gives it once stored: what the
    next event of its report folds from when it has a batch of its own. A batch
    folding from the row as it was written gave that event other feed rows (the
    reporter's UTC offset instead of the session's zone), so a replay's feed
    depended on where its batches happened to end."""
    back = dict(row)
    for name in ("observed_at", "updated_at"):
        if isinstance(back[name], datetime):
            back[name] = back[name].astimezone(zone)
    for name in ("lat", "lon"):
        if back[name] is not None:
            back[name] = float(back[name])
    for name in JSON_COLUMNS:
        back[name] = json.loads(json_text(back[name]))
    return back


class LiveMapProjection(ParkingProjection[LiveMapView]):
    name = LiveMapView.projection_name
    topics = TOPICS

    def handle(self, domain_event: Any, tracking: Tracking) -> None:
        self.handle_batch([(domain_event, tracking)])

    def handle_batch(self, batch: Sequence[Event]) -> None:
        # Other events are only tracked.
        self.view.record_many(
            [
                Update(
                    tracking,
                    domain_event.originator_id,
                    type(domain_event).__name__,
                    domain_event.timestamp,
                    _change(domain_event),
                )
                for domain_event, tracking in batch
                if is_report_event(domain_event)
            ]
        )


def _change(domain_event: Any) -> Change:
    def change(row: Row | None) -> Row:
        before = None if row is None else {name: row[name] for name in STATE_FIELDS}
        after = evolve(before, domain_event)
        return {**(row or {}), **after, "report_id": domain_event.originator_id}

    return change
