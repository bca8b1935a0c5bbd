"""Which time zone a place is in, and what people call it.

A time a watcher types is the wall-clock time where the report happened, so
every courthouse and every dropped pin carries its IANA zone, computed from its
coordinates with timezonefinder's offline boundary data (the full-precision
polygons of timezone-boundary-builder, territorial waters included). A table of
states would be wrong: Texas, Florida, Indiana, Kentucky, Tennessee, Oregon,
Idaho and others span two zones, and Arizona keeps no daylight time while the
Navajo Nation inside it does.

How a typed wall-clock time becomes an instant (:func:`localize`):
- in a spring-forward gap (02:30 on the day clocks jump from 02:00 to 03:00)
  the time does not exist; it is read with the offset in force just before the
  gap (PEP 495 ``fold=0``), so 02:30 EST is stored as the same instant,
  03:30 EDT: a phone that had not changed its clock yet shows 02:30 then;
- in a fall-back overlap (01:30 happens twice) the *first* 01:30 (daylight
  time, ``fold=0``) is taken. Both readings are kept honest by storing the
  offset with the time (``01:30-04:00``), so the record says which one it is.
"""

from __future__ import annotations

import functools
import math
import zoneinfo
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import timezonefinder

# Zones of the United States and its territories get a family name ("Pacific
# time"); other zones are shown by their IANA name only.
US_COUNTRY_CODES = frozenset({"US", "PR", "VI", "GU", "MP", "AS", "UM"})
# Standard (winter) offset in hours -> the i18n key of the family's name.
FAMILY_BY_STANDARD_OFFSET = {
    -4: "zone.atlantic",
    -5: "zone.eastern",
    -6: "zone.central",
    -7: "zone.mountain",
    -8: "zone.pacific",
    -9: "zone.alaska",
    -10: "zone.hawaii",
    -11: "zone.samoa",
    10: "zone.chamorro",
}


@functools.lru_cache(maxsize=8192)
def zone_name_at(lat: float, lon: float) -> str | None:
    """The IANA zone at a point, or None for coordinates that are not on Earth."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    name = timezonefinder.timezone_at(lng=lon, lat=lat)
    # The boundary data and tzdata are released separately: a zone newer than
    # our tzdata is unusable, so the caller falls back to its default.
    return name if zone_named(name) is not None else None


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_named(name: str | None) -> ZoneInfo | None:
    """The zone of this IANA name, or None for anything else a client may send.

    Checked against the list of known zones first: ZoneInfo() itself raises
    OSError for a name too long to be a file, or a folder such as "America".
    """
    if not name or name not in _known_zones():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_or(name: str | None, default: ZoneInfo) -> ZoneInfo:
    return zone_named(name) or default


@functools.cache
def _countries_by_zone() -> dict[str, str]:
    text = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _, name, *_ = line.split("\t")
            found[name] = country
    return found


@functools.cache
def us_zone_names() -> tuple[str, ...]:
    """Every zone of the U.S. and its territories that has an everyday name."""
    return tuple(
        sorted(
            n for n, c in _countries_by_zone().items() if c in US_COUNTRY_CODES and family_key(n)
        )
    )


@functools.cache
def family_key(name: str) -> str | None:
    """The i18n key of a U.S. zone's everyday name ("zone.pacific"), or None."""
    if _countries_by_zone().get(name) not in US_COUNTRY_CODES:
        return None
    zone = ZoneInfo(name)
    january = datetime(2026, 1, 15, 12, tzinfo=zone)
    standard = (january.utcoffset() or timedelta()) - (january.dst() or timedelta())
    return FAMILY_BY_STANDARD_OFFSET.get(round(standard.total_seconds() / 3600))


def localize(wall_clock: datetime, zone: ZoneInfo | timezone) -> datetime:
    """A typed wall-clock time read in ``zone`` (gaps and overlaps as the module says).

    The result is written with a clock time that existed: 02:30 in a gap comes
    back as 03:30 daylight time, the same instant.
    """
    aware = wall_clock.replace(tzinfo=zone, fold=0)
    try:
        return aware.astimezone(UTC).astimezone(zone)
    except OverflowError:
        # Year 1 or 9999: left as typed, for intake's plausibility check to refuse.
        return aware


def offset_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"
