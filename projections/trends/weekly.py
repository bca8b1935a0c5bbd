"""Reports per week for a set of courthouses (a county's page), from the trend view.

Weeks start on Monday and count each courthouse's local days, like every other
trend figure. Watch shifts are not enforcement: they are left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from courtwatch.domain.vocabulary import Kind
from courtwatch.infrastructure.database import Database

ENFORCEMENT_KINDS = (Kind.COURTHOUSE_ARREST.value, Kind.SIGHTING.value, Kind.CALL_IN.value)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_report_counts(
    database: Database, courthouses: Sequence[str], last_day: date, weeks: int = 12
) -> list[dict[str, Any]]:
    """One row per week, oldest first, ending with the week holding ``last_day``."""
    first = week_of(last_day) - timedelta(weeks=weeks - 1)
    end = week_of(last_day) + timedelta(weeks=1)
    counts: Counter[tuple[date, str]] = Counter()
    if courthouses:
        with database.connect() as conn:
            exists = conn.execute("SELECT to_regclass('trend_counts')").fetchone()
            rows = (
                []
                if not exists or exists[0] is None
                else conn.execute(
                    "SELECT day, kind, sum(n) FROM trend_counts "
                    "WHERE courthouse_code = ANY(%(codes)s) AND dimension = 'total' "
                    "AND value = '' AND kind = ANY(%(kinds)s) "
                    "AND day >= %(first)s AND day < %(end)s GROUP BY day, kind",
                    {
                        "codes": list(courthouses),
                        "kinds": list(ENFORCEMENT_KINDS),
                        "first": first,
                        "end": end,
                    },
                ).fetchall()
            )
        for day, kind, n in rows:
            counts[(week_of(day), kind)] += int(n)
    return [
        {
            "week": (week := first + timedelta(weeks=i)).isoformat(),
            **{kind: counts[(week, kind)] for kind in ENFORCEMENT_KINDS},
            "total": sum(counts[(week, kind)] for kind in ENFORCEMENT_KINDS),
        }
        for i in range(weeks)
    ]
