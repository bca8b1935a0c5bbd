"""Fixtures for the transparency log against the real (embedded) PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from projections.transparency_log.projection import TransparencyProjection

SPEC = next(s for s in runner.all_projections() if s.projection is TransparencyProjection)


def submit_reports(services: Services, count: int) -> list[UUID]:
    """``count`` sightings, each corroborated once: two events per report."""
    ids = []
    for i in range(count):
        observed = (datetime.now(UTC) - timedelta(minutes=10 + i)).isoformat()
        result = services.app.submit(
            {
                "kind": "sighting",
                "lat": 40.71 + i / 1000,
                "lon": -74.0,
                "place": "outside",
                "agents_count": 2,
                "agency": "unknown",
                "plain_clothes": "unknown",
                "observed_at": observed,
            },
            uuid.uuid4().hex,
        )
        services.app.corroborate(result.report_id, uuid.uuid4().hex)
        ids.append(result.report_id)
    return ids


def project(database: Database) -> None:
    """Run the transparency projection until it has the whole log, then stop it."""
    running = runner.start(database, [SPEC])
    try:
        runner.wait_caught_up(database, running, [SPEC], timeout=30)
    finally:
        running.stop()


@pytest.fixture
def logged(services: Services) -> Iterator[tuple[Services, list[UUID]]]:
    ids = submit_reports(services, 6)
    project(services.database)
    yield services, ids
