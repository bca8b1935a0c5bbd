"""Web Push end to end without the internet: the sender's request reaches a local
push service that checks the VAPID JWT and decrypts the payload as a browser would."""

from __future__ import annotations

import stat
from collections.abc import Iterator

import pytest

from courtwatch.alerts import push
from courtwatch.alerts.model import check_push_subscription, check_subscription
from courtwatch.services import Services
from tests.alerts.conftest import submit, until
from tests.alerts.push_service import PushService, Refused, b64url, check_vapid

pytestmark = pytest.mark.usefixtures("delivering")


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    try:
        yield service
    finally:
        service.stop()


def pushed_member(services: Services, service: PushService, name: str, *devices: str) -> None:
    member = services.members.create_member(name, ["responder"])
    for device in devices:
        found = check_push_subscription(service.subscribe(device))
        services.alerts.add_push_endpoint(member.id, found.endpoint, found.p256dh, found.auth)
    services.alerts.subscribe(member.id, check_subscription({"courthouses": ["NYC"]}))


def test_a_report_is_pushed_signed_with_vapid_and_encrypted_to_the_browser(
    services: Services, push_service: PushService
) -> None:
    pushed_member(services, push_service, "Ana", "phone", "laptop")
    report_id = submit(services, lat=40.71432, lon=-74.00421)
    until(lambda: len(push_service.received) == 2)
    assert push_service.refused == []
    vapid = push.load_or_create_key(services.settings.data_dir)
    for got in push_service.received:
        assert got.sender_key == push.application_server_key(vapid)
        assert got.claims["aud"] == push_service.origin
        assert got.headers["topic"] == got.message["thread"].replace("-", "")
        assert got.message == {
            "kind": "sighting",
            "courthouse": "NYC",
            "time": got.message["time"],
            "status": "unverified",
            "link": f"{services.settings.public_url}/reports/{report_id}",
            "thread": got.message["thread"],
            "thread_reports": 1,
            "delivery_id": got.message["delivery_id"],
        }
    assert {g.path for g in push_service.received} == {"/push/phone", "/push/laptop"}
    # The service's checks can fail: another origin, or a JWT changed by one character.
    authorization = push_service.received[0].headers["authorization"]
    with pytest.raises(Refused, match="aud"):
        check_vapid(authorization, "https://push.example.org")
    head, _, rest = authorization.partition("t=")
    token, _, key = rest.partition(",")
    claims = token.split(".")
    forged = ".".join([claims[0], b64url(b'{"aud":"x","exp":1,"sub":"mailto:a@b"}'), claims[2]])
    with pytest.raises(Refused, match="signature"):
        check_vapid(f"{head}t={forged},{key}", push_service.origin)
    key_file = push.key_path(services.settings.data_dir)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_gone_subscription_is_forgotten_and_the_others_still_get_it(
    services: Services, push_service: PushService
) -> None:
    pushed_member(services, push_service, "Ana", "old", "new")
    push_service.gone.add("/push/old")
    first = submit(services)
    until(lambda: services.alerts.report_alerts(first).delivered == 1)
    second = submit(services)
    until(lambda: services.alerts.report_alerts(second).delivered == 1)
    assert [g.path for g in push_service.received] == ["/push/new", "/push/new"]


def test_without_any_push_endpoint_the_delivery_fails_at_once(
    services: Services, push_service: PushService
) -> None:
    pushed_member(services, push_service, "Ana")
    report_id = submit(services)
    until(lambda: services.alerts.report_alerts(report_id).failed == 1)
