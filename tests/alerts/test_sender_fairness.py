"""Receivers that answer slowly, but within the deadline, share the workers with
everyone else instead of holding them: a quick receiver's alert is not queued
behind their backlog."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from courtwatch.alerts import sender as sender_module
from courtwatch.alerts.model import check_subscription
from courtwatch.alerts.sender import AlertSender
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from tests.alerts.conftest import hooked_member, submit, until
from tests.alerts.receiver import Receiver
from tests.conftest import free_port

DEADLINE = 1.5
SLOW_ANSWER = 1.2  # just under the deadline: never paused as stalling
SLOW_HOOKS = 8  # 8 receivers x 4 at a time held all 32 workers
BACKLOG = 12  # reports, each one delivery to every slow hook: three rounds of 4


class SlowGateway:
    """An organisation's gateway that answers 204, always after SLOW_ANSWER seconds."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests = 0
        self.last_request = 0.0  # time.monotonic() of the last one to arrive
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with gateway.lock:
                    gateway.requests += 1
                    gateway.last_request = time.monotonic()
                time.sleep(SLOW_ANSWER)
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[SlowGateway]:
    started = SlowGateway()
    try:
        yield started
    finally:
        started.stop()


def test_slow_receivers_with_a_backlog_do_not_delay_a_quick_one(
    services: Services,
    database: Database,
    receiver: Receiver,
    gateway: SlowGateway,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: a receiver answering under the deadline was never paused and got
    # 4 workers at a time, so 8 of them held all 32 workers and a quick
    # receiver's alert waited for a round of their attempts (~1.2 s here, ~19 s
    # with the real deadline). Now a receiver slow three times in a row gets one
    # worker at a time.
    monkeypatch.setattr(sender_module, "ATTEMPT_DEADLINE", DEADLINE)
    for n in range(SLOW_HOOKS):
        member = services.members.create_member(f"Org {n}", ["coordinator"])
        hook, _ = services.alerts.add_webhook(member.id, gateway.url)
        services.alerts.subscribe(
            member.id,
            check_subscription(
                {"courthouses": ["BOS"], "channel": "webhook", "webhook_id": str(hook.id)}
            ),
        )
    hooked_member(services, receiver, "Dana", courthouses=["NYC"])
    projecting = runner.Supervisor(database, [runner.ALERTS_SPEC])
    sender = AlertSender(database, services.settings).start()
    try:
        for _ in range(BACKLOG):
            submit(services, courthouse_code="BOS")
        # The first round (4 at a time to each) has answered, slowly, and the
        # next round has begun: every slow hook was tried again, and no new
        # attempt reached the gateway for 0.1 s (the round is all started).
        first_round = SLOW_HOOKS * sender_module.PER_RECEIVER
        until(lambda: gateway.requests >= first_round + SLOW_HOOKS, timeout=10)
        until(lambda: time.monotonic() - gateway.last_request > 0.1, timeout=10)
        began = time.monotonic()
        submit(services, courthouse_code="NYC")
        until(lambda: receiver.accepted, timeout=10)
        waited = time.monotonic() - began
    finally:
        sender.stop()
        projecting.stop()
    assert waited < 0.5, f"the quick receiver's alert waited {waited:.2f} s"
