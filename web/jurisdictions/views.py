"""What the jurisdiction pages and their JSON show, built once for both."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from courtwatch.jurisdictions.counties import County, county_by_fips
from courtwatch.jurisdictions.places import CourthousePlace, place_of
from courtwatch.jurisdictions.policies import DetainerPolicy
from courtwatch.services import Services
from projections.jurisdictions.policy_book import PolicyBook, policy_grouping
from projections.jurisdictions.reader import policy_book
from projections.trends import pipeline
from projections.trends.weekly import week_of, weekly_report_counts

WEEKS = 12


class UnknownJurisdiction(LookupError):
    """No county has this FIPS code (answered 404)."""


def county_or_404(fips: str) -> County:
    county = county_by_fips(fips)
    if county is None:
        raise UnknownJurisdiction(f"no county has the FIPS code {fips[:16]!r}")
    return county


def _places(services: Services) -> list[CourthousePlace]:
    return [place_of(c) for c in services.app.courthouses()]


def _policy_now(book: PolicyBook, fips: str, today: date) -> dict[str, Any]:
    entry = book.entry_on(fips, today)
    return {
        "policy": book.policy_on(fips, today),
        "since": None if entry is None else entry.effective_on.isoformat(),
        "source_url": None if entry is None else entry.source_url,
    }


def pipeline_span(today: date) -> tuple[date, date]:
    """The days [first, end) of the last 12 weeks, the same weeks as the weekly chart."""
    end = week_of(today) + timedelta(weeks=1)
    return end - timedelta(weeks=WEEKS), end


def pipeline_figures(
    services: Services, book: PolicyBook, today: date, fips: str | None = None
) -> dict[str, Any]:
    """The lag and share figures of the last 12 weeks, split by the policy in force.

    Each report counts under the detainer policy its county had on the report's
    own day, so a county that changed policy mid-period is split on that day.
    With ``fips``, only that county's courthouses count.
    """
    county_of = {
        place.code: (place.county.fips if place.county else None) for place in _places(services)
    }
    first, end = pipeline_span(today)
    rows = pipeline.read_cells(services.database, first, end)
    if fips is not None:
        rows = [row for row in rows if county_of.get(row[1]) == fips]
    by_policy = pipeline.grouped_figures(rows, policy_grouping(book, county_of))
    return {
        "first": first.isoformat(),
        "last": (end - timedelta(days=1)).isoformat(),
        "all": pipeline.figures(rows)["all"],
        "by_policy": {
            policy: by_policy[policy]["all"]
            for policy in (p.value for p in DetainerPolicy)
            if policy in by_policy
        },
    }


def jurisdiction_list(services: Services, today: date) -> list[dict[str, Any]]:
    """Counties with a courthouse or a recorded policy, by state then name."""
    book = policy_book(services.app)
    by_county: dict[str, list[CourthousePlace]] = defaultdict(list)
    for place in _places(services):
        if place.county is not None:
            by_county[place.county.fips].append(place)
    rows = []
    for fips in set(by_county) | set(book.counties()):
        county = county_by_fips(fips)
        if county is None:
            continue
        places = by_county.get(fips, [])
        rows.append(
            {
                **county.as_dict(),
                "cities": sorted({p.city for p in places if p.city}),
                "courthouses": sorted(p.code for p in places),
                **_policy_now(book, fips, today),
            }
        )
    return sorted(rows, key=lambda r: (r["state"], r["name"], r["fips"]))


def jurisdiction_detail(services: Services, county: County, today: date) -> dict[str, Any]:
    book = policy_book(services.app)
    places = [p for p in _places(services) if p.county is not None and p.county == county]
    codes = sorted(p.code for p in places)
    return {
        **county.as_dict(),
        "cities": sorted({p.city for p in places if p.city}),
        "courthouses": [
            {"code": p.code, "name": p.name, "city": p.city}
            for p in sorted(places, key=lambda p: (p.city, p.code))
        ],
        **_policy_now(book, county.fips, today),
        "history": [e.as_dict() for e in book.history(county.fips)],
        "weekly_reports": weekly_report_counts(services.database, codes, today, WEEKS),
        "pipeline": pipeline_figures(services, book, today, county.fips),
    }
