"""Run the projections: in their own process (`courtwatch project`) or inside `serve`."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    InfrastructureFactory,
    ListenNotifySubscription,
    Mapper,
    Tracking,
)
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import ApplicationSubscription, Projection, ProjectionRunner
from eventsourcing.utils import Environment

from courtwatch.application import Courtwatch
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.database import Database
from projections import parking
from projections.alerts.projection import AlertsProjection, AlertsView
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
    # False: `project --rebuild` leaves it alone. The alert outbox is a record
    # of what was sent; replaying the log into a fresh one would page everyone
    # again for old reports.
    rebuildable: bool = True


LIVE_MAP_SPEC = ProjectionSpec(LiveMapProjection, LiveMapView, ("map_reports", "activity_feed"))
LOG_SPEC = ProjectionSpec(TransparencyProjection, TransparencyView, LOG_TABLES)
TREND_SPEC = ProjectionSpec(TrendProjection, TrendView, TREND_TABLES)
ALERTS_SPEC = ProjectionSpec(AlertsProjection, AlertsView, rebuildable=False)


def all_projections() -> list[ProjectionSpec]:
    return [LIVE_MAP_SPEC, LOG_SPEC, TREND_SPEC, ALERTS_SPEC]


def parking_projections() -> list[ProjectionSpec]:
    """The projections that park events they cannot process (not the transparency log)."""
    return [s for s in all_projections() if issubclass(s.view, parking.ParkingView)]


class ProjectedCourtwatch(Courtwatch):
    """The application as the runners read it: a stored event that can no longer
    be decoded reaches the projection as :class:`parking.Undecodable` (and is
    parked there) instead of killing the runner, which decodes before it calls
    ``process_event``. The transparency log hashes stored rows, not decoded
    events, so it is not held up by such an event either.
    """

    name = Courtwatch.name

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=parking.TolerantMapper
        )


# At most this many events per transaction while catching up. Larger batches
# gain little (the per-transaction cost is already spread thin at this size)
# and hold the reports' locks and the connection longer.
BATCH_LIMIT = 1000


def batches(
    subscription: ApplicationSubscription[Any], limit: int = BATCH_LIMIT
) -> Iterator[list[tuple[Any, Tracking]]]:
    """The subscription's events in batches of what is already at hand.

    Waits for one event, then takes every further one the subscription has
    already read from the database, without waiting, up to ``limit``. Behind
    the log, that is a full batch (the subscription reads ahead in pages);
    caught up, it is the one new event, handled as soon as it arrives: the same
    loop is the fast replay and the low-latency live mode.
    """
    for first in subscription:
        batch = [first]
        while len(batch) < limit and _at_hand(subscription):
            try:
                batch.append(next(subscription))
            except StopIteration:
                break
        yield batch


def _at_hand(subscription: ApplicationSubscription[Any]) -> bool:
    """Whether the next event can be had without waiting (eventsourcing 9.5's
    ListenNotifySubscription keeps the current page and a queue of pages read
    ahead). Anything else, or a version without these attributes: no, and the
    runner degrades to batches of one event, as eventsourcing's own loop."""
    pages = subscription.subscription
    if not isinstance(pages, ListenNotifySubscription):
        return False
    try:
        return pages._notifications_index < len(pages._notifications) or (
            not pages._notifications_queue.empty()
        )
    except AttributeError:
        return False


def process_batch(projection: Projection[Any], batch: list[tuple[Any, Tracking]]) -> None:
    """Hand a batch to the projection: in one go if it takes batches
    (``process_batch``, e.g. every :class:`parking.ParkingProjection`), else event by event."""
    takes_batches = getattr(projection, "process_batch", None)
    if takes_batches is not None:
        takes_batches(batch)
    else:
        for domain_event, tracking in batch:
            projection.process_event(domain_event, tracking)


class BatchingProjectionRunner(ProjectionRunner[Any, Any]):
    """eventsourcing's runner, handing the projection batches instead of single events."""

    @staticmethod
    def _process_events_loop(  # type: ignore[override]
        subscription: ApplicationSubscription[Any],
        projection: Projection[Any],
        is_stopping: threading.Event,
        runner: weakref.ReferenceType[ProjectionRunner[Any, Any]],
    ) -> None:
        # As eventsourcing's loop, but over batches.
        try:
            for batch in batches(subscription):
                process_batch(projection, batch)
        except BaseException as error:
            running = runner()
            if running is not None:
                running._thread_error = error
            else:
                log.error("projection runner gone before its error was kept", exc_info=error)
        finally:
            is_stopping.set()


