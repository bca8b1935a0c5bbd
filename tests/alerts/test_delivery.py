"""Deliveries: who a report alerts, what the webhook carries, retries and failure."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from courtwatch.alerts import InvalidAlertField, signing
from courtwatch.alerts.model import check_subscription
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from projections.alerts import projection
from tests.alerts.conftest import hooked_member, submit, until
from tests.alerts.receiver import Receiver

pytestmark = pytest.mark.usefixtures("delivering")


def test_a_new_report_reaches_the_webhook_signed_and_without_personal_details(
    services: Services, receiver: Receiver
) -> None:
    hooked_member(services, receiver)
    report_id = submit(services, lat=40.7143, lon=-74.0042)
    got = until(lambda: receiver.accepted)[0]
    assert got.body == {
        "kind": "sighting",
        "courthouse": "NYC",
        "time": got.body["time"],
        "status": "unverified",
        "trigger": "new",
        "link": f"{services.settings.public_url}/reports/{report_id}",
        "thread": got.body["thread"],
        "thread_reports": 1,
        "delivery_id": got.delivery_id,
    }
    # The signature verifies with the hook's secret, over exactly these bytes.
    assert signing.verify(receiver.secret, got.signature, got.raw)
    stats = until(lambda: (s := services.alerts.report_alerts(report_id)).delivered and s)
    assert (stats.deliveries, stats.delivered, stats.failed) == (1, 1, 0)
    assert stats.median_seconds is not None and 0 <= stats.median_seconds < 5


def test_a_tampered_or_replayed_delivery_is_refused_by_the_receiver(
    services: Services, receiver: Receiver
) -> None:
    hooked_member(services, receiver)
    submit(services)
    got = until(lambda: receiver.accepted)[0]
    headers = {signing.DELIVERY_HEADER: got.delivery_id, signing.SIGNATURE_HEADER: got.signature}
    tampered = got.raw.replace(b'"unverified"', b'"verified"')
    assert httpx.post(receiver.url, content=tampered, headers=headers).status_code == 401
    # The same bytes signed (correctly) six minutes ago: outside the replay window.
    old = int(time.time()) - 360
    replayed = {**headers, signing.SIGNATURE_HEADER: signing.sign(receiver.secret, got.raw, old)}
    assert httpx.post(receiver.url, content=got.raw, headers=replayed).status_code == 401
    # Signed with another secret.
    forged = {**headers, signing.SIGNATURE_HEADER: signing.sign("whsec_guess", got.raw)}
    assert httpx.post(receiver.url, content=got.raw, headers=forged).status_code == 401
    assert receiver.refused == [
        "signature does not match",
        "timestamp outside the replay window",
        "signature does not match",
    ]
    assert len(receiver.accepted) == 1


def test_a_receiver_that_is_down_gets_retries_then_the_delivery_is_failed(
    services: Services, receiver: Receiver
) -> None:
    member_id = hooked_member(services, receiver)
    receiver.down = True
    report_id = submit(services)
    attempts = services.settings.alert_attempts
    until(lambda: services.alerts.report_alerts(report_id).failed == 1)
    assert receiver.requests == attempts
    hook = services.alerts.webhooks(member_id)[0]
    log = services.alerts.webhook_log(member_id, hook.id)
    assert [(entry["attempt"], entry["http_status"]) for entry in log] == [
        (n, 503) for n in range(attempts, 0, -1)
    ]
    assert {entry["delivery_status"] for entry in log} == {"failed"}
    # Back-off: the n-th wait is at least 2^(n-1) times the base. Lower bounds
    # only: a loaded machine may make any wait longer (a ratio of two measured
    # gaps failed under load), never shorter.
    times = [datetime.fromisoformat(entry["at"]) for entry in reversed(log)]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    base = services.settings.alert_retry_seconds
    assert gaps[0] >= 0.95 * base and gaps[1] >= 0.95 * 2 * base, gaps


def test_a_closed_port_is_retried_and_recorded_without_stopping_the_sender(
    services: Services, receiver: Receiver
) -> None:
    member_id = hooked_member(services, receiver)
    receiver.stop()
    report_id = submit(services)
    until(lambda: services.alerts.report_alerts(report_id).failed == 1)
    hook = services.alerts.webhooks(member_id)[0]
    log = services.alerts.webhook_log(member_id, hook.id)
    assert all(e["http_status"] is None and "ConnectionError" in e["error"] for e in log)
    receiver.start()  # for the fixture's stop()


def test_the_minimum_status_fires_once_when_first_reached(
    services: Services, receiver: Receiver
) -> None:
    hooked_member(services, receiver, min_status="on_scene")
    report_id = submit(services)
    other = submit(services)  # never confirmed: never alerts this subscriber
    services.app.confirm_on_scene(report_id, "Ana")
    got = until(lambda: receiver.accepted)[0]
    assert (got.body["status"], got.body["trigger"]) == ("corroborated", "corroborated")
    services.app.verify(report_id, "Ana")
    done = submit(services)  # a later report: once it is projected, so was the verification
    services.app.confirm_on_scene(done, "Ana")
    until(lambda: len(receiver.accepted) == 2)
    assert [r.body["link"].rsplit("/", 1)[1] for r in receiver.accepted] == [
        str(report_id),
        str(done),
    ]
    assert str(other) not in json.dumps([r.body for r in receiver.accepted])


def test_an_area_matches_reports_inside_the_circle_only(
    services: Services, receiver: Receiver
) -> None:
    # Around lower Manhattan, 2 km; no courthouse named.
    hooked_member(
        services, receiver, courthouses=[], area={"lat": 40.7128, "lon": -74.006, "radius_m": 2000}
    )
    far = submit(services, courthouse_code=None, lat=40.80, lon=-73.95)  # ~10 km north
    near = submit(services, courthouse_code=None, lat=40.7150, lon=-74.0080)
    got = until(lambda: receiver.accepted)[0]
    time_for_far = submit(services, courthouse_code=None, lat=40.7151, lon=-74.0081)
    until(lambda: len(receiver.accepted) == 2)
    links = [r.body["link"] for r in receiver.accepted]
    assert got.body["link"].endswith(str(near))
    assert not any(link.endswith(str(far)) for link in links)
    assert links[1].endswith(str(time_for_far))


def test_reports_at_one_courthouse_within_the_window_make_one_thread(
    services: Services, receiver: Receiver
) -> None:
    hooked_member(services, receiver, courthouses=["NYC", "SFR"])
    submit(services)
    submit(services)
    submit(services, courthouse_code="SFR")
    until(lambda: len(receiver.accepted) == 3)
    by_court: dict[str, set[str]] = {}
    for r in receiver.accepted:
        by_court.setdefault(r.body["courthouse"], set()).add(r.body["thread"])
    assert len(by_court["NYC"]) == 1 and len(by_court["SFR"]) == 1
    assert by_court["NYC"] != by_court["SFR"]
    assert sorted(
        r.body["thread_reports"] for r in receiver.accepted if r.body["courthouse"] == "NYC"
    ) == [1, 2]


def test_a_disabled_webhook_gets_nothing(services: Services, receiver: Receiver) -> None:
    member_id = hooked_member(services, receiver)
    hook = services.alerts.webhooks(member_id)[0]
    services.alerts.set_webhook_active(member_id, hook.id, False)
    live = Receiver().start()
    try:
        hooked_member(services, live, name="Eli")
        submit(services)
        until(lambda: live.accepted)
        assert receiver.requests == 0
    finally:
        live.stop()


def test_events_older_than_the_stale_limit_alert_no_one(
    services: Services, receiver: Receiver, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first run on an old log must not page everyone for last year's reports:
    # here every event counts as old until the limit is put back.
    hooked_member(services, receiver)
    monkeypatch.setattr(projection, "STALE_AFTER", timedelta(seconds=-1))
    old = services.app.submit(
        {
            "kind": "sighting",
            "courthouse_code": "NYC",
            "observed_at": datetime.now(UTC).isoformat(),
        },
        uuid.uuid4().hex,
    )
    assert old.position is not None
    until(lambda: runner.position_of(database, runner.ALERTS_SPEC) >= old.position)
    monkeypatch.undo()
    new = submit(services)
    until(lambda: receiver.accepted)
    assert [r.body["link"].rsplit("/", 1)[1] for r in receiver.accepted] == [str(new)]
    assert services.alerts.report_alerts(old.report_id).deliveries == 0


def test_a_zone_the_database_does_not_know_is_refused_before_it_can_stop_matching(
    services: Services, receiver: Receiver
) -> None:
    # "localtime" passed the zoneinfo check; PostgreSQL refuses it in AT TIME ZONE,
    # so the one matching query failed, and the report's event was parked with
    # no alert to anyone. The store now checks PostgreSQL's own list.
    member = services.members.create_member("Zed", ["responder"])
    spec = dataclasses.replace(check_subscription({"courthouses": ["NYC"]}), timezone="localtime")
    with pytest.raises(InvalidAlertField, match="timezone"):
        services.alerts.subscribe(member.id, spec)
    hooked_member(services, receiver)
    submit(services)
    until(lambda: receiver.accepted)
