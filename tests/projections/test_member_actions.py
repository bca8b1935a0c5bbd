"""Members' actions (claimed, on scene, resolved) in every read model of reports:
the trend counts follow the one fold's status, the live map keeps who is going
for the console only, and the transparency log takes every event as a leaf."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import Database
from projections import runner
from tests.projections.trends.conftest import NOW
from tests.projections.trends.test_status import sighting, statuses

SPECS = [runner.LIVE_MAP_SPEC, runner.LOG_SPEC, runner.TREND_SPEC]


@pytest.fixture
def app(database: Database) -> Iterator[Courtwatch]:
    application = Courtwatch(env=database.eventsourcing_env(), secret=b"t" * 32, clock=lambda: NOW)
    yield application
    application.close()


def catch_up(database: Database) -> None:
    running = runner.start(database, SPECS)
    try:
        runner.wait_caught_up(database, running, SPECS, timeout=120)
    finally:
        running.stop()


def test_member_actions_reach_the_map_the_trends_and_the_log(
    database: Database, app: Courtwatch
) -> None:
    report_id, _ = sighting(app, "member-actions-sighting-0001")
    other_id, _ = sighting(app, "member-actions-sighting-0002")
    report = UUID(report_id)
    assert app.claim(report, "Río 7") is not None
    assert app.claim(report, "Río 7") is None  # a retry stores nothing
    assert app.confirm_on_scene(report, "Río 7") is not None
    assert app.resolve(report, "Ana") is not None
    app.dispute(UUID(other_id), "Lead", "not_found_on_scene")
    catch_up(database)

    assert statuses(database) == {"corroborated": 1, "disputed": 1}
    with database.connect() as conn:
        row = conn.execute(
            "SELECT status, claimed_by, on_scene_by, resolved_by, last_event "
            "FROM map_reports WHERE report_id = %s",
            (report,),
        ).fetchone()
        feed = conn.execute(
            "SELECT event FROM activity_feed WHERE report_id = %s ORDER BY position", (report,)
        ).fetchall()
        leaves = conn.execute(
            "SELECT count(*) FROM log_leaves WHERE originator_id = %s", (report,)
        ).fetchone()
    assert row is not None
    status, claimed_by, on_scene_by, resolved_by, last_event = row
    assert (status, claimed_by, on_scene_by, resolved_by) == (
        "corroborated",
        ["Río 7"],
        ["Río 7"],
        "Ana",
    )
    # Resolved changes nothing the public map shows: its public last event stays.
    assert last_event == "ConfirmedOnScene"
    assert [e for (e,) in feed] == ["Submitted", "Claimed", "ConfirmedOnScene", "Resolved"]
    # Every event is a leaf of the transparency log, members' actions included.
    assert leaves is not None and leaves[0] == 4
    assert app.report_with_history(report)["version"] == 4


def test_the_trend_status_of_a_confirmed_report_amended_needs_a_new_word(
    database: Database, app: Courtwatch
) -> None:
    report_id, token = sighting(app, "member-actions-amended-0001")
    app.confirm_on_scene(UUID(report_id), "Río 7")
    app.amend(UUID(report_id), token, {"agents_count": 9})
    catch_up(database)
    assert statuses(database) == {"amended_after_verdict": 1}
