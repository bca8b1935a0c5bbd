"""What the jurisdiction pages and their JSON show, built once for both."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from courtwatch.jurisdictions.counties import County, county_by_fips
from courtwatch.jurisdictions.places import CourthousePlace, place_of
from courtwatch.services import Services
from projections.jurisdictions.policy_book import PolicyBook
from projections.jurisdictions.reader import policy_book
from projections.trends.weekly import weekly_report_counts

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
    }
