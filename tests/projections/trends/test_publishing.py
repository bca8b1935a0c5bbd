"""A published summary never changes; a late report brings a revision that supersedes it."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import Database
from projections.trends import periods, publishing, summaries
from tests.projections.trends.conftest import NOW

WEEK = periods.parse("week", "2026-W47")
ZONE = "America/New_York"


def arrest(app: Courtwatch, key: str, at: str, role: str = "defendant") -> None:
    payload = {"kind": "courthouse_arrest", "courthouse_code": "NYC", "observed_at": at,
               "person_role": role}  # fmt: skip
    app.submit(payload, f"{key:0<16}")


def test_a_late_report_is_published_as_a_revision_and_the_original_stays_as_it_was(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    publishing.install(database)
    arrest(app, "tuesday", "2026-11-17T14:00:00-05:00")
    catch_up()
    first = publishing.publish(database, WEEK, zone=ZONE, now=NOW)
    assert first.changed and first.summary.revision == 1 and first.summary.supersedes is None
    original = first.summary.body
    assert original["figures"]["totals"]["courthouse_arrest"]["n"] == 1
    assert original["covers"]["position"] == 1

    # Nothing new: publishing again adds nothing.
    again = publishing.publish(database, WEEK, zone=ZONE, now=NOW)
    assert not again.changed and again.summary.id == first.summary.id

    # A witness arrested that Thursday is reported a week later.
    arrest(app, "late-thursday", "2026-11-19T10:30:00-05:00", role="witness")
    catch_up()
    revised = publishing.publish(database, WEEK, zone=ZONE, now=NOW)
    assert revised.changed
    assert revised.summary.revision == 2 and revised.summary.supersedes == first.summary.id
    figures = revised.summary.body["figures"]
    assert figures["totals"]["courthouse_arrest"]["n"] == 2
    assert figures["survivors_and_witnesses_arrested"]["n"] == 1
    assert revised.summary.body["covers"]["position"] == 2

    kept = publishing.get(database, first.summary.id)
    assert kept is not None and kept.body == original
    assert [r.revision for r in publishing.revisions(database, "week", "2026-W47", None)] == [2, 1]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE published_summaries SET body = '{}'",
        "DELETE FROM published_summaries",
        "TRUNCATE published_summaries CASCADE",
    ],
)
def test_the_database_refuses_to_change_a_published_summary(
    database: Database, app: Courtwatch, catch_up: Callable[[], None], statement: str
) -> None:
    publishing.install(database)
    catch_up()
    publishing.publish(database, WEEK, zone=ZONE, now=NOW)
    with database.connect() as conn, pytest.raises(psycopg.errors.RaiseException, match="kept"):
        conn.execute(statement)  # type: ignore[arg-type]


def test_a_new_summary_figure_does_not_republish_every_summary_but_a_changed_one_does(
    database: Database,
    app: Courtwatch,
    catch_up: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publishing.install(database)
    arrest(app, "tuesday-figure", "2026-11-17T14:00:00-05:00")
    catch_up()
    first = publishing.publish(database, WEEK, zone=ZONE, now=NOW)
    assert first.summary.body["schema"] == summaries.SCHEMA_VERSION

    # A later release adds a figure (and raises the schema version).
    figures = summaries.figures_from_cells
    monkeypatch.setattr(summaries, "SCHEMA_VERSION", summaries.SCHEMA_VERSION + 1)
    monkeypatch.setattr(
        summaries, "figures_from_cells", lambda *a: {**figures(*a), "a_new_figure": 7}
    )
    again = publishing.publish(database, WEEK, zone=ZONE, now=NOW)
    assert not again.changed and again.summary.id == first.summary.id

    # A late report still brings a revision, in the new schema.
    arrest(app, "late-figure", "2026-11-19T10:30:00-05:00", role="witness")
    catch_up()
    revised = publishing.publish(database, WEEK, zone=ZONE, now=NOW)
    assert revised.changed and revised.summary.supersedes == first.summary.id
    assert revised.summary.body["figures"]["a_new_figure"] == 7