@dataclass
class RunningProjections:
    runners: list[ProjectionRunner[Any, Any]] = field(default_factory=list)

    def stop(self) -> None:
        # Side by side: each runner waits for its own subscription thread.
        stopping = [
            threading.Thread(target=self._stop_one, args=(runner,), name="stop-projection")
            for runner in self.runners
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()

    @staticmethod
    def _stop_one(runner: ProjectionRunner[Any, Any]) -> None:
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
            runner = BatchingProjectionRunner(
                application_class=ProjectedCourtwatch,
                projection_class=spec.projection,
                view_class=spec.view,
                env=database.eventsourcing_env(pool_size=2),
            )
            runner.__enter__()  # so that stop() can leave it the way eventsourcing expects
            running.runners.append(runner)
            log.info("projection started", extra={"projection": spec.projection.name})
            if isinstance(runner.view, parking.ParkingView) and (waiting := runner.view.parked()):
                log.warning(
                    "parked events wait for `courtwatch parked retry`",
                    extra={"projection": spec.projection.name, "parked_total": len(waiting)},
                )
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
    specs = [spec for spec in specs if spec.rebuildable]
    with database.connect(autocommit=True) as conn:
        for spec in specs:
            for table in (*spec.tables, tracking_table(spec)):
                conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        # Their parked events are parked again when the log is replayed.
        with conn.cursor() as curs:
            parking.forget(curs, [spec.projection.name for spec in specs])


def open_view(database: Database, spec: ProjectionSpec) -> PostgresTrackingRecorder:
    """The view of ``spec`` as its runner builds it (tables created), for the CLI."""
    env = Environment(spec.projection.name, database.eventsourcing_env(pool_size=1))
    return (
        InfrastructureFactory[PostgresTrackingRecorder]
        .construct(env=env)
        .tracking_recorder(spec.view)
    )


def retry_parked(
    database: Database, spec: ProjectionSpec, notification_id: int | None = None
) -> list[parking.RetryOutcome]:
    """Re-run ``spec``'s handler for its parked events (all, or one event's report)."""
    view = open_view(database, spec)
    assert isinstance(view, parking.ParkingView)
    projection = spec.projection(view=view)
    assert isinstance(projection, parking.ParkingProjection)
    # The plain mapper: an event that still cannot be decoded stays parked.
    app = Courtwatch(env=database.eventsourcing_env(pool_size=1))

    def load(position: int) -> object:
        found = app.recorder.select_notifications(start=position, limit=1, stop=position)
        if not found:
            raise LookupError(f"no stored event at position {position}")
        return app.mapper.to_domain_event(found[0])

    try:
        return view.retry(projection.handle, load, app.name, notification_id)
    finally:
        app.close()
        view.datastore.close()  # type: ignore[attr-defined]


def parked_events(
    database: Database, spec: ProjectionSpec, notification_id: int | None = None
) -> list[parking.ParkedEvent]:
    view = open_view(database, spec)
    try:
        assert isinstance(view, parking.ParkingView)
        return view.parked(notification_id)
    finally:
        view.datastore.close()  # type: ignore[attr-defined]


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
    """Keep in-process projections running, each on its own.

    A runner whose thread died (the database restarted, say) is logged and
    restarted with back-off, and only that one: the live map does not wait on
    the transparency log's retries, nor the other way round. Each restart
    resumes from the view's tracking record, so nothing is lost or repeated.
    Events a handler cannot process never get here: they are parked
    (projections/parking.py). What does get here is retried forever.
    """

    POLL_SECONDS = 0.5
    FIRST_DELAY = 1.0
    # A database restart takes seconds: do not back off much longer than that,
    # or the map stays stale long after the database is back.
    LONGEST_DELAY = 5.0
    # A runner that stayed up this long has recovered: its next failure starts
    # the back-off from the beginning again.
    HEALTHY_AFTER = 60.0

    def __init__(self, database: Database, specs: Sequence[ProjectionSpec] | None = None) -> None:
        self.database = database
        self.specs = list(specs if specs is not None else all_projections())
        self._runners: dict[str, ProjectionRunner[Any, Any]] = {}
        self._started: dict[str, float] = {}
        self._delay = {spec.projection.name: self.FIRST_DELAY for spec in self.specs}
        self._retry_at = {spec.projection.name: 0.0 for spec in self.specs}
        self._lock = threading.Lock()
        for spec in self.specs:
            self._start(spec)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="projection-supervisor", daemon=True
        )
        self._thread.start()

    def _start(self, spec: ProjectionSpec) -> None:
        name = spec.projection.name
        try:
            started = start(self.database, [spec]).runners[0]
        except Exception:
            log.exception(
                "starting a projection failed; will retry",
                extra={"projection": name, "retry_in": self._delay[name]},
            )
            self._back_off(name)
            return
        with self._lock:
            self._runners[name] = started
        self._started[name] = time.monotonic()

    def _back_off(self, name: str) -> None:
        self._retry_at[name] = time.monotonic() + self._delay[name]
        self._delay[name] = min(self._delay[name] * 2, self.LONGEST_DELAY)

    def _watch(self) -> None:
        while not self._stop.wait(self.POLL_SECONDS):
            for spec in self.specs:
                if self._stop.is_set():
                    return
                name = spec.projection.name
                current = self._runners.get(name)
                if current is None:
                    if time.monotonic() >= self._retry_at[name]:
                        self._start(spec)
                    continue
                try:
                    current.run_forever(timeout=0)
                except Exception:
                    log.exception(
                        "a projection stopped; restarting it",
                        extra={"projection": name, "retry_in": self._delay[name]},
                    )
                    with self._lock:
                        self._runners.pop(name, None)
                    RunningProjections([current]).stop()
                    self._back_off(name)
                    continue
                if time.monotonic() - self._started[name] > self.HEALTHY_AFTER:
                    self._delay[name] = self.FIRST_DELAY

    def check(self) -> None:
        """Nothing to raise: a dead runner is restarted by the supervisor itself."""

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self._lock:
            runners = list(self._runners.values())
            self._runners.clear()
        RunningProjections(runners).stop()
