"""Reports per week for a set of courthouses (a county's page), from the trend view.

The weeks are :mod:`projections.trends.weeks`' (one query, ISO weeks of each
courthouse's local days), added up over the county's courthouses. Watch shifts
are not enforcement: they are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from courtwatch.domain.vocabulary import Kind
from courtwatch.infrastructure.database import Database
from projections.trends import weeks as trend_weeks

ENFORCEMENT_KINDS = (Kind.COURTHOUSE_ARREST.value, Kind.SIGHTING.value, Kind.CALL_IN.value)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_report_counts(
    database: Database, courthouses: Sequence[str], last_day: date, weeks: int = 12
) -> list[dict[str, Any]]:
    """One row per week, oldest first, ending with the week holding ``last_day``."""
    end = week_of(last_day) + timedelta(weeks=1)
    span = trend_weeks.Span(end - timedelta(weeks=weeks), end)
    by_courthouse = trend_weeks.weekly(database, span) if courthouses else {}
    chosen = {code: by_courthouse[code] for code in courthouses if code in by_courthouse}
    return [
        {
            "week": monday.isoformat(),
            **{kind: cell[kind] for kind in ENFORCEMENT_KINDS},
            "total": sum(cell[kind] for kind in ENFORCEMENT_KINDS),
        }
        for monday, cell in trend_weeks.combined(chosen, span)
    ]
