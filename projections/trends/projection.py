"""The trend view: small count tables that every periodic summary reads from.

A summary must never scan the event log, so this projection keeps, per local
day and courthouse, how many reports there are of each kind and of each value
of the dimensions coordinators ask about (agency, warrant, the arrested
person's role, outcome, status), and how many seconds were watched.

Reports change after they are submitted (amended, outcome learned, verified,
a shift ended), so each report's current *state* is kept in ``trend_reports``.
On every event the view folds the event into that state, works out the cells
the report contributed before and contributes now (:func:`cells_of`), and
applies the difference as UPSERT increments, all in one transaction with the
tracking record: the counts are always exactly the sum over current states.

Days are the local days of the place each report is about: an arrest at
22:30 in Los Angeles on the 31st counts on the 31st, not on the 1st of the next
month as it would in New York. The zone is worked out when the report is
submitted or its courthouse or pin is amended (:func:`place_zone`) and kept in
the report's state, so the cells a report contributed are always recomputed
with the zone they were counted in. ``COURTWATCH_TIMEZONE`` is only the
fallback, for a state without a zone (kept before zones existed, or a place
whose zone is unknown); it is written into ``trend_meta`` when the tables are
created and read back from there, and changing it takes effect after
``courtwatch project --rebuild``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from courtwatch.domain.fold import plain, status_of
from courtwatch.domain.pipeline import with_defaults
from courtwatch.domain.reports import REPORT_TOPICS, evolve, is_report_event
from courtwatch.domain.vocabulary import Kind, Status
from courtwatch.gazetteer import immigration_court_zones
from courtwatch.infrastructure.config import Settings
from courtwatch.timezones import zone_name_at, zone_or
from projections.parking import ParkingProjection, ParkingView
from projections.trends import pipeline

log = logging.getLogger(__name__)

TOPICS = REPORT_TOPICS
TABLES = ("trend_counts", "trend_watch", "trend_reports", "trend_meta")

# The detail fields counted for each kind: dimension name -> detail field.
DIMENSIONS: dict[Kind, dict[str, str]] = {
    Kind.COURTHOUSE_ARREST: {
        "agency": "agency",
        "warrant": "warrant",
        "role": "person_role",
        "outcome": "outcome",
    },
    Kind.SIGHTING: {"agency": "agency"},
    Kind.CALL_IN: {"outcome": "outcome"},
    Kind.WATCH_SHIFT: {},
}
# Reports dropped on a map pin have no courthouse: they are counted under "".
NO_COURTHOUSE = ""
# Every report counts once under this dimension: the kind's total.
TOTAL = ("total", "")

DDL = [
    """CREATE TABLE IF NOT EXISTS trend_counts (
        day date NOT NULL,
        courthouse_code text NOT NULL,
        kind text NOT NULL,
        dimension text NOT NULL,
        value text NOT NULL,
        n integer NOT NULL,
        PRIMARY KEY (day, courthouse_code, kind, dimension, value)
    )""",
    "CREATE INDEX IF NOT EXISTS trend_counts_courthouse ON trend_counts (courthouse_code, day)",
    """CREATE TABLE IF NOT EXISTS trend_watch (
        day date NOT NULL,
        courthouse_code text NOT NULL,
        seconds bigint NOT NULL,
        PRIMARY KEY (day, courthouse_code)
    )""",
    """CREATE TABLE IF NOT EXISTS trend_reports (
        report_id uuid PRIMARY KEY,
        state jsonb NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS trend_meta (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        zone text NOT NULL,
        events bigint NOT NULL DEFAULT 0
    )""",
]

State = dict[str, Any]
CountKey = tuple[date, str, str, str, str]  # day, courthouse, kind, dimension, value
WatchKey = tuple[date, str]  # day, courthouse


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    # Midnight exists on every day in the zones courtwatch serves (DST moves at
    # 2 a.m.); zoneinfo gives the right offset on the 23- and 25-hour days.
    return datetime.combine(day, time(0), tzinfo=zone)


def split_by_day(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[date, int]]:
    """Whole seconds of [start, end) falling on each local day."""
    pieces = []
    day = local_day(start, zone)
    while day_start(day, zone) < end:
        lo = max(start, day_start(day, zone))
        hi = min(end, day_start(day + timedelta(days=1), zone))
        if hi > lo:
            # In UTC: Python subtracts two times of the same zone as wall-clock times,
            # which would make the day the clocks go back 24 hours instead of 25.
            pieces.append((day, int((hi.astimezone(UTC) - lo.astimezone(UTC)).total_seconds())))
        day += timedelta(days=1)
    return pieces


def place_zone(courthouse_code: str | None, lat: float | None, lon: float | None) -> str | None:
    """The zone of a report's place: its immigration court's, else its position's.

    Local courthouses are not known to this view, but a report at one carries
    the courthouse's coordinates (or a pin beside it), which give its zone.
    """
    court_zone = immigration_court_zones().get(courthouse_code or "")
    if court_zone:
        return court_zone
    if lat is not None and lon is not None:
        return zone_name_at(lat, lon)
    return None


def cells_of(state: State | None, default: ZoneInfo) -> tuple[Counter[CountKey], Counter[WatchKey]]:
    """What one report in this state adds to the count and watch tables.

    Days are local days in the state's own zone, or in ``default`` without one.
    """
    counts: Counter[CountKey] = Counter()
    watch: Counter[WatchKey] = Counter()
    if state is None:
        return counts, watch
    zone = zone_or(state.get("zone"), default)
    kind = Kind(state["kind"])
    observed = datetime.fromisoformat(state["observed_at"])
    day = local_day(observed, zone)
    where = state["courthouse_code"] or NO_COURTHOUSE
    details = state["details"]
    counts[(day, where, kind.value, *TOTAL)] += 1
    counts[(day, where, kind.value, "status", _counted_status(state))] += 1
    for dimension, field in DIMENSIONS[kind].items():
        counts[(day, where, kind.value, dimension, str(details.get(field) or "unknown"))] += 1
    for (k, dimension, value), n in pipeline.cells(kind.value, observed, details).items():
        counts[(day, where, k, dimension, value)] += n
    ended = details.get("ended_at")
    if kind is Kind.WATCH_SHIFT and ended:
        for shift_day, seconds in split_by_day(observed, datetime.fromisoformat(ended), zone):
            watch[(shift_day, where)] += seconds
    return counts, watch


def _counted_status(state: State) -> str:
    """The status this state was counted under, so taking it away again is exact.

    States written since anonymous corroboration stopped changing a status
    carry the status they were counted under. Older ones were counted by the
    old rule (any corroboration made an unverified report "corroborated"), and
    are taken away by that rule; ``courtwatch project --rebuild`` recounts
    them all by the current one.
    """
    if "status" in state:
        return str(state["status"])
    if state["verdict"] is None and state["corroborations"]:
        return Status.CORROBORATED.value
    return status_of(state["verdict"]).value


def _kept_details(kind: Kind, details: dict[str, Any]) -> dict[str, Any]:
    # Only what a trend counts is kept: no free text (taken_to, office) in this view.
    fields = [*DIMENSIONS[kind].values(), "ended_at"]
    kept = {f: details[f] for f in fields if f in details}
    # The pipeline's fields, read as "not known" when the state predates them:
    # from this event on the report is counted there (projections/trends/pipeline.py).
    with_pipeline = with_defaults(kind.value, details)
    if kind.value in pipeline.KINDS:
        kept |= {f: with_pipeline[f] for f in pipeline.KEPT_FIELDS if f in with_pipeline}
    return kept


class TrendView(ParkingView):
    projection_name = "trends"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(SQL(statement) for statement in DDL)  # type: ignore[arg-type,misc]
        self.configured_zone = Settings.from_env().timezone
        self._zone: ZoneInfo | None = None

    def create_table(self) -> None:
        super().create_table()
        # Here rather than only in zone(): a zone read inside an event's savepoint
        # that is then rolled back (the event parked) must not leave the cache
        # believing in a trend_meta row that was never committed.
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("INSERT INTO trend_meta (zone) VALUES (%s) ON CONFLICT DO NOTHING"),
                (self.configured_zone,),
            )

    def zone(self, curs: Any) -> ZoneInfo:
        if self._zone is None:
            curs.execute(
                SQL("INSERT INTO trend_meta (zone) VALUES (%s) ON CONFLICT DO NOTHING"),
                (self.configured_zone,),
            )
            curs.execute(SQL("SELECT zone FROM trend_meta"))
            stored = curs.fetchone()["zone"]
            if stored != self.configured_zone:
                log.warning(
                    "trend tables were built for another time zone; rebuild to change it",
                    extra={"stored": stored, "configured": self.configured_zone},
                )
            self._zone = ZoneInfo(stored)
        return self._zone

    def record(
        self, tracking: Tracking, report_id: UUID, fold: Callable[[State | None], State]
    ) -> None:
        # The event's transaction, which also records the tracking (ParkingView.process).
        with self.writing() as curs:
            zone = self.zone(curs)
            curs.execute(
                SQL("SELECT state FROM trend_reports WHERE report_id = %s FOR UPDATE"), (report_id,)
            )
            row = curs.fetchone()
            before = row["state"] if row else None
            after = fold(None if before is None else dict(before, details=dict(before["details"])))
            old_counts, old_watch = cells_of(before, zone)
            new_counts, new_watch = cells_of(after, zone)
            self._apply(
                curs, _difference(new_counts, old_counts), _difference(new_watch, old_watch)
            )
            curs.execute(
                SQL(
                    "INSERT INTO trend_reports (report_id, state) VALUES (%s, %s) "
                    "ON CONFLICT (report_id) DO UPDATE SET state = EXCLUDED.state"
                ),
                (report_id, Jsonb(after)),
            )
            curs.execute(SQL("UPDATE trend_meta SET events = events + 1"))

    @staticmethod
    def _apply(curs: Any, counts: dict[CountKey, int], watch: dict[WatchKey, int]) -> None:
        if counts:
            columns = list(zip(*[(*key, n) for key, n in counts.items()], strict=True))
            curs.execute(
                SQL(
                    "INSERT INTO trend_counts (day, courthouse_code, kind, dimension, value, n) "
                    "SELECT * FROM unnest(%s::date[], %s::text[], %s::text[], %s::text[], "
                    "%s::text[], %s::integer[]) "
                    "ON CONFLICT (day, courthouse_code, kind, dimension, value) "
                    "DO UPDATE SET n = trend_counts.n + EXCLUDED.n"
                ),
                [list(c) for c in columns],
            )
        if watch:
            columns = list(zip(*[(*key, s) for key, s in watch.items()], strict=True))
            curs.execute(
                SQL(
                    "INSERT INTO trend_watch (day, courthouse_code, seconds) "
                    "SELECT * FROM unnest(%s::date[], %s::text[], %s::bigint[]) "
                    "ON CONFLICT (day, courthouse_code) "
                    "DO UPDATE SET seconds = trend_watch.seconds + EXCLUDED.seconds"
                ),
                [list(c) for c in columns],
            )


def _difference(new: Counter[Any], old: Counter[Any]) -> dict[Any, int]:
    keys = set(new) | set(old)
    return {k: new[k] - old[k] for k in keys if new[k] != old[k]}


class TrendProjection(ParkingProjection[TrendView]):
    name = TrendView.projection_name
    topics = TOPICS

    def handle(self, domain_event: Any, tracking: Tracking) -> None:
        if not is_report_event(domain_event):
            return  # only tracked

        def apply(before: State | None) -> State:
            prior = None
            if before is not None:
                observed = datetime.fromisoformat(before["observed_at"])
                prior = {**before, "observed_at": observed, "lat": None, "lon": None}
            after = evolve(prior, domain_event)
            kind = Kind(after["kind"])
            zone = None if before is None else before.get("zone")
            # The prior state has no position, so a position here is one this
            # event gave: a submission, or an amendment of where it happened.
            moved = before is None or after["courthouse_code"] != before["courthouse_code"]
            if moved or after["lat"] is not None:
                zone = place_zone(after["courthouse_code"], after["lat"], after["lon"]) or zone
            return {
                "kind": kind.value,
                "courthouse_code": after["courthouse_code"],
                "observed_at": plain(after["observed_at"]),
                "zone": zone,
                "details": _kept_details(kind, after["details"]),
                "verdict": after["verdict"],
                "corroborations": after["corroborations"],
                "status": status_of(after["verdict"]).value,
            }

        self.view.record(tracking, domain_event.originator_id, apply)
