"""Figures and periods said the way people say them, in English and Spanish.

"0.0833 arrests per watched hour" is exact and unreadable; "about 1 arrest per
12 watched hours" is what a lawyer can repeat. The rate keeps its counts next
to it ("3 arrests in 36 watched hours"), because a rate from three arrests is a
weak one and the reader should see that. With no watched hours there is no
denominator, and the page says so rather than dividing by zero.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from projections.trends.periods import Period

Translate = Callable[[str], str]


def month_names(t: Translate, *, short: bool) -> list[str]:
    return t("summary.months_short" if short else "summary.months").split()


def day_label(day: date, t: Translate) -> str:
    """``16 Nov 2026`` / ``16 nov 2026``."""
    return f"{day.day} {month_names(t, short=True)[day.month - 1]} {day.year}"


def period_label(period: Period, t: Translate) -> str:
    """``week of 16 Nov 2026``, ``23 Nov 2026``, ``November 2026`` (and in Spanish)."""
    if period.kind == "week":
        return t("summary.label.week").format(date=day_label(period.first, t))
    if period.kind == "month":
        month = month_names(t, short=False)[period.first.month - 1]
        return t("summary.label.month").format(month=month, year=period.first.year)
    return day_label(period.first, t)


def round_plainly(value: float) -> int:
    """Whole numbers under 10, two significant digits above: 7, 12, 120, 1,200."""
    if value < 10:
        return max(1, round(value))
    digits = len(str(int(value))) - 2
    return int(round(value, -digits))


def _count(n: int, t: Translate, one: str, many: str) -> str:
    return t(one) if n == 1 else t(many).format(n=f"{n:,}")


def arrests_per_watched_hours(arrests: int, watched_seconds: int, t: Translate) -> str:
    """``about 1 arrest per 12 watched hours (3 arrests in 36 watched hours)``."""
    if watched_seconds <= 0:
        return t("summary.rate.no_hours")
    watched = watched_seconds / 3600
    shown_hours = f"{watched:,.0f}" if watched >= 10 else f"{watched:,.1f}"
    counts = t("summary.rate.counts").format(
        arrests=_count(arrests, t, "summary.rate.one_arrest", "summary.rate.arrests"),
        hours=shown_hours,
    )
    if arrests == 0:
        return t("summary.rate.none").format(hours=shown_hours)
    per_hour = arrests / watched
    if per_hour >= 1:
        n = round_plainly(per_hour)
        key = "summary.rate.per_hour_one" if n == 1 else "summary.rate.per_hour"
        return f"{t(key).format(n=f'{n:,}')} ({counts})"
    n = round_plainly(watched / arrests)
    key = "summary.rate.per_one_hour" if n == 1 else "summary.rate.per_hours"
    return f"{t(key).format(n=f'{n:,}')} ({counts})"


def short_rate(arrests: int, watched_seconds: int, t: Translate) -> str:
    """The same rate for a table cell: ``≈ 1 per 12 h``, ``0``, or ``—`` with no hours."""
    if watched_seconds <= 0:
        return "—"
    if arrests == 0:
        return "0"
    per_hour = arrests * 3600 / watched_seconds
    if per_hour >= 1:
        return t("summary.rate.short_per_hour").format(n=f"{round_plainly(per_hour):,}")
    return t("summary.rate.short").format(n=f"{round_plainly(1 / per_hour):,}")
