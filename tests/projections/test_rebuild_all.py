"""Replaying the whole log rebuilds every view exactly: live map, trends, transparency log."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner


def snapshot_views(database: Database) -> tuple[list[tuple], ...]:
    with database.connect() as conn:
        trends = conn.execute(
            "SELECT day, courthouse_code, kind, dimension, value, n FROM trend_counts "
            "WHERE n <> 0 ORDER BY 1, 2, 3, 4, 5"
        ).fetchall()
        leaves = conn.execute(
            "SELECT leaf_index, notification_id, leaf_hash FROM log_leaves ORDER BY leaf_index"
        ).fetchall()
        reports = conn.execute(
            "SELECT report_id, kind, status, corroborations, lat, lon, observed_at, last_event, "
            "details, position FROM map_reports ORDER BY report_id"
        ).fetchall()
        feed = conn.execute(
            "SELECT position, report_id, event, state FROM activity_feed ORDER BY position"
        ).fetchall()
    return reports, feed, trends, leaves


def make_history(services: Services) -> None:
    app = services.app
    observed = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    for i in range(60):
        kind = ("sighting", "courthouse_arrest", "call_in")[i % 3]
        result = app.submit(
            {"kind": kind, "courthouse_code": "NYC", "observed_at": observed}, uuid.uuid4().hex
        )
        if i % 4 == 0:
            app.corroborate(result.report_id, uuid.uuid4().hex)
        if i % 5 == 0:
            app.verify(result.report_id, "maria")
        if i % 7 == 0:
            app.amend(result.report_id, result.author_token, {"lat": 40.7, "lon": -74.0})


def test_rebuild_replays_the_log_into_identical_views(
    services: Services, database: Database, tmp_path: Path
) -> None:
    make_history(services)
    specs = runner.all_projections()
    running = runner.start(database, specs)
    try:
        runner.wait_caught_up(database, running, specs, timeout=60)
    finally:
        running.stop()
    before = snapshot_views(database)
    assert len(before[0]) == 60 and before[2] and len(before[3]) == len(before[1])

    env = {**os.environ, "DATABASE_URL": database.url, "COURTWATCH_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "courtwatch", "project", "--rebuild", "--exit-when-caught-up"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "replaying the log" in result.stderr  # the progress bar
    assert snapshot_views(database) == before


def test_a_rebuilt_view_is_taken_up_by_its_projection_again_and_again(
    services: Services, database: Database, tmp_path: Path
) -> None:
    """Rebuild, let the projections carry on, rebuild again: each time the
    projections take up the rebuilt tracking tables as their own, and nothing
    is left behind (eventsourcing renames a tracking table it does not
    recognise to bkup1_<name>, which a second rebuild then collided with)."""
    make_history(services)
    specs = runner.all_projections()
    env = {**os.environ, "DATABASE_URL": database.url, "COURTWATCH_DATA_DIR": str(tmp_path)}
    for round_ in range(2):
        rebuilt = subprocess.run(
            [sys.executable, "-m", "courtwatch", "project", "--rebuild", "--exit-when-caught-up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rebuilt.returncode == 0, (round_, rebuilt.stderr)
        services.app.submit(
            {
                "kind": "sighting",
                "courthouse_code": "NYC",
                "observed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            },
            uuid.uuid4().hex,
        )
        running = runner.start(database, specs)
        try:
            runner.wait_caught_up(database, running, specs, timeout=60)
            running.check()
        finally:
            running.stop()
        assert len(snapshot_views(database)[0]) == 61 + round_
    with database.connect(autocommit=True) as conn:
        leftovers = conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'bkup%'"
        ).fetchall()
    assert leftovers == []
