"""In-process projections survive their database connections being cut."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner

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
