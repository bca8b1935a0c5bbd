"""The immigration courts, from EOIR's base-city table, placed by ZIP centroid."""

from __future__ import annotations

import csv
import functools
from dataclasses import asdict, dataclass
from importlib import resources
from statistics import fmean
from typing import Any

import zipcodes

from courtwatch.timezones import zone_name_at

# EOIR rows that are courts although their name does not say so (data/PROVENANCE.md).
KNOWN_COURTS_BY_NAME = ("STERLING", "INDIANAPOLIS")


@dataclass(frozen=True)
class Courthouse:
    code: str
    name: str
    kind: str  # "immigration" for EOIR courts; criminal/family/county/... for local ones
    street: str
    city: str
    state: str
    zip: str
    lat: float
    lon: float
    source: str  # "eoir" or "local"

    @property
    def zone(self) -> str | None:
        """IANA zone from the coordinates (courtwatch/timezones.py): times typed for
        this courthouse are its wall-clock times, and its trend days are its own.

        Computed when first asked for, not when the courts are loaded: the
        boundary data takes a second or more to load, and startup and the JSON
        submit path do not need it. Local courthouses thus get theirs at read
        time, so courthouses added before zones existed need no migration.
        """
        return zone_name_at(self.lat, self.lon)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "zone": self.zone}


def _zip_centroid(zip_code: str, city: str, state: str) -> tuple[float, float] | None:
    found = zipcodes.matching(zip_code[:5])
    if found:
        return float(found[0]["lat"]), float(found[0]["long"])
    # Some government ZIP codes are not in the postal data: fall back to the city.
    in_city = zipcodes.filter_by(city=city.title(), state=state.upper())
    if in_city:
        return fmean(float(z["lat"]) for z in in_city), fmean(float(z["long"]) for z in in_city)
    return None


def _is_court(row: dict[str, str]) -> bool:
    name = row["name"].upper()
    is_court = "IMMIGRATION COURT" in name or any(k in name for k in KNOWN_COURTS_BY_NAME)
    return row["active"] == "1" and is_court


def _display_name(row: dict[str, str]) -> str:
    city = row["city"].title()
    return f"{city} Immigration Court ({row['code']})"


@functools.cache
def immigration_courts() -> tuple[Courthouse, ...]:
    text = resources.files("courtwatch").joinpath("data/eoir_base_cities.csv").read_text()
    courts = []
    for row in csv.DictReader(text.splitlines()):
        if not _is_court(row):
            continue
        position = _zip_centroid(row["zip"], row["city"], row["state"])
        if position is None:
            continue
        lat, lon = round(position[0], 5), round(position[1], 5)
        courts.append(
            Courthouse(
                code=row["code"],
                name=_display_name(row),
                kind="immigration",
                street=row["street"].title(),
                city=row["city"].title(),
                state=row["state"],
                zip=row["zip"][:5],
                lat=lat,
                lon=lon,
                source="eoir",
            )
        )
    return tuple(sorted(courts, key=lambda c: (c.state, c.city, c.code)))


def local_courthouse(data: dict[str, Any]) -> Courthouse:
    return Courthouse(
        code=data["code"],
        name=data["name"],
        kind=data["kind"],
        street=data.get("street", ""),
        city=data.get("city", ""),
        state=data.get("state", ""),
        zip=data.get("zip", ""),
        lat=data["lat"],
        lon=data["lon"],
        source="local",
    )


@functools.cache
def immigration_court_zones() -> dict[str, str | None]:
    """Code -> zone of every EOIR court (the trend view needs no local courthouses: see there)."""
    return {court.code: court.zone for court in immigration_courts()}
