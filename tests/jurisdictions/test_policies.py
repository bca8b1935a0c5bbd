"""Detainer policies as events: guards, corrections, and the policy in force at a date."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import Aggregate

from courtwatch.domain.errors import InvalidField
from courtwatch.domain.reports import Sighting, hash_token
from courtwatch.gazetteer import immigration_courts
from courtwatch.jurisdictions.places import county_of_courthouses
from courtwatch.jurisdictions.policies import POLICIES_ID, DetainerPolicies
from courtwatch.jurisdictions.service import correct_policy, load_policies, record_policy
from courtwatch.services import Services
from projections.jurisdictions.policy_book import PolicyBook, policy_grouping
from projections.jurisdictions.reader import courthouse_policy_grouping

TODAY = date(2026, 11, 23)
SOURCE = "https://www.nyc.gov/site/law/detainers.page"
GOOD = {"fips": "36061", "policy": "limits", "source_url": SOURCE, "effective_on": "2014-11-14",
        "member": "Ana", "today": TODAY}  # fmt: skip


def book_with(*entries: dict[str, Any]) -> DetainerPolicies:
    book = DetainerPolicies(POLICIES_ID)
    for entry in entries:
        book.record(**{**GOOD, **entry})
    return book


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://www.nyc.gov/",
        "https:///path-only",
        "https://user:pass@nyc.gov/",
        "https://nyc.gov@evil.example/",
        "https://nyc.gov\x00.evil.example/",
        "https://nyc.gov/\nSet-Cookie:x",
        "https://xn--nyc.gov/ok",  # allowed form, checked below
        "https://n\u0443c.gov/",  # a Cyrillic letter in a look-alike host
        "https://localhost/",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://nyc.gov:8443/",
        "https://nyc.gov:99999/",
        "//nyc.gov/",
        "https://" + "a" * 2000 + ".gov/",
        "",
        "\ud800",
        None,
        42,
        ["https://nyc.gov/"],
    ],
)
def test_hostile_source_links_are_refused(url: Any) -> None:
    book = DetainerPolicies(POLICIES_ID)
    if url == "https://xn--nyc.gov/ok":  # punycode is how a browser copies an IDN: fine
        book.record(**{**GOOD, "source_url": url})
        return
    with pytest.raises(InvalidField) as refused:
        book.record(**{**GOOD, "source_url": url})
    assert refused.value.field == "source_url"
    assert book.entries == [] and not book.collect_events()[1:]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("effective_on", "0001-01-01"),
        ("effective_on", "9999-12-31"),
        ("effective_on", "1999-12-31"),
        ("effective_on", "2028-01-01"),  # more than ~a year ahead
        ("effective_on", "2026-02-30"),
        ("effective_on", "2026-1-5"),
        ("effective_on", "2026-01-05\x00"),
        ("effective_on", 20260105),
        ("effective_on", "9" * 5000),
        ("fips", "99999"),
        ("fips", "3606"),
        ("fips", "36061\x00"),
        ("fips", "٣٦٠٦١"),  # Arabic-Indic digits match \d, not [0-9]
        ("fips", 36061),
        ("policy", "HONORS"),
        ("policy", "maybe"),
        ("policy", None),
        ("member", ""),
        ("member", "x" * 61),
    ],
)
def test_hostile_fields_are_refused_and_nothing_is_recorded(field: str, value: Any) -> None:
    book = DetainerPolicies(POLICIES_ID)
    with pytest.raises(InvalidField) as refused:
        book.record(**{**GOOD, field: value})
    assert refused.value.field == field
    assert book.entries == []


def test_a_policy_a_year_ahead_is_taken_for_a_law_not_yet_in_force() -> None:
    book = book_with({"effective_on": "2027-01-01"})
    assert book.entries[0]["effective_on"] == "2027-01-01"


def test_a_correction_is_a_new_entry_and_the_wrong_one_stays_in_the_history() -> None:
    book = book_with({"policy": "honors", "effective_on": "2015-01-01"})
    assert book.correct(entry=1, policy="limits", source_url=SOURCE, effective_on="2014-11-14",
                        member="Bo", today=TODAY) == 2  # fmt: skip
    assert [e["superseded_by"] for e in book.entries] == [2, None]
    assert book.entries[1]["corrects"] == 1 and book.entries[1]["fips"] == "36061"
    for entry in (1, 0, 3, -1, "1", True, 10**100):
        with pytest.raises(InvalidField):
            book.correct(entry=entry, policy="refuses", source_url=SOURCE,
                         effective_on="2020-01-01", member="Bo", today=TODAY)  # fmt: skip
    # Replayed from its events, the aggregate is the same.
    events = book.collect_events()
    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.entries == book.entries
    assert [type(e).__qualname__ for e in events] == [
        "DetainerPolicies.Started", "DetainerPolicies.PolicyRecorded",
        "DetainerPolicies.PolicyCorrected",
    ]  # fmt: skip
    assert all(isinstance(e, Aggregate.Event) for e in events)


def test_policy_on_a_date() -> None:
    book = book_with(
        {"policy": "honors", "effective_on": "2012-05-01"},
        {"policy": "refuses", "effective_on": "2014-11-14"},
        {"policy": "limits", "effective_on": "2014-11-14"},  # same day, recorded later: wins
        {"policy": "honors", "effective_on": "2025-03-01", "fips": "34013"},
        {"policy": "refuses", "effective_on": "2020-01-01"},
    )
    book.correct(entry=5, policy="honors", source_url=SOURCE, effective_on="2021-01-01",
                 member="Bo", today=TODAY)  # fmt: skip
    policies = PolicyBook(book.entries)
    assert policies.policy_on("36061", date(2012, 4, 30)) == "unknown"
    assert policies.policy_on("36061", date(2012, 5, 1)) == "honors"
    assert policies.policy_on("36061", date(2014, 11, 13)) == "honors"
    assert policies.policy_on("36061", date(2014, 11, 14)) == "limits"
    assert policies.policy_on("36061", date(2020, 6, 1)) == "limits"  # entry 5 was corrected
    assert policies.policy_on("36061", date(2021, 1, 1)) == "honors"
    assert policies.policy_on("34013", date(2025, 2, 28)) == "unknown"
    assert policies.policy_on("34013", date(2025, 3, 1)) == "honors"
    assert policies.policy_on("06075", TODAY) == "unknown"
    assert policies.policy_on(None, TODAY) == "unknown"
    assert policies.policy_on("36061", date.min) == "unknown"
    assert policies.policy_on("36061", date.max) == "honors"
    history = policies.history("36061")
    assert [e.entry for e in history] == [6, 5, 3, 2, 1]  # newest effective date first
    assert history[1].superseded_by == 6


def test_recorded_policies_survive_a_reload_and_concurrent_writers(services: Services) -> None:
    fields = {k: v for k, v in GOOD.items() if k != "today"}
    errors: list[BaseException] = []

    def write_one(n: int) -> None:
        try:
            record_policy(
                services.app, today=TODAY, **{**fields, "effective_on": f"2020-01-{n + 1:02d}"}
            )
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write_one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = load_policies(services.app).entries
    assert sorted(e["entry"] for e in stored) == [1, 2, 3, 4, 5, 6]
    del fields["fips"]
    assert (
        correct_policy(services.app, today=TODAY, entry=2, **{**fields, "policy": "refuses"}) == 7
    )
    with pytest.raises(InvalidField):
        record_policy(
            services.app, today=TODAY, fips="36061", **{**fields, "source_url": "javascript:x"}
        )
    assert len(load_policies(services.app).entries) == 7


def _fold_counts(
    events: list[Any], zones: dict[str, str], county_of: dict[str, str | None]
) -> Counter[str]:
    """Independently of the read model: replay every event in log order, then
    for each report scan every policy event for the one in force on its day."""
    entries: list[dict[str, Any]] = []
    reports: list[tuple[str, datetime]] = []
    for event in events:
        name = type(event).__qualname__
        if name in ("DetainerPolicies.PolicyRecorded", "DetainerPolicies.PolicyCorrected"):
            entries.append({"n": len(entries) + 1, "fips": event.fips, "policy": event.policy,
                            "on": date.fromisoformat(event.effective_on), "dead": False})  # fmt: skip
            if name.endswith("Corrected"):
                entries[event.corrects - 1]["dead"] = True
        elif name == "Sighting.Submitted":
            reports.append((event.courthouse_code, event.observed_at))
    counts: Counter[str] = Counter()
    for code, observed_at in reports:
        day = observed_at.astimezone(ZoneInfo(zones[code])).date()
        fitting = [e for e in entries if not e["dead"] and e["fips"] == county_of[code]
                   and e["on"] <= day]  # fmt: skip
        best = max(fitting, key=lambda e: (e["on"], e["n"]), default=None)
        counts[best["policy"] if best else "unknown"] += 1
    return counts


def test_a_policy_change_mid_period_splits_the_counts(services: Services) -> None:
    app = services.app
    fields = {k: v for k, v in GOOD.items() if k not in ("today", "fips")}
    # Manhattan honours detainers until 15 Oct 2026, then refuses them; Newark
    # limits them all along; a wrong Newark entry is corrected; Houston has none.
    record_policy(app, today=TODAY, fips="36061", **{**fields, "policy": "honors",
                  "effective_on": "2026-01-01"})  # fmt: skip
    record_policy(app, today=TODAY, fips="36061", **{**fields, "policy": "refuses",
                  "effective_on": "2026-10-15"})  # fmt: skip
    wrong = record_policy(app, today=TODAY, fips="34013", **{**fields, "policy": "refuses",
                          "effective_on": "2026-10-20"})  # fmt: skip
    correct_policy(app, today=TODAY, entry=wrong, **{**fields, "policy": "limits",
                   "effective_on": "2026-09-01"})  # fmt: skip
    rng = random.Random(14)
    codes = ["NYC", "NYD", "NEW", "HOU"]
    first = date(2026, 9, 1)
    for _ in range(120):
        day = first + timedelta(days=rng.randrange(61))  # September and October
        observed = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), tzinfo=UTC)
        app.save(Sighting(uuid.uuid4(), courthouse_code=rng.choice(codes), lat=None, lon=None,
                          observed_at=observed, details={"agents_count": 1},
                          author_token_hash=hash_token("t")))  # fmt: skip

    courts = {c.code: c for c in immigration_courts() if c.code in codes}
    zones = {code: str(court.zone) for code, court in courts.items()}
    county_of = county_of_courthouses(courts.values())
    events = [app.mapper.to_domain_event(n)
              for n in app.recorder.select_notifications(start=1, limit=10_000)]  # fmt: skip
    expected = _fold_counts(events, zones, county_of)

    group = courthouse_policy_grouping(app)
    got: Counter[str] = Counter()
    for event in events:
        if type(event).__qualname__ == "Sighting.Submitted":
            code = event.courthouse_code
            got[group(code, event.observed_at.astimezone(ZoneInfo(zones[code])).date())] += 1
    assert got == expected
    assert sum(got.values()) == 120
    # The change in the middle really split Manhattan's reports.
    assert got["honors"] > 0 and got["refuses"] > 0 and got["limits"] > 0 and got["unknown"] > 0
    # And a courthouse the map does not know (a pin) is "unknown", not an error.
    assert policy_grouping(PolicyBook([]), county_of)(None, TODAY) == "unknown"
