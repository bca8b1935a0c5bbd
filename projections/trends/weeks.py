"""Week-by-week figures per courthouse, read from the trend tables in ONE query.

A summary page compares its period with the one before; a trend needs more: the
last 12 weeks of a courthouse (or of all of them), and the wide CSV that holds
one row per courthouse and week over a date range. Both come from
:func:`weekly`, which sums the daily cells of ``trend_counts`` and
``trend_watch`` by ISO week (Monday to Sunday, each courthouse's local days,
exactly as a weekly summary counts them) in a single statement, never one query
per week.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from psycopg import IsolationLevel

from courtwatch.infrastructure.database import Database
from projections.trends import periods
from projections.trends.summaries import (
    ARREST,
    CALL_IN,
    HEADLINE_ROLES,
    KINDS,
    KNOWN_CALL_IN_OUTCOMES,
    hours,
    ratio,
)

WEEKS_SHOWN = 12
# The widest span the wide CSV covers: ten years of weeks (53 a year at most). The rows are dense
# (every active courthouse in every week), so the span bounds the work.
MOST_WEEKS = 530

# One column per figure, in the order of the wide CSV.
FIGURES = (
    *KINDS,
    "survivors_and_witnesses_arrested",
    "call_ins_with_known_outcome",
    "call_ins_detained",
    "watched_seconds",
    "watched_hours",
    "arrests_per_watched_hour",
)

# The daily cells each figure sums, and the week they fall in: date_trunc('week')
# is the ISO week's Monday, as periods.containing("week", day) says.
_QUERY = """
SELECT date_trunc('week', day)::date AS week, courthouse_code,
       CASE WHEN dimension = 'total' THEN kind
            WHEN dimension = 'role' THEN 'survivors_and_witnesses_arrested'
            WHEN value = 'detained' THEN 'call_ins_detained+known'
            ELSE 'call_ins_with_known_outcome' END AS figure,
       sum(n)::bigint AS n
FROM trend_counts
WHERE day >= %(first)s AND day < %(end)s AND n <> 0 {where}
  AND (dimension = 'total'
       OR (kind = %(arrest)s AND dimension = 'role' AND value = ANY(%(roles)s))
       OR (kind = %(call_in)s AND dimension = 'outcome' AND value = ANY(%(known)s)))
GROUP BY 1, 2, 3
UNION ALL
SELECT date_trunc('week', day)::date, courthouse_code, 'watched_seconds', sum(seconds)::bigint
FROM trend_watch
WHERE day >= %(first)s AND day < %(end)s AND seconds <> 0 {where}
GROUP BY 1, 2
"""


@dataclass(frozen=True)
class Span:
    """Whole ISO weeks: the Monday of the first, and the Monday after the last."""

    first: date
    end: date

    @property
    def mondays(self) -> list[date]:
        return [
            self.first + timedelta(days=7 * i) for i in range((self.end - self.first).days // 7)
        ]

    @classmethod
    def last_weeks(cls, ending: periods.Period, count: int = WEEKS_SHOWN) -> Span:
        """``count`` weeks ending with the week that holds the period's last day."""
        last = periods.containing("week", ending.end - timedelta(days=1))
        return cls(last.first - timedelta(days=7 * (count - 1)), last.end)

    @classmethod
    def covering(cls, first_day: date, last_day: date) -> Span:
        """The weeks that hold any day from ``first_day`` to ``last_day``, both included."""
        return cls(periods.containing("week", first_day).first,
                   periods.containing("week", last_day).end)  # fmt: skip


def weekly(
    database: Database, span: Span, courthouse: str | None = None
) -> dict[str, dict[date, dict[str, Any]]]:
    """Figures per courthouse code and week (its Monday), for the active courthouses.

    Every week of the span is present for each courthouse that has anything in
    it, with zeros where nothing was reported: a spreadsheet or a chart should
    see an empty week, not a missing one.
    """
    where = "" if courthouse is None else "AND courthouse_code = %(courthouse)s"
    params = {
        "first": span.first, "end": span.end, "courthouse": courthouse, "arrest": ARREST,
        "call_in": CALL_IN, "roles": list(HEADLINE_ROLES), "known": list(KNOWN_CALL_IN_OUTCOMES),
    }  # fmt: skip
    with database.connect() as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            exists = conn.execute("SELECT to_regclass('trend_counts')").fetchone()
            if not exists or exists[0] is None:
                rows: list[Any] = []
            else:
                rows = conn.execute(_QUERY.format(where=where), params).fetchall()
    return fold_cells(span, rows)


def fold_cells(span: Span, rows: list[Any]) -> dict[str, dict[date, dict[str, Any]]]:
    """(week, courthouse, figure, n) sums into dense rows of every figure."""
    sums: dict[str, dict[date, dict[str, int]]] = defaultdict(
        lambda: {monday: dict.fromkeys(FIGURES[:-2], 0) for monday in span.mondays}
    )
    for week, code, figure, n in rows:
        cell = sums[code][week]
        if figure == "call_ins_detained+known":  # detained is a known outcome too
            cell["call_ins_detained"] += n
            cell["call_ins_with_known_outcome"] += n
        else:
            cell[figure] += n
    return {
        code: {monday: _derived(cell) for monday, cell in weeks.items()}
        for code, weeks in sorted(sums.items())
    }


def _derived(cell: dict[str, int]) -> dict[str, Any]:
    seconds = cell["watched_seconds"]
    return {
        **cell,
        "watched_hours": hours(seconds),
        "arrests_per_watched_hour": ratio(cell[ARREST] * 3600, seconds),
    }


def combined(by_courthouse: dict[str, dict[date, dict[str, Any]]], span: Span) -> list[
    tuple[date, dict[str, Any]]
]:  # fmt: skip
    """All courthouses' weeks added up: the overall page's trend."""
    total = {monday: dict.fromkeys(FIGURES[:-2], 0) for monday in span.mondays}
    for weeks in by_courthouse.values():
        for monday, cell in weeks.items():
            for name in FIGURES[:-2]:
                total[monday][name] += cell[name]
    return [(monday, _derived(cell)) for monday, cell in total.items()]


def wide_rows(
    by_courthouse: dict[str, dict[date, dict[str, Any]]],
) -> Iterator[tuple[str, date, dict[str, Any]]]:
    """(courthouse, Monday, figures) for the wide CSV, courthouse by courthouse."""
    for code, weeks in by_courthouse.items():
        for monday, cell in sorted(weeks.items()):
            yield code, monday, cell
