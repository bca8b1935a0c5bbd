"""The delivery projection: which subscribers a report event alerts, written as an outbox.

For each report event it folds the report (courtwatch.domain.fold, the one
fold) and, when the report reaches a status level for the first time (new:
"any"; a member confirmed it on scene: "on_scene"; verified), matches the
subscriptions in one SQL query (courtwatch.alerts.store.match) and writes one
delivery per subscriber. Those rows, the report's alert state and the tracking
record are one transaction (projections/parking.py): after a crash the event
is processed again from the tracking position and the unique (subscription,
report) key writes nothing twice. Sending is someone else's work
(courtwatch/alerts/sender.py), never this transaction's.

Reports at one courthouse within 20 minutes share an alert thread; push
notifications of one thread replace each other (same Topic and tag).

An imported report (courtwatch/importing) never alerts: it is history, not news.
A report event older than ``STALE_AFTER`` when processed is folded but alerts
no one: a new deployment (or a first run of this projection on an old log)
must not page every responder for last year's reports.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from courtwatch.alerts import store
from courtwatch.alerts.model import ALERT_KINDS, STATUS_LEVELS
from courtwatch.domain.fold import plain, status_of
from courtwatch.domain.reports import REPORT_TOPICS, Report, evolve, is_imported, is_report_event
from courtwatch.gazetteer import immigration_courts
from projections.parking import ParkingProjection, ParkingView

STALE_AFTER = timedelta(hours=1)
TRIGGERS = {0: "new", 1: "corroborated", 2: "verified"}


@cache
def _court_places() -> dict[str, tuple[float, float]]:
    return {court.code: (court.lat, court.lon) for court in immigration_courts()}


def _restored(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "observed_at": datetime.fromisoformat(state["observed_at"])}


class AlertsView(ParkingView):
    projection_name = "alerts"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            store.create_tables(curs)


class AlertsProjection(ParkingProjection[AlertsView]):
    name = AlertsView.projection_name
    topics = REPORT_TOPICS

    def handle(self, domain_event: Any, tracking: Tracking) -> None:
        if not is_report_event(domain_event):
            return
        report_id = domain_event.originator_id
        at: datetime = domain_event.timestamp
        with self.view.writing() as curs:
            current = store.load_report(curs, report_id)
            if isinstance(domain_event, Report.Submitted):
                if current is not None:
                    return  # already folded (a retried parked event)
                if is_imported(report_id):
                    return  # years-old records from a spreadsheet: nothing to go to
                state = evolve(None, domain_event)
                if state["kind"] not in ALERT_KINDS:
                    return  # watch shifts never alert: not kept either
                thread_id, in_thread = store.open_thread(curs, state["courthouse_code"], at)
                before = -1
                submitted_at = at
            else:
                if current is None:
                    return  # a watch shift's later event
                state = evolve(_restored(current["state"]), domain_event)
                thread_id = current["thread_id"]
                before = int(current["level"])
                submitted_at = current["submitted_at"]
                in_thread = 0
            status = status_of(state["verdict"]).value
            level = STATUS_LEVELS.get(status, 0)
            store.save_report(curs, report_id, plain(state), level, thread_id, submitted_at)
            if level <= before or datetime.now(UTC) - at > STALE_AFTER:
                return
            where = (state["lat"], state["lon"])
            if where[0] is None or where[1] is None:
                where = _court_places().get(state["courthouse_code"] or "", (None, None))  # type: ignore[assignment]
            payload = {
                "kind": state["kind"],
                "courthouse": state["courthouse_code"],
                "time": state["observed_at"].isoformat(),
                "status": status,
                "trigger": TRIGGERS[level],
                "link": f"/reports/{report_id}",
                "thread": str(thread_id),
                "thread_reports": in_thread or store.thread_reports(curs, thread_id),
            }
            store.match(
                curs,
                store.Match(
                    report_id=report_id,
                    thread_id=thread_id,
                    kind=state["kind"],
                    courthouse_code=state["courthouse_code"],
                    lat=where[0],
                    lon=where[1],
                    level_before=before,
                    level=level,
                    trigger=TRIGGERS[level],
                    at=at,
                    payload=payload,
                ),
            )
