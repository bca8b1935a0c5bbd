"""Members' actions (claimed, on scene, resolved) in every read model of reports:
the trend counts follow the one fold's status, the live map keeps who is going
for the console only, and the transparency log takes every event as a leaf."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest

from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import Database
from projections import runner
from projections.live_map.reader import LiveMapReader
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


def store_as_before_member_ids(database: Database, donor: UUID, target: UUID) -> None:
    """Copy the donor's verdict events onto ``target`` as they were stored
    before members' ids were in events: without ``verifier_id``."""
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT originator_version, topic, state FROM courtwatch_events "
            "WHERE originator_id = %s AND originator_version > 1 ORDER BY originator_version",
            (donor,),
        ).fetchall()
        for version, topic, state in rows:
            old_shape = json.loads(bytes(state))
            assert old_shape.pop("verifier_id") == "member-1"
            conn.execute(
                "INSERT INTO courtwatch_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)",
                (target, version, topic, json.dumps(old_shape).encode()),
            )
        conn.commit()


def test_verdicts_stored_without_a_member_id_replay_and_a_new_word_is_stored(
    database: Database, app: Courtwatch
) -> None:
    donor_id, _ = sighting(app, "member-ids-donor-sighting-01")
    target_id, _ = sighting(app, "member-ids-old-verdicts-0001")
    donor, target = UUID(donor_id), UUID(target_id)
    app.verify(donor, "Lead", "member-1")
    app.dispute(donor, "Lead", "duplicate", "member-1")
    store_as_before_member_ids(database, donor, target)

    report = app.report_with_history(target, for_members=True)
    assert report["status"] == "disputed" and report["version"] == 3
    verified, disputed = report["history"][1:]
    assert verified["data"] == {"verifier": "Lead"}
    assert disputed["data"] == {"verifier": "Lead", "reason": "duplicate"}
    # The old verdict has no id: the same name with an id is a new word, stored.
    assert app.dispute(target, "Lead", "duplicate", "member-1") is not None
    assert app.dispute(target, "Lead", "duplicate", "member-1") is None  # its retry
    assert app.report_with_history(target)["history"][-1]["data"]["verifier_id"] == "member-1"
    catch_up(database)  # every read model folds the old shape too
    with database.connect() as conn:
        row = conn.execute(
            "SELECT status FROM map_reports WHERE report_id = %s", (target,)
        ).fetchone()
    assert row is not None and row[0] == "disputed"


def test_a_resolved_report_the_author_changes_is_back_in_the_console_queue(
    database: Database, app: Courtwatch
) -> None:
    report_id, token = sighting(app, "member-actions-reopened-0001")
    outcome_id = app.submit(
        {
            "kind": "courthouse_arrest",
            "courthouse_code": "NYC",
            "observed_at": (NOW - timedelta(hours=2)).isoformat(),
            "outcome": "detained",
        },
        "member-actions-reopened-0002",
    ).report_id
    for report in (UUID(report_id), outcome_id):
        app.verify(report, "Bo", "id-bo")
        app.resolve(report, "Ana", "id-ana")
    app.amend(UUID(report_id), token, {"agents_count": 9})
    app.record_outcome(outcome_id, None, {"outcome": "released"})
    catch_up(database)

    async def queued() -> list[str]:
        reader = LiveMapReader(database)
        await reader.open()
        try:
            _, rows = await reader.queue([], [], 50)
        finally:
            await reader.close()
        return [str(row["report_id"]) for row in rows]

    assert sorted(asyncio.run(queued())) == sorted([report_id, str(outcome_id)])


def test_an_outcome_stored_before_it_named_its_member_replays(
    database: Database, app: Courtwatch
) -> None:
    def arrest(key: str) -> UUID:
        return app.submit(
            {
                "kind": "courthouse_arrest",
                "courthouse_code": "NYC",
                "observed_at": (NOW - timedelta(hours=2)).isoformat(),
            },
            key,
        ).report_id

    donor, target = arrest("member-ids-donor-arrest-0001"), arrest("member-ids-old-outcome-0001")
    app.record_outcome(donor, None, {"outcome": "detained"}, "Lead", "member-1")
    with database.connect() as conn:
        topic, state = conn.execute(
            "SELECT topic, state FROM courtwatch_events "
            "WHERE originator_id = %s AND originator_version = 2",
            (donor,),
        ).fetchone() or (None, None)
        old_shape = json.loads(bytes(state))
        assert (old_shape.pop("member"), old_shape.pop("member_id")) == ("Lead", "member-1")
        conn.execute(
            "INSERT INTO courtwatch_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 2, %s, %s)",
            (target, topic, json.dumps(old_shape).encode()),
        )
        conn.commit()
    report = app.report_with_history(target, for_members=True)
    assert report["details"]["outcome"] == "detained"
    assert report["history"][-1]["data"] == {"outcome": {"outcome": "detained"}}
    assert app.record_outcome(target, None, {"outcome": "released"}, "Lead", "member-1")
    catch_up(database)
    with database.connect() as conn:
        row = conn.execute(
            "SELECT details FROM map_reports WHERE report_id = %s", (target,)
        ).fetchone()
    assert row is not None and row[0]["outcome"] == "released"
