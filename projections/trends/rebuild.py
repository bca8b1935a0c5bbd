"""Rebuild the trend tables from the whole log in large batches.

The live projection commits one transaction per event (~700 events/s here):
right for keeping up, ten minutes and more for a log of a million events.
This rebuild runs the *same* projection handlers and the same cell arithmetic
(:func:`projections.trends.cells_of`) against an in-memory stand-in for the
view, then writes the totals, every report's state and the tracking position
in one transaction. Afterwards the live projection carries on from there.
Run it only while no trend projection is running (it starts from empty tables).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Notification, Tracking
from psycopg.types.json import Jsonb

from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import Database
from projections import parking
from projections.trends.projection import (
    DDL,
    TOPICS,
    CountKey,
    State,
    TrendProjection,
    WatchKey,
    cells_of,
)

PAGE = 10_000


class _MemoryView:
    """Just enough of TrendView for the projection's handlers: ``record`` and ``insert_tracking``."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.states: dict[UUID, State] = {}
        self.counts: Counter[CountKey] = Counter()
        self.watch: Counter[WatchKey] = Counter()
        self.position = 0
        self.events = 0

    def record(
        self, tracking: Tracking, report_id: UUID, fold: Callable[[State | None], State]
    ) -> None:
        before = self.states.get(report_id)
        old_counts, old_watch = cells_of(before, self.zone)
        after = fold(None if before is None else {**before, "details": dict(before["details"])})
        new_counts, new_watch = cells_of(after, self.zone)
        self.counts.update(new_counts)
        self.counts.subtract(old_counts)
        self.watch.update(new_watch)
        self.watch.subtract(old_watch)
        self.states[report_id] = after
        self.events += 1
        self.position = tracking.notification_id

    def insert_tracking(self, tracking: Tracking) -> None:
        self.position = tracking.notification_id


def rebuild(
    database: Database, zone: str, *, progress: Callable[[int], object] | None = None
) -> int:
    """Replace the trend tables with ones built from the whole log; returns the position reached."""
    app = Courtwatch(env=database.eventsourcing_env(pool_size=1))
    view = _MemoryView(ZoneInfo(zone))
    projection = TrendProjection(view=view)  # type: ignore[arg-type]
    parked: list[parking.ParkedEvent] = []
    blocked: dict[UUID, int] = {}  # report -> its first parked event
    try:
        start = 1
        while page := app.recorder.select_notifications(start=start, limit=PAGE, topics=TOPICS):
            for notification in page:
                tracking = Tracking(app.name, notification.id)
                parked_for = blocked.get(notification.originator_id)  # type: ignore[arg-type]
                try:
                    if parked_for is not None:
                        raise _EarlierEventParked(parked_for)
                    event = app.mapper.to_domain_event(notification)
                    projection.handle(event, tracking)
                except Exception as error:
                    # The same rule as the live projection (projections/parking.py):
                    # park it, and every later event of its report behind it.
                    if not parking.is_data_error(error):
                        raise
                    parked.append(_parked_row(notification, error, parked_for))
                    blocked.setdefault(notification.originator_id, notification.id)  # type: ignore[arg-type]
                view.position = notification.id
            start = page[-1].id + 1
            if progress:
                progress(len(page))
    finally:
        app.close()
    _write(database, view, zone, parked)
    return view.position


class _EarlierEventParked(Exception):
    def __init__(self, notification_id: int) -> None:
        super().__init__(parking.earlier_event_parked(notification_id))


def _parked_row(
    notification: Notification, error: Exception, blocked_by: int | None
) -> parking.ParkedEvent:
    return parking.ParkedEvent(
        projection=TrendProjection.name,
        notification_id=notification.id,
        originator_id=notification.originator_id,  # type: ignore[arg-type]
        originator_version=notification.originator_version,
        topic=notification.topic,
        error=str(error) if blocked_by is not None else parking.describe(error),
        blocked_by=blocked_by,
        parked_at=datetime.now(UTC),
        retried_at=None,
        attempts=0,
    )


def _write(
    database: Database, view: _MemoryView, zone: str, parked: list[parking.ParkedEvent]
) -> None:
    with database.connect() as conn, conn.transaction():
        for table in (
            "trend_counts",
            "trend_watch",
            "trend_reports",
            "trend_meta",
            # Left by eventsourcing's migration of a tracking table an earlier
            # rebuild made without its migration row; a second such migration
            # then failed on this name and the trend projection never started.
            "bkup1_trends_tracking",
        ):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in DDL:
            conn.execute(statement)  # type: ignore[arg-type]
        # The tracking table stays eventsourcing's (single-row tracking: one row
        # per application, plus its "__migration__" marker row). Made here only
        # when no projection has run yet, in the same shape, marker included,
        # so the recorder takes it up as its own instead of migrating it.
        conn.execute(
            "CREATE TABLE IF NOT EXISTS trends_tracking "
            "(application_name text PRIMARY KEY, notification_id bigint)"
        )
        conn.execute(
            "INSERT INTO trends_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING"
        )
        with conn.cursor().copy(
            "COPY trend_counts (day, courthouse_code, kind, dimension, value, n) FROM STDIN"
        ) as copy:
            for key, n in view.counts.items():
                if n:
                    copy.write_row((*key, n))
        with conn.cursor().copy(
            "COPY trend_watch (day, courthouse_code, seconds) FROM STDIN"
        ) as copy:
            for (day, where), seconds in view.watch.items():
                if seconds:
                    copy.write_row((day, where, seconds))
        with conn.cursor().copy("COPY trend_reports (report_id, state) FROM STDIN") as copy:
            for report_id, state in view.states.items():
                copy.write_row((report_id, Jsonb(state)))
        conn.execute("INSERT INTO trend_meta (zone, events) VALUES (%s, %s)", (zone, view.events))
        conn.execute(
            "INSERT INTO trends_tracking VALUES (%s, %s) ON CONFLICT (application_name) "
            "DO UPDATE SET notification_id = EXCLUDED.notification_id",
            (Courtwatch.name, view.position),
        )
        with conn.cursor() as curs:
            parking.create_table(curs)
            parking.forget(curs, [TrendProjection.name])
            parking.insert_many(curs, parked)
