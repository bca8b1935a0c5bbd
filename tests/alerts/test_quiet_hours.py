"""Quiet hours hold an alert until they end (on the subscriber's clock), and a
held alert superseded by a newer report of its incident is not sent at all.
The sender's clock is moved, never waited for."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from courtwatch.alerts.sender import AlertSender
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from tests.alerts.conftest import hooked_member, submit, until
from tests.alerts.receiver import Receiver

ZONE = "Asia/Tokyo"


def _quiet_now() -> tuple[dict[str, str], datetime]:
    """Quiet hours around this moment in ZONE, and when they end (UTC)."""
    local = datetime.now(ZoneInfo(ZONE))
    start, end = local - timedelta(hours=1), local + timedelta(hours=1)
    ends = end.replace(second=0, microsecond=0).astimezone(UTC)
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}, ends


def _deliveries(database: Database, report_id: UUID) -> list[tuple[str, datetime | None]]:
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT status, held_until FROM alert_deliveries WHERE report_id = %s "
            "ORDER BY held_until NULLS FIRST",
            (report_id,),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def test_an_alert_in_quiet_hours_is_held_and_sent_when_they_end(
    services: Services, database: Database, receiver: Receiver, delivering: AlertSender
) -> None:
    # Before: an alert in quiet hours was dropped; a raid reported at 02:00 was
    # never told to the responder who woke at 07:00.
    quiet, ends = _quiet_now()
    hooked_member(services, receiver, timezone=ZONE, quiet_hours=quiet)
    witness = Receiver().start()
    try:
        hooked_member(services, witness, name="Eli")  # same courthouse, no quiet hours
        report_id = submit(services)
        until(lambda: witness.accepted)
        assert receiver.requests == 0
        # The witness's 2xx is recorded just after it answered.
        until(lambda: _deliveries(database, report_id) == [("delivered", None), ("pending", ends)])
        assert services.alerts.report_alerts(report_id).held == 1
        delivering.clock = lambda: ends - timedelta(seconds=1)
        delivering.wake()
        until(lambda: delivering._wake.is_set() is False)  # the loop looked once more
        assert receiver.requests == 0
        delivering.clock = lambda: ends + timedelta(seconds=1)
        delivering.wake()
        [got] = until(lambda: receiver.accepted)
        assert got.body["link"].endswith(f"/reports/{report_id}")
        until(lambda: [s for s, _ in _deliveries(database, report_id)] == ["delivered"] * 2)
    finally:
        witness.stop()


def test_a_held_alert_superseded_in_its_incident_is_not_sent(
    services: Services, database: Database, receiver: Receiver, delivering: AlertSender
) -> None:
    # Three reports of one incident (one courthouse, minutes apart) during the
    # night: one alert in the morning, the newest, "Reports in this incident: 3".
    quiet, ends = _quiet_now()
    hooked_member(services, receiver, timezone=ZONE, quiet_hours=quiet)
    reports = [submit(services) for _ in range(3)]
    until(lambda: len(_deliveries(database, reports[-1])) == 1)
    until(lambda: _deliveries(database, reports[0])[0][0] == "superseded")
    assert _deliveries(database, reports[1])[0][0] == "superseded"
    assert services.alerts.report_alerts(reports[0]).superseded == 1
    delivering.clock = lambda: ends + timedelta(seconds=1)
    delivering.wake()
    [got] = until(lambda: receiver.accepted)
    assert got.body["link"].endswith(f"/reports/{reports[-1]}")
    assert got.body["thread_reports"] == 3
    until(lambda: _deliveries(database, reports[-1])[0][0] == "delivered")
    assert receiver.requests == 1


def test_a_held_arrest_is_not_superseded_by_a_later_sighting_in_its_incident(
    services: Services, database: Database, receiver: Receiver, delivering: AlertSender
) -> None:
    # Before: any newer report of the incident superseded the held alert, so an
    # arrest at 02:00 then a sighting at the same courthouse woke the
    # subscriber to one alert, a sighting, and they never heard of the arrest.
    # The morning alert carries the incident's most severe report, and its count.
    quiet, ends = _quiet_now()
    hooked_member(services, receiver, timezone=ZONE, quiet_hours=quiet)
    arrest = submit(services, kind="courthouse_arrest")
    sighting = submit(services)
    until(lambda: _deliveries(database, sighting) and _deliveries(database, arrest))
    assert _deliveries(database, arrest)[0][0] == "pending"
    assert _deliveries(database, sighting)[0][0] == "superseded"
    delivering.clock = lambda: ends + timedelta(seconds=1)
    delivering.wake()
    [got] = until(lambda: receiver.accepted)
    assert got.body["kind"] == "courthouse_arrest"
    assert got.body["link"].endswith(f"/reports/{arrest}")
    assert got.body["thread_reports"] == 2
    until(lambda: _deliveries(database, arrest)[0][0] == "delivered")
    assert receiver.requests == 1


def test_a_held_alert_of_a_removed_or_changed_subscription_is_not_sent(
    services: Services, database: Database, receiver: Receiver, delivering: AlertSender
) -> None:
    # Before: the claim never looked at the subscription, so a held alert was
    # sent in the morning to a member who had removed (or changed) it at night.
    quiet, ends = _quiet_now()
    removed = hooked_member(services, receiver, timezone=ZONE, quiet_hours=quiet)
    changed = hooked_member(services, receiver, name="Eli", timezone=ZONE, quiet_hours=quiet)
    relabelled = hooked_member(services, receiver, name="Fay", timezone=ZONE, quiet_hours=quiet)
    report_id = submit(services)
    until(lambda: len(_deliveries(database, report_id)) == 3)
    [gone] = services.alerts.subscriptions(removed)
    services.alerts.unsubscribe(removed, gone.id)
    [edited] = services.alerts.subscriptions(changed)
    services.alerts.replace(
        changed, edited.id, dataclasses.replace(edited.spec, courthouses=("LAX",))
    )
    [kept] = services.alerts.subscriptions(relabelled)
    services.alerts.replace(relabelled, kept.id, dataclasses.replace(kept.spec, label="night"))
    assert sorted(s for s, _ in _deliveries(database, report_id)) == [
        "pending",
        "superseded",
        "superseded",
    ]
    delivering.clock = lambda: ends + timedelta(seconds=1)
    delivering.wake()
    until(lambda: "delivered" in [s for s, _ in _deliveries(database, report_id)])
    assert receiver.requests == 1, "only the subscription merely relabelled is still owed"
