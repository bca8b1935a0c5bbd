"""Helpers for the trend tests: an application with a fixed clock, and a projection catch-up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import Database
from projections import runner

# A Wednesday evening in New York, after the week 2026-W47 has ended.
NOW = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)


@pytest.fixture
def app(database: Database) -> Iterator[Courtwatch]:
    application = Courtwatch(env=database.eventsourcing_env(), secret=b"t" * 32, clock=lambda: NOW)
    yield application
    application.close()


@pytest.fixture
def catch_up(database: Database) -> Callable[[], None]:
    """Run the trend projection until it has processed the whole log, then stop it."""

    def run() -> None:
        running = runner.start(database, [runner.TREND_SPEC])
        try:
            runner.wait_caught_up(database, running, [runner.TREND_SPEC], timeout=600)
        finally:
            running.stop()

    return run
