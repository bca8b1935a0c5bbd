"""Realistic demo histories: reports, watch shifts and their lifecycles.

Used by ``courtwatch demo``, by the trend tests and by ``bench/summaries.py``.
It builds report aggregates with the domain's own commands (so every rule a
real report passes, a demo report passes too) and saves them in chunks of a
few hundred events: one save per report is ~1,000 events/s, one huge save
hangs psycopg's pipeline (STACK_NOTES.md), chunks run at ~16,000 events/s.

The mix is skewed like the real thing: a few courthouses see most of the
activity, most reports come on weekdays in court hours, a third of the
reports are watch shifts (the denominator), outcomes are often learned later,
and a share of reports is sent days after what they describe.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import Application

from courtwatch.domain.reports import (
    CallInAppearance,
    CourthouseArrest,
    Report,
    Sighting,
    WatchShift,
)
from courtwatch.gazetteer import Courthouse, immigration_courts

CHUNK_EVENTS = 400  # well under the size at which one save() hangs
VERIFIER = "demo-verifier"

KIND_WEIGHTS = (("watch_shift", 35), ("sighting", 30), ("courthouse_arrest", 20), ("call_in", 15))
ROLES = (("defendant", 45), ("witness", 10), ("survivor", 9), ("family_court_litigant", 8),
         ("family_member", 6), ("other", 7), ("unknown", 15))  # fmt: skip
AGENCIES = (("ice_ero", 60), ("hsi", 10), ("cbp", 8), ("unknown", 22))
WARRANTS = (("administrative", 40), ("judicial", 4), ("none", 20), ("unknown", 36))
PLACES = (("hallway", 35), ("courtroom", 10), ("entrance", 25), ("outside", 25), ("unknown", 5))
ARREST_OUTCOMES = (("detained", 70), ("released", 8), ("unknown", 22))
CALL_IN_OUTCOMES = (("detained", 35), ("released", 30), ("told_to_return", 25), ("unknown", 10))
ANSWERS = (("yes", 30), ("no", 40), ("unknown", 30))


@dataclass
class DemoResult:
    reports: int = 0
    events: int = 0


def pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


class _Generator:
    def __init__(self, rng: random.Random, now: datetime, days: int, zone: ZoneInfo,
                 courthouses: Sequence[Courthouse]) -> None:  # fmt: skip
        self.rng, self.now, self.days, self.zone = rng, now, days, zone
        shuffled = list(courthouses)
        rng.shuffle(shuffled)
        self.courthouses = shuffled
        # Zipf-like: the busiest courthouse sees ~ten times the tenth busiest.
        self.weights = [1 / (rank + 1) for rank in range(len(shuffled))]

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def when(self, start_hour: float = 8.5, end_hour: float = 16.5) -> datetime:
        """A local court-hours time on a day of the span, weekdays five times likelier."""
        while True:
            day = (
                self.now.astimezone(self.zone) - timedelta(days=self.rng.randrange(self.days))
            ).date()
            if day.isoweekday() <= 5 or self.rng.random() < 0.2:
                break
        minutes = int(self.rng.uniform(start_hour, end_hour) * 60)
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return min(local, self.now - timedelta(minutes=30))

    def report(self) -> Report:
        kind = pick(self.rng, KIND_WEIGHTS)
        court = self.rng.choices(self.courthouses, self.weights)[0]
        token = f"demo-{self.rng.getrandbits(64):016x}"
        common: dict[str, Any] = {
            "courthouse_code": court.code, "lat": court.lat, "lon": court.lon,
            "author_token": token, "now": self.now,
        }  # fmt: skip
        report = getattr(self, kind)(common)
        self.lifecycle(report, token)
        return report

    def courthouse_arrest(self, common: dict[str, Any]) -> Report:
        details = {
            "place": pick(self.rng, PLACES),
            "agents_count": self.rng.randint(1, 6),
            "agency": pick(self.rng, AGENCIES),
            "plain_clothes": pick(self.rng, ANSWERS),
            "identification_shown": pick(self.rng, ANSWERS),
            "warrant": pick(self.rng, WARRANTS),
            "person_role": pick(self.rng, ROLES),
            # Often the watcher does not see what happened next: learned later.
            "outcome": "unknown" if self.rng.random() < 0.5 else pick(self.rng, ARREST_OUTCOMES),
            "taken_to": None,
            "attorney_present": pick(self.rng, ANSWERS),
        }
        return CourthouseArrest.submit(
            self.uuid(), observed_at=self.when(), details=details, **common
        )

    def sighting(self, common: dict[str, Any]) -> Report:
        details = {
            "place": pick(self.rng, PLACES),
            "agents_count": self.rng.randint(1, 8),
            "vehicles_count": self.rng.randint(0, 3),
            "agency": pick(self.rng, AGENCIES),
            "plain_clothes": pick(self.rng, ANSWERS),
        }
        return Sighting.submit(self.uuid(), observed_at=self.when(7, 18), details=details, **common)

    def call_in(self, common: dict[str, Any]) -> Report:
        appointment = self.when(8, 15)
        letter = appointment - timedelta(days=self.rng.randint(10, 20))
        details = {
            "letter_date": letter.date().isoformat(),
            "office": None,
            "accompanied": pick(self.rng, ANSWERS),
            "outcome": "pending",
        }
        return CallInAppearance.submit(
            self.uuid(), observed_at=appointment, details=details, **common
        )

    def watch_shift(self, common: dict[str, Any]) -> Report:
        # A few evening shifts run past midnight: their hours count on two days.
        evening = self.rng.random() < 0.03
        start = self.when(19, 22) if evening else self.when(7.5, 11)
        length = timedelta(minutes=self.rng.randrange(60, 7 * 60, 15))
        end = min(start + length, self.now)
        ended_now = self.rng.random() < 0.8 and end > start
        details = {"ended_at": end.isoformat() if ended_now else None}
        shift = WatchShift.submit(self.uuid(), observed_at=start, details=details, **common)
        if not ended_now and end > start and self.rng.random() < 0.9:
            shift.end_shift(token=common["author_token"], ended_at=end, now=self.now)
        return shift

    def lifecycle(self, report: Report, token: str) -> None:
        rng = self.rng
        unknown_outcome = report.details.get("outcome") == "unknown"
        if isinstance(report, CourthouseArrest) and unknown_outcome and rng.random() < 0.6:
            report.record_outcome(token=None, outcome={"outcome": pick(rng, ARREST_OUTCOMES)})
        if isinstance(report, CallInAppearance) and rng.random() < 0.7:
            report.record_outcome(token=token, outcome={"outcome": pick(rng, CALL_IN_OUTCOMES)})
        if isinstance(report, CourthouseArrest) and rng.random() < 0.08:
            # The author learns who the person was at court, or fixes the time.
            report.amend(token=token, changes={"person_role": pick(rng, ROLES)}, now=self.now)
        if not isinstance(report, WatchShift) and rng.random() < 0.05:
            moved = report.observed_at - timedelta(hours=rng.randint(1, 30))
            report.amend(token=token, changes={"observed_at": moved}, now=self.now)
        if rng.random() < 0.15:
            report.corroborate(corroborator_hash=f"{rng.getrandbits(128):032x}")
        verdict = rng.random()
        if verdict < 0.25:
            report.verify(VERIFIER)
        elif verdict < 0.28:
            report.dispute(VERIFIER, "unconfirmed_rumour")


def generate(
    app: Application[UUID],
    *,
    reports: int,
    now: datetime,
    days: int = 120,
    zone: ZoneInfo | None = None,
    seed: int = 1,
    courthouses: Sequence[Courthouse] | None = None,
    progress: Callable[[int], object] | None = None,
) -> DemoResult:
    """Save ``reports`` demo reports with their lifecycles; ``progress(n)`` after each chunk."""
    generator = _Generator(
        random.Random(seed), now, days, zone or ZoneInfo("America/New_York"),
        courthouses or immigration_courts(),
    )  # fmt: skip
    result = DemoResult()
    chunk: list[Report] = []
    pending = 0
    for _ in range(reports):
        report = generator.report()
        chunk.append(report)
        pending += report.version
        if pending >= CHUNK_EVENTS:
            app.save(*chunk)
            result.reports += len(chunk)
            result.events += pending
            if progress:
                progress(len(chunk))
            chunk, pending = [], 0
    if chunk:
        app.save(*chunk)
        result.reports += len(chunk)
        result.events += pending
        if progress:
            progress(len(chunk))
    return result
