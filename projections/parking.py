"""Parked events: one event a view cannot process never stops that view again.

The log is forever, so an event a handler chokes on (a year-1 time that
overflows, a NUL that jsonb refuses, state a newer class cannot decode) would
fail on every retry and stop the projection for good, and with it every later
report. Instead, in the same transaction that would have recorded the event:

* the handler runs inside a savepoint; if it raises an error caused by the
  event's *data* (:func:`is_data_error`), the savepoint is rolled back, a row
  is added to ``projection_parked`` with the error, and the tracking record
  advances past the event. One transaction holds the parked row and the
  tracking record, so an event is applied or parked exactly once, even when
  the process is killed half-way.
* an error of the *infrastructure* (connection lost, server restarting, a lock
  timeout, a concurrent runner) is re-raised: nothing is parked, the runner
  dies and the supervisor restarts it from its tracking record.

Ordering. A report's state in every view that parks is a fold of that report's
own events, plus counts that are sums over reports (the trend tables). So the
view only needs each report's events applied *in order*; events of different
reports commute. Once one event of a report is parked, every later event of the
same report is parked too ("report's earlier event N is parked"), without
running the handler: an Amended is never applied to a report whose Submitted is
missing. ``retry`` then replays a report's parked events oldest first in one
transaction and stops at the first one that still fails, which stays parked
with the rest behind it. The result is the view a fresh rebuild would give.

Both the projection and a retry take a per-(projection, report) advisory lock
before they look at the parked rows, so a retry running while the projection
processes a later event of the same report cannot leave that event applied out
of order, or parked behind an event that was just retried.

The transparency log never parks (a leaf must exist for every stored event, in
order); its view does not use this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper, PersistenceError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.sql import SQL

log = logging.getLogger(__name__)

TABLE = "projection_parked"
# Serialises the creation of the table across views and processes (CREATE ...
# IF NOT EXISTS races with itself). Arbitrary constant, unique to us.
SCHEMA_LOCK = 0x636F757274706B00  # "courtpk\0"

DDL = [
    """CREATE TABLE IF NOT EXISTS projection_parked (
        projection text NOT NULL,
        notification_id bigint NOT NULL,
        originator_id uuid NOT NULL,
        originator_version bigint NOT NULL,
        topic text NOT NULL,
        error text NOT NULL,
        blocked_by bigint,
        parked_at timestamptz NOT NULL DEFAULT now(),
        retried_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        PRIMARY KEY (projection, notification_id)
    )""",
    "CREATE INDEX IF NOT EXISTS projection_parked_report "
    "ON projection_parked (projection, originator_id, notification_id)",
]

# SQLSTATE classes a stored value can cause: 22 data exception (numeric or
# datetime out of range, untranslatable character...), 23 integrity constraint
# violation (NOT NULL, CHECK), 54 program limit exceeded (a value too large to
# index). Everything else the server says (08 connection, 40 rollback, 53
# resources, 55 lock not available, 57 shutting down, 42 a missing table during
# a rebuild...) is about the server or our code, not the event.
DATA_SQLSTATE_CLASSES = frozenset({"22", "23", "54"})
# ...except a unique violation: two runners of one view racing for a position.
CONCURRENCY_SQLSTATES = frozenset({"23505"})
ERROR_TEXT_LIMIT = 500


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def is_data_error(error: BaseException) -> bool:
    """Whether ``error`` was caused by the event being processed (park it), not
    by the infrastructure (re-raise it: the supervisor retries).

    eventsourcing re-raises psycopg's errors as its own with ``from``, so the
    chain is searched for the first error that came from the database.
    """
    if not isinstance(error, Exception):
        return False  # KeyboardInterrupt, SystemExit, GeneratorExit
    for link in _chain(error):
        if isinstance(link, psycopg.Error):
            state = link.sqlstate
            if state is None:
                # Raised by psycopg itself: a connection problem, or a value it
                # cannot send (a NUL in a text parameter is a DataError).
                return isinstance(link, psycopg.DataError)
            return state[:2] in DATA_SQLSTATE_CLASSES and state not in CONCURRENCY_SQLSTATES
        if isinstance(link, PersistenceError) and link.__cause__ is None:
            # eventsourcing's own, e.g. "Failed to record tracking": another
            # runner got there first.
            return False
        if isinstance(link, OSError | MemoryError):  # TimeoutError, ConnectionError included
            return False
    return True


def describe(error: BaseException) -> str:
    """A one-line, storable description of an error.

    Only the first line: psycopg's DETAIL and CONTEXT lines quote the event's
    values. Escaped, because the message may carry the very NUL or lone
    surrogate that made the handler fail, which a text column refuses too.
    """
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    sqlstate = next(
        (link.sqlstate for link in _chain(error) if isinstance(link, psycopg.Error)), None
    )
    name = type(error).__name__ + (f" [{sqlstate}]" if sqlstate else "")
    line = f"{name}: {text}" if text else name
    safe = "".join(
        c
        if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF
        else c.encode("unicode_escape", "backslashreplace").decode("ascii")
        for c in line
    )
    return safe[:ERROR_TEXT_LIMIT]


def earlier_event_parked(notification_id: int) -> str:
    return f"report's earlier event {notification_id} is parked"


# Decoding -------------------------------------------------------------------


@dataclass(frozen=True)
class Undecodable:
    """A stored event the application's mapper could not turn into a domain
    event (a class renamed or changed since it was stored, damaged state).

    Delivered to the projection in place of the event, so that decoding, which
    eventsourcing does before ``process_event``, cannot stop a runner either.
    """

    originator_id: UUID
    originator_version: int
    topic: str
    error: Exception


class TolerantMapper(Mapper[UUID]):
    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            return super().to_domain_event(stored_event)
        except Exception as error:
            if not is_data_error(error):
                raise
            return Undecodable(
                originator_id=stored_event.originator_id,  # type: ignore[arg-type]
                originator_version=stored_event.originator_version,
                topic=stored_event.topic,
                error=error,
            )


# Rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class ParkedEvent:
    projection: str
    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    error: str
    blocked_by: int | None
    parked_at: datetime
    retried_at: datetime | None
    attempts: int


def create_table(curs: Cursor[Any]) -> None:
    curs.execute(SQL("SELECT pg_advisory_xact_lock(%s)"), (SCHEMA_LOCK,))
    for statement in DDL:
        curs.execute(SQL(statement))  # type: ignore[arg-type]


# Reports are locked in this many buckets, not one lock each: a batch of a
# thousand reports would otherwise hold a thousand locks, and PostgreSQL's
# shared lock table (max_locks_per_transaction x connections) is small. A
# retry (rare, by hand) then waits for a batch touching any report of its bucket.
REPORT_LOCK_BUCKETS = 64


def lock_report(curs: Cursor[Any], projection: str, originator_id: UUID) -> None:
    """Held until the transaction ends: the projection and a retry take turns per report."""
    lock_reports(curs, projection, [originator_id])


def lock_reports(curs: Cursor[Any], projection: str, reports: Sequence[UUID]) -> None:
    """:func:`lock_report` for every report of a batch, in one round trip.

    The buckets are taken in ascending order, all before any row is written:
    two batches never wait on each other in a cycle.
    """
    buckets = sorted({_bucket(r) for r in reports})
    if buckets:
        curs.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(hashtext(%s), b) "
                "FROM unnest(%s::int[]) WITH ORDINALITY AS u(b, n) ORDER BY n"
            ),
            (projection, buckets),
        )
        curs.fetchall()


def _bucket(report: UUID) -> int:
    return report.int % REPORT_LOCK_BUCKETS


def any_parked(curs: Cursor[Any], projection: str, reports: Sequence[UUID]) -> bool:
    """Whether any of ``reports`` has a parked event (its later events park behind it)."""
    if not reports:
        return False
    curs.execute(
        SQL(
            "SELECT EXISTS (SELECT 1 FROM projection_parked "
            "WHERE projection = %s AND originator_id = ANY(%s)) AS found"
        ),
        (projection, list(reports)),
    )
    return bool(_value(curs.fetchone(), "found"))


def first_parked(curs: Cursor[Any], projection: str, originator_id: UUID) -> int | None:
    curs.execute(
        SQL(
            "SELECT min(notification_id) AS first FROM projection_parked "
            "WHERE projection = %s AND originator_id = %s"
        ),
        (projection, originator_id),
    )
    row = curs.fetchone()
    value = _value(row, "first")
    return None if value is None else int(value)


def park(
    curs: Cursor[Any],
    projection: str,
    tracking: Tracking,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    error: str,
    blocked_by: int | None,
) -> int:
    """Add the parked row; returns how many events this projection has parked now."""
    curs.execute(
        SQL(
            "INSERT INTO projection_parked (projection, notification_id, originator_id, "
            "originator_version, topic, error, blocked_by) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        ),
        (
            projection,
            tracking.notification_id,
            originator_id,
            originator_version,
            topic,
            error,
            blocked_by,
        ),
    )
    return count(curs, projection)


def count(curs: Cursor[Any], projection: str) -> int:
    curs.execute(
        SQL("SELECT count(*) AS n FROM projection_parked WHERE projection = %s"), (projection,)
    )
    return int(_value(curs.fetchone(), "n") or 0)


_COLUMNS = (
    "projection, notification_id, originator_id, originator_version, topic, error, "
    "blocked_by, parked_at, retried_at, attempts"
)


def _parked(row: Any) -> ParkedEvent:
    values = tuple(row.values()) if isinstance(row, dict) else tuple(row)
    return ParkedEvent(*values)


def listed(
    curs: Cursor[Any], projection: str | None = None, notification_id: int | None = None
) -> list[ParkedEvent]:
    curs.execute(
        SQL(
            f"SELECT {_COLUMNS} FROM projection_parked "
            "WHERE (%(projection)s::text IS NULL OR projection = %(projection)s) "
            "AND (%(id)s::bigint IS NULL OR notification_id = %(id)s) "
            "ORDER BY projection, notification_id"
        ),  # type: ignore[arg-type]
        {"projection": projection, "id": notification_id},
    )
    return [_parked(row) for row in curs.fetchall()]


def of_report(curs: Cursor[Any], projection: str, originator_id: UUID) -> list[ParkedEvent]:
    curs.execute(
        SQL(
            f"SELECT {_COLUMNS} FROM projection_parked "
            "WHERE projection = %s AND originator_id = %s ORDER BY notification_id FOR UPDATE"
        ),  # type: ignore[arg-type]
        (projection, originator_id),
    )
    return [_parked(row) for row in curs.fetchall()]


def remove(curs: Cursor[Any], projection: str, notification_id: int) -> None:
    curs.execute(
        SQL("DELETE FROM projection_parked WHERE projection = %s AND notification_id = %s"),
        (projection, notification_id),
    )


def still_failing(
    curs: Cursor[Any], projection: str, failed: ParkedEvent, error: str, behind: list[ParkedEvent]
) -> None:
    """Record a failed retry, and that the report's later parked events wait behind it."""
    curs.execute(
        SQL(
            "UPDATE projection_parked SET error = %s, blocked_by = NULL, retried_at = now(), "
            "attempts = attempts + 1 WHERE projection = %s AND notification_id = %s"
        ),
        (error, projection, failed.notification_id),
    )
    for later in behind:
        curs.execute(
            SQL(
                "UPDATE projection_parked SET error = %s, blocked_by = %s, retried_at = now() "
                "WHERE projection = %s AND notification_id = %s"
            ),
            (
                earlier_event_parked(failed.notification_id),
                failed.notification_id,
                projection,
                later.notification_id,
            ),
        )


