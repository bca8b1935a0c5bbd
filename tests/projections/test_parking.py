"""No single event stops a projection: an event its handler cannot process is
parked with its error, later events still land exactly once, and `courtwatch
parked retry` after a fix makes the view what a fresh rebuild gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import DataError as StoreDataError
from eventsourcing.persistence import IntegrityError as StoreIntegrityError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from courtwatch.domain.reports import Sighting, hash_token
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import parking, runner
from projections.live_map.projection import LiveMapProjection
from projections.trends.projection import TrendProjection
from tests.conftest import store_bypassing_intake
from tests.projections.test_rebuild_all import snapshot_views

SPECS = runner.all_projections()


def submit(services: Services, **overrides: Any) -> tuple[uuid.UUID, str, int]:
    body = {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "observed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        **overrides,
    }
    result = services.app.submit(body, uuid.uuid4().hex)
    assert result.position is not None
    return result.report_id, result.author_token, result.position


def catch_up(database: Database, specs: list[runner.ProjectionSpec] = SPECS) -> None:
    running = runner.start(database, specs)
    try:
        runner.wait_caught_up(database, running, specs, timeout=120)
        running.check()  # every runner is still alive
    finally:
        running.stop()


def parked_rows(database: Database, projection: str) -> list[parking.ParkedEvent]:
    return runner.parked_events(database, next(s for s in SPECS if s.projection.name == projection))


def map_ids(database: Database) -> set[uuid.UUID]:
    with database.connect() as conn:
        return {r[0] for r in conn.execute("SELECT report_id FROM map_reports").fetchall()}


def trend_ids(database: Database) -> set[uuid.UUID]:
    with database.connect() as conn:
        return {r[0] for r in conn.execute("SELECT report_id FROM trend_reports").fetchall()}


def cli(database: Database, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database.url, "COURTWATCH_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "courtwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def poisoned(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[uuid.UUID]]:
    """Reports whose events make the live map and trend handlers raise."""
    bad: set[uuid.UUID] = set()
    for projection in (LiveMapProjection, TrendProjection):
        original = projection.handle

        def handle(
            self: Any, event: Any, tracking: Any, original: Any = original
        ) -> None:  # pragma: no cover - replaced per test
            if event.originator_id in bad:
                raise ValueError(f"cannot handle {event.originator_id}")
            original(self, event, tracking)

        monkeypatch.setattr(projection, "handle", handle)
        # A batch holding a bad event fails as a whole, as a set-based write
        # would: the view must then redo it event by event, parking only that one.
        original_batch = projection.handle_batch

        def handle_batch(self: Any, batch: Any, original: Any = original_batch) -> None:
            if any(event.originator_id in bad for event, _ in batch):
                raise ValueError("cannot handle this batch")
            original(self, batch)

        monkeypatch.setattr(projection, "handle_batch", handle_batch)
    yield bad


def test_a_handler_error_parks_the_event_and_later_events_still_land_exactly_once(
    services: Services, database: Database, tmp_path: Path, poisoned: set[uuid.UUID]
) -> None:
    before, _, _ = submit(services)
    bad, token, bad_position = submit(services)
    poisoned.add(bad)
    after, _, _ = submit(services)
    # A later event of the parked report: it must wait, not crash or land alone.
    amended_position = services.app.amend(bad, token, {"agents_count": 7})
    last, _, _ = submit(services)

    catch_up(database)

    for name, ids in (("livemap", map_ids(database)), ("trends", trend_ids(database))):
        assert ids == {before, after, last}, name
        rows = parked_rows(database, name)
        assert [(r.notification_id, r.originator_id) for r in rows] == [
            (bad_position, bad),
            (amended_position, bad),
        ]
        assert rows[0].error == f"ValueError: cannot handle {bad}"
        assert rows[0].blocked_by is None and rows[0].topic.endswith("Sighting.Submitted")
        assert rows[1].error == parking.earlier_event_parked(bad_position)
        assert rows[1].blocked_by == bad_position
    with database.connect() as conn:
        feed = [r[0] for r in conn.execute("SELECT position FROM activity_feed ORDER BY 1")]
        events = conn.execute("SELECT events FROM trend_meta").fetchone()
        leaves = conn.execute("SELECT count(*) FROM log_leaves").fetchone()
    # Exactly once: every event applied or parked, none twice; the log is complete.
    assert len(feed) == len(set(feed)) == 3 and bad_position not in feed
    assert events is not None and events[0] == 3
    head = event_log.head(database)
    assert leaves is not None and leaves[0] == head
    for spec in SPECS:
        assert runner.position_of(database, spec) == head

    # The list command shows them, with their error.
    listed = cli(database, tmp_path, "parked", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"livemap\t{bad_position}\t{bad}" in listed.stdout
    assert f"ValueError: cannot handle {bad}" in listed.stdout
    assert "4 parked event(s)" in listed.stderr

    # Still broken (in this process, where the handler is patched): a retry
    # leaves both parked and says why.
    again = runner.retry_parked(database, runner.LIVE_MAP_SPEC)
    assert [(o.notification_id, o.retried, o.error) for o in again] == [
        (bad_position, False, f"ValueError: cannot handle {bad}"),
        (amended_position, False, parking.earlier_event_parked(bad_position)),
    ]
    assert [r.attempts for r in parked_rows(database, "livemap")] == [1, 0]
    assert bad not in map_ids(database)

    # The cause removed (the fix deployed), a retry applies both, in order.
    poisoned.clear()
    fixed = cli(database, tmp_path, "parked", "retry")
    assert fixed.returncode == 0, fixed.stderr
    assert "4 retried, 0 still parked" in fixed.stderr
    assert parked_rows(database, "livemap") == parked_rows(database, "trends") == []
    retried = snapshot_views(database)
    with database.connect() as conn:
        amended = conn.execute(
            "SELECT details->>'agents_count', position FROM map_reports WHERE report_id = %s",
            (bad,),
        ).fetchone()
    assert amended == ("7", amended_position)

    # ... and the views equal what a fresh replay of the whole log builds.
    runner.drop_views(database, SPECS)
    catch_up(database)
    assert snapshot_views(database) == retried


def test_retry_of_a_later_event_takes_its_reports_earlier_events_first(
    services: Services, database: Database, tmp_path: Path, poisoned: set[uuid.UUID]
) -> None:
    bad, token, first = submit(services)
    poisoned.add(bad)
    later = services.app.amend(bad, token, {"agents_count": 3})
    catch_up(database, [runner.LIVE_MAP_SPEC])
    poisoned.clear()
    result = cli(database, tmp_path, "parked", "retry", "--id", str(later))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"livemap\t{first}\tretried",
        f"livemap\t{later}\tretried",
    ]
    assert bad in map_ids(database)
    missing = cli(database, tmp_path, "parked", "retry", "--id", str(later))
    assert missing.returncode == 1 and "no parked event" in missing.stderr


def test_stored_year_one_and_nul_events_are_parked_and_the_views_go_on(
    services: Services, database: Database
) -> None:
    year_one = store_bypassing_intake(services, datetime(1, 1, 1, tzinfo=UTC))
    nul = store_bypassing_intake(
        services, datetime.now(UTC) - timedelta(hours=1), taken_to="a\u0000b"
    )
    late = store_bypassing_intake(services, datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
    after, _, _ = submit(services)

    catch_up(database)

    # PostgreSQL keeps a year-1 time; jsonb refuses the NUL.
    assert map_ids(database) == {year_one, late, after}
    (map_nul,) = parked_rows(database, "livemap")
    assert map_nul.originator_id == nul
    assert map_nul.error == "UntranslatableCharacter [22P05]: unsupported Unicode escape sequence"
    # Python cannot put year 1 (at +00:00 or +14:00) into New York's local day.
    assert trend_ids(database) == {nul, after}
    assert {r.originator_id for r in parked_rows(database, "trends")} == {year_one, late}
    assert all("OverflowError" in r.error for r in parked_rows(database, "trends"))


def test_a_rebuild_parks_what_the_live_projection_parks(
    services: Services, database: Database, tmp_path: Path
) -> None:
    store_bypassing_intake(services, datetime(1, 1, 1, tzinfo=UTC))
    store_bypassing_intake(services, datetime.now(UTC) - timedelta(hours=1), taken_to="\u0000")
    submit(services)
    catch_up(database)
    live = {name: parked_rows(database, name) for name in ("livemap", "trends")}
    assert all(live.values())

    result = cli(database, tmp_path, "project", "--rebuild", "--exit-when-caught-up")
    assert result.returncode == 0, result.stderr

    def essence(rows: list[parking.ParkedEvent]) -> list[tuple[Any, ...]]:
        return [(r.notification_id, r.originator_id, r.topic, r.error, r.blocked_by) for r in rows]

    for name, rows in live.items():
        assert essence(parked_rows(database, name)) == essence(rows), name


def test_an_infrastructure_error_is_retried_not_parked(
    services: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, _, position = submit(services)
    failures = []
    original = LiveMapProjection.handle_batch

    def flaky(self: Any, batch: Any) -> None:
        if not failures:
            failures.append(batch[0][1].notification_id)
            raise StoreOperationalError("the database is restarting")
        original(self, batch)

    monkeypatch.setattr(LiveMapProjection, "handle_batch", flaky)
    supervisor = runner.Supervisor(database, [runner.LIVE_MAP_SPEC])
    try:
        runner.wait_caught_up(database, supervisor, [runner.LIVE_MAP_SPEC], timeout=60)
    finally:
        supervisor.stop()
    assert failures == [position]
    assert report in map_ids(database)
    assert parked_rows(database, "livemap") == []


def _raised(error: Exception, wrapper: type[Exception] | None = None) -> Exception:
    """``error`` as the handler sees it: raised, and maybe re-raised by eventsourcing."""
    try:
        try:
            raise error
        except Exception as inner:
            if wrapper is None:
                raise
            raise wrapper(str(inner)) from inner
    except Exception as caught:
        return caught


@pytest.mark.parametrize(
    ("error", "data"),
    [
        (_raised(ValueError("bad")), True),
        (_raised(OverflowError("date value out of range")), True),
        (_raised(TypeError("x")), True),
        (_raised(KeyError("agents_count")), True),
        (_raised(psycopg.errors.UntranslatableCharacter("NUL"), StoreDataError), True),
        (_raised(psycopg.errors.NotNullViolation("null"), StoreIntegrityError), True),
        (_raised(psycopg.errors.ProgramLimitExceeded("index row too big")), True),
        (_raised(psycopg.DataError("PostgreSQL text fields cannot contain NUL")), True),
        (_raised(psycopg.OperationalError("connection lost")), False),
        (_raised(psycopg.OperationalError("server closed"), StoreOperationalError), False),
        (_raised(psycopg.InterfaceError("connection already closed")), False),
        (_raised(psycopg.errors.AdminShutdown("terminating")), False),
        (_raised(psycopg.errors.SerializationFailure("retry")), False),
        (_raised(psycopg.errors.UniqueViolation("dup"), StoreIntegrityError), False),
        (_raised(psycopg.errors.UndefinedTable("map_reports")), False),
        (_raised(StoreIntegrityError("Failed to record tracking for Courtwatch 7")), False),
        (_raised(ConnectionResetError()), False),
        (_raised(TimeoutError()), False),
    ],
)
def test_data_errors_are_told_from_infrastructure_errors(error: Exception, data: bool) -> None:
    assert parking.is_data_error(error) is data


def test_an_error_description_is_one_storable_line() -> None:
    error = _raised(psycopg.errors.UntranslatableCharacter("bad\nDETAIL: secret"), StoreDataError)
    assert parking.describe(error) == "DataError [22P05]: bad"
    assert parking.describe(ValueError("a\u0000b\ud800")) == "ValueError: a\\x00b\\ud800"


def test_a_retry_while_the_projection_runs_keeps_each_reports_order(
    services: Services, database: Database, poisoned: set[uuid.UUID]
) -> None:
    reports = [submit(services) for _ in range(6)]
    poisoned.update(report for report, _, _ in reports)
    specs = runner.parking_projections()
    running = runner.start(database, SPECS)
    try:
        runner.wait_caught_up(database, running, SPECS, timeout=60)
        poisoned.clear()
        # Retries race the projection, which is handling later events of the
        # very reports being retried.
        stop = threading.Event()

        def keep_retrying() -> None:
            while not stop.is_set():
                for spec in specs:
                    runner.retry_parked(database, spec)

        retrier = threading.Thread(target=keep_retrying)
        retrier.start()
        try:
            for round_ in range(5):
                for report, token, _ in reports:
                    services.app.amend(report, token, {"agents_count": round_ + 2})
        finally:
            runner.wait_caught_up(database, running, SPECS, timeout=60)
            stop.set()
            retrier.join()
        running.check()
    finally:
        running.stop()
    for spec in specs:
        runner.retry_parked(database, spec)
    assert parked_rows(database, "livemap") == parked_rows(database, "trends") == []
    raced = snapshot_views(database)
    with database.connect() as conn:
        counts = conn.execute("SELECT DISTINCT details->>'agents_count' FROM map_reports")
        assert counts.fetchall() == [("6",)]  # every report ends at its last amendment
    runner.drop_views(database, runner.all_projections())
    catch_up(database)
    assert snapshot_views(database) == raced


@pytest.mark.parametrize("point", ["map-rows-written", "trend-events-handled"])
def test_a_projection_process_killed_mid_batch_resumes_exactly_once(
    services: Services, database: Database, tmp_path: Path, point: str
) -> None:
    nuls = {
        store_bypassing_intake(services, datetime.now(UTC), taken_to=f"x\u0000{i}")
        for i in range(10)
    }
    for _ in range(3):
        reports = [
            Sighting(
                uuid.uuid4(),
                courthouse_code="NYC",
                lat=40.7,
                lon=-74.0,
                observed_at=datetime.now(UTC) - timedelta(hours=1),
                details={"agents_count": 1},
                author_token_hash=hash_token("t"),
            )
            for _ in range(200)
        ]
        services.app.save(*reports)
    head = event_log.head(database)
    # Killed inside the first batch's transaction (hundreds of events), at a
    # point the kill helper chooses: half of the batch's writes done.
    env = {**os.environ, "DATABASE_URL": database.url, "COURTWATCH_DATA_DIR": str(tmp_path)}
    helper = Path(__file__).with_name("kill_mid_batch.py")
    killed = subprocess.run([sys.executable, str(helper), point], env=env, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    spec = runner.LIVE_MAP_SPEC if point.startswith("map") else runner.TREND_SPEC
    assert runner.position_of(database, spec) == 0  # nothing of the batch was kept

    catch_up(database)
    with database.connect() as conn:
        feed = [r[0] for r in conn.execute("SELECT position FROM activity_feed").fetchall()]
        events = conn.execute("SELECT events FROM trend_meta").fetchone()
        leaves = conn.execute("SELECT count(DISTINCT notification_id) FROM log_leaves").fetchone()
    assert len(feed) == len(set(feed)) == 600
    assert map_ids(database).isdisjoint(nuls)
    assert {r.originator_id for r in parked_rows(database, "livemap")} == nuls
    assert events == (610,) and leaves == (head,)
    # The same views as a replay from scratch.
    resumed = snapshot_views(database)
    runner.drop_views(database, SPECS)
    catch_up(database)
    assert snapshot_views(database) == resumed


def test_an_event_that_no_longer_decodes_is_parked_and_still_gets_its_leaf(
    services: Services, database: Database
) -> None:
    # eventsourcing decodes before the projection runs: a stored event whose
    # class changed since (here: state that is not JSON) used to kill the runner.
    broken = uuid.uuid4()
    services.app.recorder.insert_events(
        [StoredEvent(broken, 1, get_topic(Sighting.Submitted), b"{not json")]  # type: ignore[attr-defined]
    )
    after, _, _ = submit(services)
    catch_up(database)
    assert map_ids(database) == trend_ids(database) == {after}
    for name in ("livemap", "trends"):
        (row,) = parked_rows(database, name)
        assert row.originator_id == broken and row.error.startswith("undecodable: ")
    with database.connect() as conn:
        leaves = conn.execute("SELECT originator_id FROM log_leaves ORDER BY leaf_index").fetchall()
    assert [r[0] for r in leaves] == [broken, after]
