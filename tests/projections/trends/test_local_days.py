"""Trend days, ISO weeks and months are the courthouse's local ones (issue 9).

An arrest at 22:30 in Los Angeles on the last day of a month is already the
1st of the next month in New York, where COURTWATCH_TIMEZONE points by
default: it used to be counted there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import Database
from projections.trends import periods, summaries
from projections.trends import rebuild as trends_rebuild
from tests.projections.trends.test_rebuild import snapshot

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def arrest(app: Courtwatch, observed_at: datetime, **where: object) -> None:
    app.submit(
        {"kind": "courthouse_arrest", "observed_at": observed_at.isoformat(), **where},
        uuid.uuid4().hex,
    )


def arrests_on(database: Database, courthouse: str) -> dict[date, int]:
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT day, n FROM trend_counts WHERE courthouse_code = %s AND kind = "
            "'courthouse_arrest' AND dimension = 'total' AND n <> 0",
            (courthouse,),
        ).fetchall()
    return {day: n for day, n in rows}


def total(database: Database, kind: str, key: str, courthouse: str | None = None) -> int:
    summary = summaries.compute(
        database, periods.parse(kind, key), zone="America/New_York", courthouse=courthouse
    )
    return int(summary["figures"]["totals"]["courthouse_arrest"]["n"])


def test_an_arrest_at_2230_in_los_angeles_on_the_last_day_of_a_month_counts_on_that_day(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    # 2026-10-31 22:30 PDT is 2026-11-01 01:30 in New York.
    arrest(app, datetime(2026, 10, 31, 22, 30, tzinfo=LOS_ANGELES), courthouse_code="NLA")
    # 2025-12-31 22:30 PST is already 2026 in New York: the year edge, and ISO
    # week 2026-W01 (Monday 2025-12-29 to Sunday 2026-01-04) either way.
    arrest(app, datetime(2025, 12, 31, 22, 30, tzinfo=LOS_ANGELES), courthouse_code="NLA")
    # Sunday 2026-11-22 22:30 PST is Monday in New York: another ISO week.
    arrest(app, datetime(2026, 11, 22, 22, 30, tzinfo=LOS_ANGELES), courthouse_code="NLA")
    # A dropped pin in Phoenix, no courthouse: the pin's zone.
    arrest(app, datetime(2026, 10, 31, 23, 0, tzinfo=ZoneInfo("America/Phoenix")),
           lat=33.449, lon=-112.074)  # fmt: skip
    catch_up()

    assert arrests_on(database, "NLA") == {
        date(2026, 10, 31): 1,
        date(2025, 12, 31): 1,
        date(2026, 11, 22): 1,
    }
    assert arrests_on(database, "") == {date(2026, 10, 31): 1}
    assert total(database, "month", "2026-10") == 2
    assert total(database, "month", "2026-11") == 1
    assert total(database, "month", "2025-12", "NLA") == 1
    assert total(database, "month", "2026-01", "NLA") == 0
    assert total(database, "week", "2026-W47", "NLA") == 1  # Nov 16-22
    assert total(database, "week", "2026-W48", "NLA") == 0
    assert total(database, "day", "2026-10-31") == 2

    # One courthouse's summary starts at its own midnight.
    october = summaries.compute(
        database, periods.parse("month", "2026-10"), zone="America/New_York", courthouse="NLA"
    )
    assert october["zone"] == "America/Los_Angeles"
    assert october["starts_at"] == "2026-10-01T00:00:00-07:00"


def test_a_shift_in_los_angeles_in_the_evening_is_watched_on_its_own_day(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    app.submit(
        {
            "kind": "watch_shift",
            "courthouse_code": "NLA",
            "observed_at": datetime(2026, 10, 31, 20, 0, tzinfo=LOS_ANGELES).isoformat(),
            "ended_at": datetime(2026, 10, 31, 23, 30, tzinfo=LOS_ANGELES).isoformat(),
        },
        uuid.uuid4().hex,
    )
    catch_up()
    with database.connect() as conn:
        rows = conn.execute("SELECT day, seconds FROM trend_watch WHERE seconds <> 0").fetchall()
    assert rows == [(date(2026, 10, 31), 3.5 * 3600)]


def test_amending_the_courthouse_recounts_in_the_new_zone_and_the_rebuild_agrees(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    key = uuid.uuid4().hex
    result = app.submit(
        {
            "kind": "sighting",
            "courthouse_code": "NYC",
            "observed_at": datetime(2026, 10, 31, 22, 30, tzinfo=LOS_ANGELES).isoformat(),
        },
        key,
    )
    catch_up()
    with database.connect() as conn:
        days = conn.execute("SELECT DISTINCT day FROM trend_counts WHERE n <> 0").fetchall()
    assert days == [(date(2026, 11, 1),)]  # 01:30 in New York

    token = app._author_token_for(key)
    app.amend(result.report_id, token, {"courthouse_code": "NLA"})
    app.verify(result.report_id, "verifier")  # an event that does not move the report
    catch_up()
    with database.connect() as conn:
        days = conn.execute("SELECT DISTINCT day FROM trend_counts WHERE n <> 0").fetchall()
    assert days == [(date(2026, 10, 31),)]
    live = snapshot(database)
    trends_rebuild.rebuild(database, "America/New_York")
    assert snapshot(database) == live
