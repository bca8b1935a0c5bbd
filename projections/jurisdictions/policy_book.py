"""The detainer policy in force in a county on a given day, and per courthouse.

Why not a table kept by a projection runner: policies are a few entries per
county, recorded rarely, all on one aggregate (courtwatch/jurisdictions/
policies.py). Reading that aggregate gives every entry at once; this module
turns its entries into answers. The figures that split by policy take
:func:`policy_grouping` — a courthouse code and a day give the policy in force
there that day — so they never need to know how counties are found.

Rules (docs/summaries.md):
- an entry that a correction replaced no longer counts (it stays in the history);
- the entry in force on a day is the one with the latest effective date on or
  before that day; two with the same date: the one recorded later;
- before a county's first entry, and for a courthouse without a county, the
  policy is ``unknown``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from courtwatch.jurisdictions.policies import DetainerPolicy

UNKNOWN = DetainerPolicy.UNKNOWN.value


@dataclass(frozen=True)
class PolicyEntry:
    entry: int
    fips: str
    policy: str
    source_url: str
    effective_on: date
    member: str
    recorded_at: str
    corrects: int | None
    superseded_by: int | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyEntry:
        return cls(**{**data, "effective_on": date.fromisoformat(data["effective_on"])})

    def as_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "fips": self.fips,
            "policy": self.policy,
            "source_url": self.source_url,
            "effective_on": self.effective_on.isoformat(),
            "recorded_by": self.member,
            "recorded_at": self.recorded_at,
            "corrects": self.corrects,
            "superseded_by": self.superseded_by,
        }


class PolicyBook:
    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self._history: dict[str, list[PolicyEntry]] = defaultdict(list)
        for data in entries:
            found = PolicyEntry.from_dict(data)
            self._history[found.fips].append(found)
        # Standing entries by effective date, then by the order they were recorded in.
        self._standing = {
            fips: sorted(
                (e for e in history if e.superseded_by is None),
                key=lambda e: (e.effective_on, e.entry),
            )
            for fips, history in self._history.items()
        }

    def counties(self) -> list[str]:
        return sorted(self._history)

    def history(self, fips: str) -> list[PolicyEntry]:
        """Every entry of the county, corrected ones included, newest effective date first."""
        return sorted(self._history.get(fips, []), key=lambda e: (e.effective_on, e.entry))[::-1]

    def entry_on(self, fips: str | None, day: date) -> PolicyEntry | None:
        in_force = None
        for found in self._standing.get(fips or "", []):
            if found.effective_on > day:
                break
            in_force = found
        return in_force

    def policy_on(self, fips: str | None, day: date) -> str:
        found = self.entry_on(fips, day)
        return UNKNOWN if found is None else found.policy


def policy_grouping(
    book: PolicyBook, county_of: Mapping[str, str | None]
) -> Callable[[str | None, date], str]:
    """Courthouse code and day -> the detainer policy in force there that day.

    ``county_of`` maps courthouse codes to county FIPS codes
    (``courtwatch.jurisdictions.places.county_of_courthouses``). A report
    without a courthouse (a dropped pin) or at an unknown one is ``unknown``.
    """

    def group(courthouse_code: str | None, day: date) -> str:
        return book.policy_on(county_of.get(courthouse_code or ""), day)

    return group


def policy_groups_on(
    book: PolicyBook, county_of: Mapping[str, str | None], day: date
) -> dict[str, str]:
    """Courthouse code -> the policy in force on ``day`` (a fixed-day mapping)."""
    return {code: book.policy_on(fips, day) for code, fips in county_of.items()}
