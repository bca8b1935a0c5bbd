"""The 12-week trend and the wide CSV's rows say exactly what the event log says.

As in test_summaries_equal_the_log: a generated history (amendments, outcomes
learned later, verdicts, shifts ended after the fact) runs through the trend
projection, and every courthouse x week cell is recounted by folding each
report's events into its final state with the aggregate's own code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import psycopg

from courtwatch import demo
from courtwatch.application import Courtwatch
from courtwatch.domain.reports import Report
from courtwatch.infrastructure.database import Database
from projections.trends import periods, weeks
from projections.trends.summaries import hours, ratio
from tests.projections.trends.conftest import NOW
from tests.projections.trends.test_summaries_equal_the_log import (
    ZONE,
    final_states,
    local_day,
    overlap,
    zone_of,
)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def reference(reports: list[Report], span: weeks.Span) -> dict[str, dict[date, dict[str, Any]]]:
    """Every figure of every courthouse and week, counted from the folded reports."""
    cells: dict[str, dict[date, dict[str, Any]]] = {}

    def cell(code: str, monday: date) -> dict[str, Any]:
        weeks_of = cells.setdefault(
            code, {m: dict.fromkeys(weeks.FIGURES[:-2], 0) for m in span.mondays}
        )
        return weeks_of[monday]

    for r in reports:
        code, kind = r.courthouse_code or "", r.kind.value
        monday = monday_of(local_day(r))
        if span.first <= monday < span.end:
            c = cell(code, monday)
            c[kind] += 1
            if kind == "courthouse_arrest" and r.details["person_role"] in ("survivor", "witness"):
                c["survivors_and_witnesses_arrested"] += 1
            outcome = r.details.get("outcome")
            if kind == "call_in" and outcome in ("released", "detained", "told_to_return"):
                c["call_ins_with_known_outcome"] += 1
                c["call_ins_detained"] += outcome == "detained"
        for monday in span.mondays:  # a shift's seconds fall in the weeks it ran
            week = periods.containing("week", monday)
            seconds = overlap(r, week.starts_at(zone_of(r)), week.ends_at(zone_of(r)))
            if seconds:
                cell(code, monday)["watched_seconds"] += seconds
    for weeks_of in cells.values():
        for c in weeks_of.values():
            c["watched_hours"] = hours(c["watched_seconds"])
            c["arrests_per_watched_hour"] = ratio(
                c["courthouse_arrest"] * 3600, c["watched_seconds"]
            )
    return dict(sorted(cells.items()))


def test_twelve_weeks_of_every_courthouse_equal_a_fold_of_the_log_in_one_query(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    made = demo.generate(app, reports=500, now=NOW, days=84, zone=ZONE, seed=12)
    catch_up()
    reports = final_states(app)
    assert len(reports) == made.reports
    span = weeks.Span.last_weeks(periods.last_complete("week", NOW, ZONE))
    assert len(span.mondays) == 12 and span.mondays[-1] == date(2026, 11, 16)

    statements: list[str] = []
    connect = Database.connect

    def counting(self: Database, *args: Any, **kwargs: Any) -> psycopg.Connection[Any]:
        conn = connect(self, *args, **kwargs)
        original = conn.execute

        def execute(query: Any, *a: Any, **k: Any) -> Any:
            statements.append(str(query))
            return original(query, *a, **k)

        conn.execute = execute  # type: ignore[method-assign]
        return conn

    Database.connect = counting  # type: ignore[method-assign]
    try:
        found = weeks.weekly(database, span)
    finally:
        Database.connect = connect  # type: ignore[method-assign]
    # One statement reads the 12 weeks of every courthouse (the other checks the table exists).
    assert len([s for s in statements if "trend_counts" in s and "GROUP BY" in s]) == 1
    assert len(statements) == 2

    expected = reference(reports, span)
    assert found == expected
    busiest = max(found, key=lambda code: sum(c["courthouse_arrest"] for c in found[code].values()))
    assert sum(c["courthouse_arrest"] for c in found[busiest].values()) > 10
    # One courthouse alone, and all of them added up, agree with the same fold.
    assert weeks.weekly(database, span, busiest) == {busiest: expected[busiest]}
    overall = dict(weeks.combined(found, span))
    for monday in span.mondays:
        assert overall[monday]["courthouse_arrest"] == sum(
            c[monday]["courthouse_arrest"] for c in expected.values()
        )
