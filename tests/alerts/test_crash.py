"""SIGKILL `courtwatch project` mid-delivery: after a restart every subscriber has
every delivery exactly once by id, and a resent one carries the same id and body."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from tests.alerts.conftest import hooked_member, until
from tests.alerts.receiver import Receiver
from tests.cli.test_topology import Process

SUBSCRIBERS = 3
BEFORE_KILL = 15
WHILE_DOWN = 5


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started = [Receiver(delay=0.15).start() for _ in range(SUBSCRIBERS)]
    yield started
    for receiver in started:
        receiver.stop()


def submit_many(services: Services, n: int) -> list[uuid.UUID]:
    body = {"kind": "sighting", "courthouse_code": "NYC"}
    return [
        services.app.submit(
            {**body, "observed_at": datetime.now(UTC).isoformat()}, uuid.uuid4().hex
        ).report_id
        for _ in range(n)
    ]


def test_sigkill_mid_delivery_then_restart_delivers_each_alert_once_per_subscriber(
    services: Services, database: Database, tmp_path: Path, receivers: list[Receiver]
) -> None:
    for n, receiver in enumerate(receivers):
        hooked_member(services, receiver, name=f"Member {n}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTWATCH_")}
    env.update(
        DATABASE_URL=database.url,
        COURTWATCH_DATA_DIR=str(tmp_path / "data"),
        COURTWATCH_LOG_LEVEL="WARNING",
        COURTWATCH_ALERT_RETRY_SECONDS="0.2",
    )
    log = tmp_path / "project.log"
    projector = Process(["project"], env, log).start()
    try:
        reports = submit_many(services, BEFORE_KILL)
        # Some deliveries answered, others still waiting on the slow receivers.
        until(lambda: sum(len(r.accepted) for r in receivers) >= 5, timeout=60)
        projector.kill()
        killed_at = {id(r): len(r.accepted) for r in receivers}
        reports += submit_many(services, WHILE_DOWN)  # the log grows while no one projects
        projector = Process(["project"], env, log).start()
        expected = len(reports)
        until(lambda: all(len(r.ids()) == expected for r in receivers), timeout=90)
        with database.connect() as conn:
            until(lambda: _pending(conn) == 0, timeout=30)
            rows = conn.execute(
                "SELECT count(*), count(DISTINCT id) FROM alert_deliveries WHERE status = 'delivered'"
            ).fetchone()
        assert rows == (expected * SUBSCRIBERS, expected * SUBSCRIBERS)
    finally:
        projector.stop()
    resent = sum(sum(r.ids().values()) - len(r.ids()) for r in receivers)
    print(f"resent after the kill (same ids): {resent}")
    for receiver in receivers:
        by_report: dict[str, set[str]] = {}
        bodies: dict[str, bytes] = {}
        for got in receiver.accepted:
            assert got.body["delivery_id"] == got.delivery_id
            by_report.setdefault(got.body["link"].rsplit("/", 1)[1], set()).add(got.delivery_id)
            # A resent delivery is the same delivery: same id, same body.
            assert bodies.setdefault(got.delivery_id, got.raw) == got.raw
        assert set(by_report) == {str(r) for r in reports}
        assert all(len(ids) == 1 for ids in by_report.values())
        assert killed_at[id(receiver)] < len(receiver.accepted)


def _pending(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM alert_deliveries WHERE status <> 'delivered'"
    ).fetchone()
    conn.commit()
    return int(row[0]) if row else -1
