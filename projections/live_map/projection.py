"""The live map view: one row per report with its current state, and a feed.

Every event that changes a report updates its ``map_reports`` row and appends
one ``activity_feed`` row, and both are committed in one transaction with the
tracking record and a NOTIFY carrying the event's position. The feed is what
websocket clients resume from: "everything after position P".

An event the handler cannot process (a NUL that jsonb refuses, say) is parked
instead (``projections/parking.py``): the map goes on with later reports.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from courtwatch.domain.fold import plain, status_of
from courtwatch.domain.reports import REPORT_TOPICS, evolve, is_report_event
from projections.parking import ParkingProjection, ParkingView

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


def state_json(row: Row) -> dict[str, Any]:
    return {
        name: (str(value) if isinstance(value, UUID) else plain(value))
        for name, value in row.items()
    }


class LiveMapView(ParkingView):
    projection_name = "livemap"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(SQL(statement).format() for statement in DDL)

    def record(
        self, tracking: Tracking, report_id: UUID, event: str, at: datetime, change: Change
    ) -> None:
        # The event's transaction, which also records the tracking (ParkingView.process).
        with self.writing() as curs:
            curs.execute(
                SQL("SELECT * FROM map_reports WHERE report_id = %s FOR UPDATE"), (report_id,)
            )
            current = curs.fetchone()
            row = change(dict(current) if current else None)
            row["position"] = tracking.notification_id
            if current is None or event not in MEMBERS_ONLY_EVENTS:
                row.update(last_event=event, updated_at=at)
            row["status"] = status_of(row["verdict"]).value
            values = [Jsonb(row[c]) if c in JSON_COLUMNS else row[c] for c in COLUMNS]
            curs.execute(
                SQL(
                    "INSERT INTO map_reports ({cols}) VALUES ({marks}) "
                    "ON CONFLICT (report_id) DO UPDATE SET ({cols}) = ROW({excluded})"
                ).format(
                    cols=SQL(", ").join(SQL(c) for c in COLUMNS),
                    marks=SQL(", ").join(SQL("%s") for _ in COLUMNS),
                    excluded=SQL(", ").join(SQL("EXCLUDED." + c) for c in COLUMNS),
                ),
                values,
            )
            curs.execute(
                SQL(
                    "INSERT INTO activity_feed (position, report_id, event, occurred_at, state) "
                    "VALUES (%s, %s, %s, %s, %s)"
                ),
                (tracking.notification_id, report_id, event, at, Jsonb(state_json(row))),
            )
            # Delivered on commit, so a listener never hears of rows it cannot read yet.
            curs.execute(
                SQL("SELECT pg_notify(%s, %s)"), (NOTIFY_CHANNEL, str(tracking.notification_id))
            )


class LiveMapProjection(ParkingProjection[LiveMapView]):
    name = LiveMapView.projection_name
    topics = TOPICS

    def handle(self, domain_event: Any, tracking: Tracking) -> None:
        if not is_report_event(domain_event):
            return  # only tracked

        def change(row: Row | None) -> Row:
            before = None if row is None else {name: row[name] for name in STATE_FIELDS}
            after = evolve(before, domain_event)
            return {**(row or {}), **after, "report_id": domain_event.originator_id}

        self.view.record(
            tracking,
            domain_event.originator_id,
            type(domain_event).__name__,
            domain_event.timestamp,
            change,
        )
