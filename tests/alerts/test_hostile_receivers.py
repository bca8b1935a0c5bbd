"""Receivers that fight back: one that answers a byte at a time, one whose name
points at the cloud metadata address. Neither may hold anyone else's alerts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from courtwatch.alerts import sender as sender_module
from courtwatch.alerts.model import check_push_subscription, check_subscription
from courtwatch.alerts.store import push_endpoints
from courtwatch.services import Services
from tests.alerts.conftest import hooked_member, submit, until
from tests.alerts.push_service import PushService
from tests.alerts.receiver import Receiver
from tests.conftest import free_port

pytestmark = pytest.mark.usefixtures("delivering")


class Trickler:
    """Accepts a POST and answers its status line one byte every 0.2 s, forever:
    each read arrives well within the read timeout, so only a deadline ends it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connections = 0
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            self.connections += 1
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
                    if self._stop.wait(0.2):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:
                return  # the sender hung up: what the deadline is for

    def stop(self) -> None:
        self._stop.set()
        self._server.close()


@pytest.fixture
def trickler() -> Iterator[Trickler]:
    started = Trickler()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real deadline is seconds long; the test only needs it to exist (and
    # shorter than the ~3.4 s the trickler takes to finish its status line).
    monkeypatch.setattr(sender_module, "ATTEMPT_DEADLINE", 1.5, raising=False)


@pytest.mark.usefixtures("short_deadline")
def test_a_webhook_that_answers_a_byte_at_a_time_does_not_hold_other_alerts(
    services: Services, receiver: Receiver, trickler: Trickler
) -> None:
    hooked_member(services, receiver, "Dana")
    slow = services.members.create_member("Eve", ["coordinator"])
    hook, _ = services.alerts.add_webhook(slow.id, trickler.url)
    services.alerts.subscribe(
        slow.id,
        check_subscription(
            {"courthouses": ["NYC"], "channel": "webhook", "webhook_id": str(hook.id)}
        ),
    )
    first = submit(services)
    until(lambda: trickler.connections, timeout=20)
    second = submit(services)
    # Before: the batch waited for every POST of it, and the trickling one never
    # ended (each byte came within the read timeout), so no later report was
    # ever sent to anyone.
    got = until(lambda: len(receiver.accepted) >= 2 and receiver.accepted, timeout=20)
    assert {r.body["link"].rsplit("/", 1)[1] for r in got} == {str(first), str(second)}
    log = until(lambda: services.alerts.webhook_log(slow.id, hook.id), timeout=20)
    assert log[0]["http_status"] is None and "deadline" in (log[0]["error"] or "")


@pytest.mark.usefixtures("short_deadline")
def test_a_push_endpoint_that_answers_a_byte_at_a_time_does_not_hold_other_alerts(
    services: Services, receiver: Receiver, trickler: Trickler
) -> None:
    # Any member (a responder) chooses their push endpoint: http on this machine is allowed.
    hooked_member(services, receiver, "Dana")
    slow = services.members.create_member("Eve", ["responder"])
    keys = check_push_subscription(PushService().subscribe("phone"))
    services.alerts.add_push_endpoint(slow.id, trickler.url, keys.p256dh, keys.auth)
    services.alerts.subscribe(slow.id, check_subscription({"courthouses": ["NYC"]}))
    first = submit(services)
    until(lambda: trickler.connections, timeout=20)
    second = submit(services)
    got = until(lambda: len(receiver.accepted) >= 2 and receiver.accepted, timeout=20)
    assert {r.body["link"].rsplit("/", 1)[1] for r in got} == {str(first), str(second)}


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:169.254.169.254]/latest/meta-data/",  # IPv4-mapped
        "http://2852039166/latest/meta-data/",  # 169.254.169.254 as one number
        "http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/",  # and in hex
    ],
)
def test_a_webhook_spelled_to_reach_the_metadata_address_is_never_connected_to(
    services: Services, receiver: Receiver, url: str
) -> None:
    # The URL check reads only a plain address; these spellings pass it (a DNS
    # name pointing there would too) and reached the cloud metadata service.
    hooked_member(services, receiver, "Dana")
    hostile = services.members.create_member("Eve", ["coordinator"])
    hook, _ = services.alerts.add_webhook(hostile.id, url)
    services.alerts.subscribe(
        hostile.id,
        check_subscription(
            {"courthouses": ["NYC"], "channel": "webhook", "webhook_id": str(hook.id)}
        ),
    )
    submit(services)
    log = until(lambda: services.alerts.webhook_log(hostile.id, hook.id))
    assert log[0]["http_status"] is None and "link-local" in (log[0]["error"] or "")
    until(lambda: receiver.accepted)


def test_a_member_keeps_at_most_ten_push_endpoints_the_newest(services: Services) -> None:
    # Each alert is sent to every endpoint of its member in turn: thousands of
    # them (a responder may register any https URL) held the sender's batch.
    member = services.members.create_member("Eve", ["responder"])
    service = PushService()
    added = []
    for n in range(15):
        keys = check_push_subscription(service.subscribe(f"phone{n}"))
        services.alerts.add_push_endpoint(member.id, keys.endpoint, keys.p256dh, keys.auth)
        added.append(keys.endpoint)
    kept = {endpoint for _, endpoint, _, _ in push_endpoints(services.database, member.id)}
    assert kept == set(added[-10:])
    # Sending one of them again is no new phone: nothing more is dropped.
    again = check_push_subscription(service.subscribe("phone9"))
    services.alerts.add_push_endpoint(member.id, again.endpoint, again.p256dh, again.auth)
    kept = {endpoint for _, endpoint, _, _ in push_endpoints(services.database, member.id)}
    assert kept == set(added[-10:])


@pytest.mark.usefixtures("short_deadline")
def test_a_stalling_receiver_is_tried_once_per_batch_not_once_per_subscription(
    services: Services, receiver: Receiver, trickler: Trickler
) -> None:
    # Fifty subscriptions (the cap) to one stalling push endpoint: each delivery
    # of a batch waited its own deadline, sixteen at a time, before the batch
    # (and the honest alert in it) was done: about 75 s at the real deadline.
    hooked_member(services, receiver, "Dana")
    slow = services.members.create_member("Eve", ["responder"])
    keys = check_push_subscription(PushService().subscribe("phone"))
    services.alerts.add_push_endpoint(slow.id, trickler.url, keys.p256dh, keys.auth)
    for _ in range(50):
        services.alerts.subscribe(slow.id, check_subscription({"courthouses": ["NYC"]}))
    submit(services)
    until(lambda: trickler.connections, timeout=20)
    submit(services)
    until(lambda: len(receiver.accepted) >= 2, timeout=30)
    # Each batch connects about once per sender thread (WORKERS), never once per
    # subscription: before, the first batch alone made all fifty connections.
    assert trickler.connections < 50


def test_a_coordinator_whose_role_is_taken_away_gets_nothing_more_at_their_webhook(
    services: Services, receiver: Receiver
) -> None:
    # Only coordinators may add or manage webhooks; set_roles (not revoke) left
    # the webhook active, receiving every alert at a URL its owner could no
    # longer even see through the API.
    member_id = hooked_member(services, receiver, "Dana")
    services.members.set_roles(member_id, ["responder"], None)
    witness = Receiver().start()
    try:
        hooked_member(services, witness, "Olu")
        submit(services)
        until(lambda: witness.accepted)
        [hook] = services.alerts.webhooks(member_id)
        log = until(lambda: services.alerts.webhook_log(member_id, hook.id))
        assert "no longer a coordinator" in (log[0]["error"] or "")
        assert receiver.requests == 0
    finally:
        witness.stop()
