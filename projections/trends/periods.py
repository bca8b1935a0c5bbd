"""Calendar periods of a summary: a local day, an ISO week or a month.

Periods are spans of *local* days in the configured zone (America/New_York by
default), named the way people write them: ``2026-11-23``, ``2026-W47``,
``2026-11``. A week runs Monday to Sunday as ISO 8601 says, so the week of
the daylight-saving change simply has one hour more or less: its instants are
computed from local midnights, never by adding 7 x 24 hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_KINDS = ("day", "week", "month")
# ASCII digits only: ``\d`` would also read fullwidth or Arabic-Indic digits as a year.
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)
_WEEK = re.compile(r"^([0-9]{4})-W([0-9]{2})$", re.ASCII)
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$", re.ASCII)
# The years a summary can be about. Reports are plausible from 2000 on; outside
# these bounds date arithmetic overflows at year 1 and 9999 (a week's end, a
# month's following day, a local midnight in UTC), so such keys are refused here.
FIRST_YEAR = 2000
LAST_YEAR = 2100


class BadPeriod(ValueError):
    """A period kind or key courtwatch cannot read."""


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # first local day
    end: date  # the local day after the last one

    @property
    def key(self) -> str:
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first.year}-{self.first.month:02d}"

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.end - self.first).days)]

    def starts_at(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=zone)

    def ends_at(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.end, time(0), tzinfo=zone)

    def previous(self) -> Period:
        return containing(self.kind, self.first - timedelta(days=1))

    def next(self) -> Period:
        return containing(self.kind, self.end)

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


def containing(kind: str, day: date) -> Period:
    """The period of this kind that contains a local day."""
    if kind == "day":
        return Period("day", day, day + timedelta(days=1))
    if kind == "week":
        monday = day - timedelta(days=day.isoweekday() - 1)
        return Period("week", monday, monday + timedelta(days=7))
    if kind == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Period("month", first, following)
    raise BadPeriod(f"period must be one of {', '.join(PERIOD_KINDS)}, got {kind!r}")


def parse(kind: str, key: str) -> Period:
    """``parse("week", "2026-W47")``; raises BadPeriod for anything else."""
    year = key[:4]
    if year.isascii() and year.isdigit() and not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise BadPeriod(f"summaries cover the years {FIRST_YEAR} to {LAST_YEAR}, got {key!r}")
    try:
        if kind == "day" and _DAY.match(key):
            return containing("day", date.fromisoformat(key))
        if kind == "week" and (m := _WEEK.match(key)):
            return containing("week", date.fromisocalendar(int(m[1]), int(m[2]), 1))
        if kind == "month" and (m := _MONTH.match(key)):
            return containing("month", date(int(m[1]), int(m[2]), 1))
    except ValueError:
        pass
    if kind not in PERIOD_KINDS:
        raise BadPeriod(f"period must be one of {', '.join(PERIOD_KINDS)}, got {kind!r}")
    examples = {"day": "2026-11-23", "week": "2026-W47", "month": "2026-11"}
    raise BadPeriod(f"a {kind} is written like {examples[kind]}, got {key!r}")


def current(kind: str, now: datetime, zone: ZoneInfo) -> Period:
    return containing(kind, now.astimezone(zone).date())


def last_complete(kind: str, now: datetime, zone: ZoneInfo) -> Period:
    """The most recent period of this kind that has ended."""
    return current(kind, now, zone).previous()
