"""The whole attempt is bounded by its deadline, resolving the receiver's name included."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from courtwatch.alerts import sender as sender_module
from courtwatch.alerts.sender import DEADLINE_ERROR, AlertSender
from courtwatch.alerts.store import Due
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database

DEADLINE = 0.5


@pytest.fixture
def hanging_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A DNS server that never answers for names under .hangs.test (for 10 s)."""
    release = threading.Event()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".hangs.test"):
            release.wait(10)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        yield release
    finally:
        release.set()  # the lookup threads left behind end now


def test_a_name_whose_resolution_hangs_ends_the_attempt_at_its_deadline(
    database: Database,
    settings: Settings,
    hanging_resolver: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: getaddrinfo ran on the worker's thread, outside the deadline (which
    # only shuts sockets down), twice (the link-local check, then urllib3): the
    # attempt took as long as the resolver did, here 10 s, with the receiver
    # never paused.
    monkeypatch.setattr(sender_module, "ATTEMPT_DEADLINE", DEADLINE)
    sender = AlertSender(database, settings)
    due = Due(
        id=uuid.uuid4(),
        channel="webhook",
        member_id=uuid.uuid4(),
        webhook_id=uuid.uuid4(),
        url="http://gateway.hangs.test:9/hook",
        secret="whsec_test",
        payload={"kind": "sighting", "link": "/reports/x"},
        attempts=1,
    )
    began = time.monotonic()
    made = sender._deliver(due, lease_ends=began + 60)
    took = time.monotonic() - began
    assert took < DEADLINE + 0.3, f"the attempt took {took:.2f} s"
    assert not made.ok
    assert made.error is not None and made.error.startswith(DEADLINE_ERROR)
    assert made.retry_in is not None, "tried again later, like any failed attempt"
