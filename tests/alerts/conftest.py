"""Alerts fixtures: the delivery projection and the sender, running in-process."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from courtwatch.alerts.model import check_subscription
from courtwatch.alerts.sender import AlertSender
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from tests.alerts.receiver import Receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Quick retries, so "down, then failed" takes a fraction of a second.
    return dataclasses.replace(settings, alert_retry_seconds=0.05, alert_attempts=3)


@pytest.fixture
def delivering(services: Services, database: Database) -> Iterator[AlertSender]:
    supervisor = runner.Supervisor(database, [runner.ALERTS_SPEC])
    sender = AlertSender(database, services.settings).start()
    try:
        yield sender
    finally:
        sender.stop()
        supervisor.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    try:
        yield started
    finally:
        started.stop()


def until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def submit(services: Services, **fields: Any) -> uuid.UUID:
    body = {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "observed_at": datetime.now(UTC).isoformat(),
        **fields,
    }
    return services.app.submit(body, uuid.uuid4().hex).report_id


def hooked_member(
    services: Services, receiver: Receiver, name: str = "Dana", **subscription: Any
) -> uuid.UUID:
    """A coordinator with a webhook to ``receiver`` and one subscription."""
    member = services.members.create_member(name, ["coordinator"])
    hook, secret = services.alerts.add_webhook(member.id, receiver.url)
    receiver.secret = secret
    spec = check_subscription(
        {"courthouses": ["NYC"], "channel": "webhook", "webhook_id": str(hook.id), **subscription}
    )
    services.alerts.subscribe(member.id, spec)
    return member.id