def forget(curs: Cursor[Any], projections: list[str]) -> None:
    """Drop the parked rows of views being rebuilt: the replay parks them again."""
    curs.execute(SQL("SELECT to_regclass('projection_parked') IS NOT NULL AS present"))
    if _value(curs.fetchone(), "present"):
        curs.execute(
            SQL("DELETE FROM projection_parked WHERE projection = ANY(%s)"), (projections,)
        )


def insert_many(curs: Cursor[Any], rows: list[ParkedEvent]) -> None:
    """Write parked rows found by a batch rebuild."""
    if rows:
        curs.executemany(
            SQL(
                "INSERT INTO projection_parked (projection, notification_id, originator_id, "
                "originator_version, topic, error, blocked_by) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ),
            [
                (
                    r.projection,
                    r.notification_id,
                    r.originator_id,
                    r.originator_version,
                    r.topic,
                    r.error,
                    r.blocked_by,
                )
                for r in rows
            ],
        )


def _value(row: Any, key: str) -> Any:
    if row is None:
        return None
    return row[key] if isinstance(row, dict) else row[0]


# The view and the projection --------------------------------------------------

Handler = Callable[[Any, Tracking], None]
# An event as the runner delivers it, and a handler of many at once (in order).
Event = tuple[Any, Tracking]
BatchHandler = Callable[[Sequence[Event]], None]


@dataclass(frozen=True)
class RetryOutcome:
    notification_id: int
    originator_id: UUID
    retried: bool  # False: it failed again (error) or waits behind one that did
    error: str | None = None


class ParkingView(PostgresTrackingRecorder):
    """A tracking recorder whose events are each handled in one transaction that
    either applies the event or parks it, together with the tracking record.

    Subclasses write through :meth:`writing` and never insert tracking themselves.
    """

    projection_name: ClassVar[str] = ""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._cursor: Cursor[Any] | None = None

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            create_table(curs)

    @contextmanager
    def writing(self) -> Iterator[Cursor[Any]]:
        """The cursor of the event's transaction (opened by :meth:`process` or :meth:`retry`)."""
        if self._cursor is None:
            raise RuntimeError("a view writes only inside process() or retry()")
        yield self._cursor

    @contextmanager
    def _handling(self, curs: Cursor[Any]) -> Iterator[None]:
        """Run a handler inside a savepoint: on an error it leaves no write behind."""
        self._cursor = curs
        try:
            with curs.connection.transaction():
                yield
        finally:
            self._cursor = None

    def process(self, domain_event: Any, tracking: Tracking, handle: Handler) -> None:
        self.process_batch([(domain_event, tracking)], None, handle)

    def process_batch(
        self, batch: Sequence[Event], handle_batch: BatchHandler | None, handle: Handler
    ) -> None:
        """Apply (or park) every event of ``batch`` and record the last one's
        tracking, all in one transaction: a crash keeps all of it or none.

        ``handle_batch`` applies the whole batch at once (set-based writes) inside
        one savepoint. If an event of it is not the data handlers can take (an
        earlier event of its report is parked, it cannot be decoded, or the batch
        raises a data error), the batch is done event by event instead, each in
        its own savepoint with ``handle``, so one bad event parks alone and does
        not poison the others.
        """
        if not batch:
            return
        name = self.projection_name
        parked: list[tuple[Tracking, UUID, tuple[str, int | None], int]] = []
        with self.datastore.transaction(commit=True) as curs:
            reports = sorted(
                {
                    e.originator_id
                    for e, _ in batch
                    if isinstance(getattr(e, "originator_id", None), UUID)
                },
                key=str,
            )
            lock_reports(curs, name, reports)
            applied = False
            if (
                handle_batch is not None
                and not any(isinstance(e, Undecodable) for e, _ in batch)
                and not any_parked(curs, name, reports)
            ):
                try:
                    with self._handling(curs):
                        handle_batch(batch)
                    applied = True
                except Exception as failure:
                    # One bad event: redo the batch event by event below.
                    if not is_data_error(failure):
                        raise
            if not applied:
                for domain_event, tracking in batch:
                    problem = self._process_one(curs, domain_event, tracking, handle)
                    if problem is not None:
                        parked.append(problem)
            self._insert_tracking(curs, batch[-1][1])
        for tracking, originator_id, (reason, _), total in parked:
            # Counted in the logs; the event's values are not logged, only the error.
            log.warning(
                "projection event parked",
                extra={
                    "projection": name,
                    "notification_id": tracking.notification_id,
                    "originator_id": str(originator_id),
                    "error": reason,
                    "parked_total": total,
                },
            )

    def _process_one(
        self, curs: Cursor[Any], domain_event: Any, tracking: Tracking, handle: Handler
    ) -> tuple[Tracking, UUID, tuple[str, int | None], int] | None:
        """Apply one event in its own savepoint, or park it; returns what was parked."""
        name = self.projection_name
        originator_id = getattr(domain_event, "originator_id", None)
        problem: tuple[str, int | None] | None = None
        if isinstance(originator_id, UUID):
            earlier = first_parked(curs, name, originator_id)
            if earlier is not None:
                problem = (earlier_event_parked(earlier), earlier)
        if problem is None and isinstance(domain_event, Undecodable):
            problem = ("undecodable: " + describe(domain_event.error), None)
        if problem is None:
            try:
                with self._handling(curs):
                    handle(domain_event, tracking)
            except Exception as error:
                if not is_data_error(error) or not isinstance(originator_id, UUID):
                    raise
                problem = (describe(error), None)
        if problem is None:
            return None
        assert isinstance(originator_id, UUID)
        topic = getattr(domain_event, "topic", None) or get_topic(type(domain_event))
        total = park(
            curs,
            name,
            tracking,
            originator_id,
            int(domain_event.originator_version),
            topic,
            *problem,
        )
        return tracking, originator_id, problem, total

    def retry(
        self,
        handle: Handler,
        load: Callable[[int], Any],
        application_name: str,
        notification_id: int | None = None,
    ) -> list[RetryOutcome]:
        """Re-run the handler for parked events, each report's oldest first.

        ``load`` returns the domain event stored at a position (raising if it
        still cannot be decoded). One transaction per report; a retried event
        leaves the table, the first that fails again stays with every later
        event of its report behind it. Tracking is not touched: the projection
        has long moved past these positions.
        """
        name = self.projection_name
        with self.datastore.transaction(commit=False) as curs:
            # Retrying one event means retrying its report from its oldest parked
            # event: a later one can only be applied on top of the earlier ones.
            wanted = listed(curs, name, notification_id)
        reports = list(dict.fromkeys(p.originator_id for p in wanted))
        outcomes: list[RetryOutcome] = []
        for originator_id in reports:
            with self.datastore.transaction(commit=True) as curs:
                lock_report(curs, name, originator_id)
                pending = of_report(curs, name, originator_id)
                for index, parked in enumerate(pending):
                    try:
                        with self._handling(curs):
                            event = load(parked.notification_id)
                            handle(event, Tracking(application_name, parked.notification_id))
                    except Exception as error:
                        if not is_data_error(error):
                            raise
                        behind = pending[index + 1 :]
                        still_failing(curs, name, parked, describe(error), behind)
                        outcomes.append(
                            RetryOutcome(
                                parked.notification_id, originator_id, False, describe(error)
                            )
                        )
                        outcomes += [
                            RetryOutcome(
                                p.notification_id,
                                originator_id,
                                False,
                                earlier_event_parked(parked.notification_id),
                            )
                            for p in behind
                        ]
                        break
                    remove(curs, name, parked.notification_id)
                    outcomes.append(RetryOutcome(parked.notification_id, originator_id, True))
        for outcome in outcomes:
            log.info(
                "parked event retried" if outcome.retried else "parked event still failing",
                extra={
                    "projection": name,
                    "notification_id": outcome.notification_id,
                    "error": outcome.error,
                },
            )
        return outcomes

    def parked(self, notification_id: int | None = None) -> list[ParkedEvent]:
        with self.datastore.transaction(commit=False) as curs:
            return listed(curs, self.projection_name, notification_id)


TParkingView = TypeVar("TParkingView", bound=ParkingView)


class ParkingProjection(Projection[TParkingView], Generic[TParkingView]):
    """A projection whose handler, :meth:`handle`, cannot stop it: see the module."""

    def handle(self, domain_event: Any, tracking: Tracking) -> None:
        raise NotImplementedError

    def handle_batch(self, batch: Sequence[Event]) -> None:
        """Apply several events at once, in order; override with set-based writes.

        Must leave the view as ``handle`` called for each event in turn would:
        when one event of a batch fails, the batch is redone event by event.
        """
        for domain_event, tracking in batch:
            self.handle(domain_event, tracking)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.process_batch([(domain_event, tracking)], None, self.handle)

    def process_batch(self, batch: Sequence[Event]) -> None:
        """One transaction for the batch (see :meth:`ParkingView.process_batch`)."""
        self.view.process_batch(batch, self.handle_batch, self.handle)
