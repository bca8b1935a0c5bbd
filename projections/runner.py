"""Run the projections: in their own process (`courtwatch project`) or inside `serve`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner

from courtwatch.application import Courtwatch
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.database import Database
from projections.live_map.projection import LiveMapProjection, LiveMapView
from projections.transparency_log.projection import TABLES as LOG_TABLES
from projections.transparency_log.projection import TransparencyProjection, TransparencyView
from projections.trends.projection import TABLES as TREND_TABLES
from projections.trends.projection import TrendProjection, TrendView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectionSpec:
    projection: type[Projection[Any]]
    view: type[PostgresTrackingRecorder]
    # Tables to drop for a rebuild (the tracking table is dropped too).
    tables: tuple[str, ...] = ()


LIVE_MAP_SPEC = ProjectionSpec(LiveMapProjection, LiveMapView, ("map_reports", "activity_feed"))
LOG_SPEC = ProjectionSpec(TransparencyProjection, TransparencyView, LOG_TABLES)
TREND_SPEC = ProjectionSpec(TrendProjection, TrendView, TREND_TABLES)


def all_projections() -> list[ProjectionSpec]:
    return [LIVE_MAP_SPEC, LOG_SPEC, TREND_SPEC]


@dataclass
class RunningProjections:
    runners: list[ProjectionRunner[Any, Any]] = field(default_factory=list)

    def stop(self) -> None:
        for runner in self.runners:
            try:
                runner.__exit__(None, None, None)
            except Exception:  # a runner that died already logged why
                log.exception("projection runner stopped with an error")

    def check(self) -> None:
        """Re-raise the error of a runner whose thread died."""
        for runner in self.runners:
            runner.run_forever(timeout=0)


def tracking_table(spec: ProjectionSpec) -> str:
    return spec.projection.name.lower() + "_tracking"


def start(database: Database, specs: Sequence[ProjectionSpec] | None = None) -> RunningProjections:
    running = RunningProjections()
    try:
        for spec in specs if specs is not None else all_projections():
            runner = ProjectionRunner(
                application_class=Courtwatch,
                projection_class=spec.projection,
                view_class=spec.view,
                env=database.eventsourcing_env(pool_size=2),
            )
            runner.__enter__()  # so that stop() can leave it the way eventsourcing expects
            running.runners.append(runner)
            log.info("projection started", extra={"projection": spec.projection.name})
    except BaseException:
        running.stop()  # those already started, or their threads outlive the failure
        raise
    return running


def position_of(database: Database, spec: ProjectionSpec) -> int:
    with database.connect() as conn:
        row = conn.execute(
            f"SELECT coalesce(max(notification_id), 0) FROM {tracking_table(spec)} "
            "WHERE application_name = 'Courtwatch'"
        ).fetchone()
    return int(row[0]) if row else 0


def drop_views(database: Database, specs: Sequence[ProjectionSpec]) -> None:
    with database.connect(autocommit=True) as conn:
        for spec in specs:
            for table in (*spec.tables, tracking_table(spec)):
                conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")


def wait_caught_up(
    database: Database,
    running: RunningProjections | Supervisor,
    specs: Sequence[ProjectionSpec],
    progress: Callable[[int, int], None] | None = None,
    timeout: float | None = None,
) -> None:
    """Block until every projection has processed the log as it stood when called."""
    target = event_log.head(database)
    deadline = None if timeout is None else time.monotonic() + timeout
    stop = threading.Event()
    while not stop.is_set():
        running.check()
        done = min((position_of(database, s) for s in specs), default=target)
        if progress:
            progress(done, target)
        # A filtered projection tracks only its own topics: it is caught up
        # when nothing it subscribes to is left past its position.
        if done >= target or all(_nothing_left(database, s) for s in specs):
            return
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"projections at {done} of {target}")
        stop.wait(0.2)


def _nothing_left(database: Database, spec: ProjectionSpec) -> bool:
    return not event_log.any_after(database, position_of(database, spec), spec.projection.topics)


class Supervisor:
    """Keep in-process projections running: a runner whose thread died (the
    database restarted, say) is logged and all are restarted, with back-off.
    Each restart resumes from the tracking records, so nothing is lost.
    """

    def __init__(self, database: Database, specs: Sequence[ProjectionSpec] | None = None) -> None:
        self.database = database
        self.specs = specs
        self.running = start(database, specs)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="projection-supervisor", daemon=True
        )
        self._thread.start()

    # A database restart takes seconds: do not back off much longer than that,
    # or the map stays stale long after the database is back.
    MAX_RESTART_DELAY_SECONDS = 5.0

    def _watch(self) -> None:
        delay = 1.0
        needs_start = False
        while not self._stop.wait(delay):
            try:
                if needs_start:
                    # A restart that failed (the database still down) left no
                    # runners: nothing would ever raise again, so remember it.
                    self.running = start(self.database, self.specs)
                    needs_start = False
                    log.warning("projections restarted")
                self.running.check()
                delay = 1.0
            except Exception:
                log.exception("a projection stopped; restarting the projections")
                self.running.stop()
                self.running = RunningProjections()
                needs_start = True
                delay = min(delay * 2, self.MAX_RESTART_DELAY_SECONDS)

    def check(self) -> None:
        """Nothing to raise: a dead runner is restarted by the supervisor itself."""

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.running.stop()
