"""Run one projection over a backlog and SIGKILL this process in the middle of a
batch's transaction (used by tests/projections/test_parking.py).

    python tests/projections/kill_mid_batch.py map-rows-written|trend-events-handled

``map-rows-written``: the live map has upserted the batch's map rows but not yet
copied its feed rows. ``trend-events-handled``: the trend projection's per-event
handler has run for 300 events of a batch (its runner wraps them in one
transaction). Either way nothing of the batch may be left once the process dies.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg

from courtwatch.infrastructure.database import Database
from projections import runner
from projections.trends.projection import TrendProjection


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(point: str) -> int:
    if point == "map-rows-written":
        spec = runner.LIVE_MAP_SPEC
        copy = psycopg.Cursor.copy

        def copy_then_die(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
            if "activity_feed" in str(statement):
                die()
            return copy(self, statement, *args, **kwargs)

        psycopg.Cursor.copy = copy_then_die  # type: ignore[method-assign]
    elif point == "trend-events-handled":
        spec = runner.TREND_SPEC
        handle = TrendProjection.handle
        handled = [0]

        def handle_then_die(self: Any, event: Any, tracking: Any) -> None:
            handle(self, event, tracking)
            handled[0] += 1
            if handled[0] == 300:
                die()

        TrendProjection.handle = handle_then_die  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown point {point!r}")
    running = runner.start(Database.from_url(os.environ["DATABASE_URL"]), [spec])
    threading.Event().wait(120)  # killed long before
    running.stop()
    return 3


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
