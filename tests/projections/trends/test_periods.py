"""Weeks are ISO weeks of local days in the configured zone, through the clock changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import Database
from projections.trends import periods, summaries

NEW_YORK = ZoneInfo("America/New_York")


def hours_in(period: periods.Period) -> float:
    # Through UTC: Python subtracts two times of one zone as wall-clock times.
    start, end = period.starts_at(NEW_YORK), period.ends_at(NEW_YORK)
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600


def test_a_week_is_named_and_bounded_the_iso_way() -> None:
    week = periods.parse("week", "2026-W47")
    assert (week.first, week.end) == (date(2026, 11, 16), date(2026, 11, 23))
    assert week.previous().key == "2026-W46" and week.next().key == "2026-W48"
    # 2026 has 53 ISO weeks: New Year's Day 2027 still belongs to 2026-W53.
    assert periods.containing("week", date(2027, 1, 1)).key == "2026-W53"
    assert periods.parse("week", "2026-W53").next().key == "2027-W01"
    assert periods.parse("month", "2026-12").next().key == "2027-01"
    assert periods.parse("day", "2026-03-01").previous().key == "2026-02-28"


@pytest.mark.parametrize(
    ("kind", "key"),
    [("week", "2026-W54"), ("week", "2026-47"), ("month", "2026-13"), ("year", "2026")],
)
def test_a_period_written_wrong_is_refused_with_an_example(kind: str, key: str) -> None:
    with pytest.raises(periods.BadPeriod):
        periods.parse(kind, key)


def test_the_week_of_a_clock_change_is_an_hour_longer_or_shorter() -> None:
    autumn = periods.containing("week", date(2026, 11, 1))  # clocks go back that Sunday
    assert autumn.key == "2026-W44"
    assert autumn.starts_at(NEW_YORK).isoformat() == "2026-10-26T00:00:00-04:00"
    assert autumn.ends_at(NEW_YORK).isoformat() == "2026-11-02T00:00:00-05:00"
    assert hours_in(autumn) == 169
    spring = periods.containing("week", date(2026, 3, 8))
    assert hours_in(spring) == 167


def submit(app: Courtwatch, key: str, kind: str, at: str, **details: object) -> None:
    app.submit({"kind": kind, "courthouse_code": "NYC", "observed_at": at, **details}, key * 4)


def test_reports_and_watched_hours_fall_in_the_local_week_across_the_autumn_change(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    # Sunday 1 November 2026, 23:30 in New York is already Monday in UTC:
    # it belongs to week 44, not week 45.
    submit(app, "late-sunday", "courthouse_arrest", "2026-11-02T04:30:00+00:00")
    # Monday 00:30 in New York: week 45.
    submit(app, "early-monday", "courthouse_arrest", "2026-11-02T05:30:00+00:00")
    # Saturday 23:00 EDT to Sunday 03:00 EST: five hours, all on week 44's Saturday and Sunday.
    submit(app, "clock-change", "watch_shift", "2026-10-31T23:00:00-04:00",
           ended_at="2026-11-01T03:00:00-05:00")  # fmt: skip
    # Sunday 22:00 to Monday 02:00 EST: two hours in each week.
    submit(app, "across-weeks", "watch_shift", "2026-11-01T22:00:00-05:00",
           ended_at="2026-11-02T02:00:00-05:00")  # fmt: skip
    catch_up()

    def week(key: str) -> dict[str, object]:
        summary = summaries.compute(database, periods.parse("week", key), zone="America/New_York")
        return summary["figures"]  # type: ignore[no-any-return]

    w44, w45 = week("2026-W44"), week("2026-W45")
    assert w44["totals"]["courthouse_arrest"]["n"] == 1  # type: ignore[index]
    assert w45["totals"]["courthouse_arrest"]["n"] == 1  # type: ignore[index]
    assert w44["watched_seconds"]["n"] == (5 + 2) * 3600  # type: ignore[index]
    assert w45["watched_seconds"]["n"] == 2 * 3600  # type: ignore[index]
    days = {d["day"]: d["watched_seconds"] for d in w44["daily"]}  # type: ignore[attr-defined]
    assert days["2026-10-31"] == 3600 and days["2026-11-01"] == (4 + 2) * 3600
    assert w45["totals"]["courthouse_arrest"]["previous"] == 1  # type: ignore[index]


def test_the_zone_comes_from_the_configuration() -> None:
    # Midnight UTC on a Monday is still Sunday evening in New York and in Los Angeles.
    instant = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
    assert periods.current("week", instant, NEW_YORK).key == "2026-W46"
    assert periods.current("week", instant, ZoneInfo("UTC")).key == "2026-W47"
