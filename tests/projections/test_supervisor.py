"""In-process projections survive their database connections being cut."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import OperationalError, Tracking

from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from projections.transparency_log.projection import TransparencyProjection

SPEC = runner.LIVE_MAP_SPEC


def submit(services: Services) -> int:
    observed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    result = services.app.submit(
        {"kind": "sighting", "courthouse_code": "NYC", "observed_at": observed}, uuid.uuid4().hex
    )
    assert result.position is not None
    return result.position


def wait_projected(database: Database, position: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while runner.position_of(database, SPEC) < position:
        assert time.monotonic() < deadline, f"position {position} not projected in {timeout} s"
        time.sleep(0.05)


def test_projections_resume_after_their_connections_are_terminated(
    services: Services, database: Database
) -> None:
    supervisor = runner.Supervisor(database, [SPEC])
    try:
        wait_projected(database, submit(services), timeout=10)
        with database.connect(autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        wait_projected(database, submit(services), timeout=30)
    finally:
        supervisor.stop()


@pytest.mark.parametrize(
    "error", [OperationalError("the log's database is restarting"), ValueError("a bug")]
)
def test_one_failing_projection_does_not_hold_up_or_restart_the_others(
    services: Services, database: Database, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    # The transparency log never parks: an error there is retried forever. The
    # live map must go on meanwhile, without being restarted along with it.
    attempts: list[int] = []

    def failing(self: object, domain_event: object, tracking: Tracking) -> None:
        attempts.append(tracking.notification_id)
        raise error

    monkeypatch.setattr(TransparencyProjection, "process_event", failing)
    monkeypatch.setattr(runner.Supervisor, "FIRST_DELAY", 0.1)
    supervisor = runner.Supervisor(database, [SPEC, runner.LOG_SPEC])
    try:
        live_map = supervisor._runners["livemap"]
        wait_projected(database, submit(services), timeout=10)
        deadline = time.monotonic() + 10
        while len(attempts) < 3:  # restarted, more than once
            assert time.monotonic() < deadline, attempts
            time.sleep(0.05)
        wait_projected(database, submit(services), timeout=10)
        assert supervisor._runners["livemap"] is live_map
        assert runner.position_of(database, runner.LOG_SPEC) == 0
    finally:
        supervisor.stop()
