"""Which county and city each courthouse is in."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from courtwatch.gazetteer import Courthouse
from courtwatch.jurisdictions.counties import County, county_at


@dataclass(frozen=True)
class CourthousePlace:
    code: str
    name: str
    city: str  # as the courthouse's address gives it; "" when a local entry has none
    county: County | None  # None: the point is in no county we know (sea, outside the U.S.)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "city": self.city,
            "county": None if self.county is None else self.county.as_dict(),
        }


@functools.lru_cache(maxsize=4096)
def _county_at(lat: float, lon: float) -> County | None:
    return county_at(lat, lon)


def place_of(courthouse: Courthouse) -> CourthousePlace:
    return CourthousePlace(
        code=courthouse.code,
        name=courthouse.name,
        city=courthouse.city,
        county=_county_at(courthouse.lat, courthouse.lon),
    )


def county_of_courthouses(courthouses: Iterable[Courthouse]) -> dict[str, str | None]:
    """Courthouse code -> county FIPS (None when it has none)."""
    return {
        place.code: None if place.county is None else place.county.fips
        for place in map(place_of, courthouses)
    }
