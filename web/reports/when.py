"""The report form's "When": which zone a typed time is read in, and what the form says about it.

A watcher types the clock time of the place the report is about. The form
reads it in the chosen courthouse's zone, or the dropped pin's, never in the
server's or the phone's (a phone may still be on home time). The one exception
is a pre-filled time the watcher left alone: it means "when I opened the form",
an instant, so it is read in the zone it was written in (``prefilled_zone``).
That keeps a no-JavaScript form right when the pre-fill was made before a
courthouse was picked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from courtwatch.gazetteer import Courthouse
from courtwatch.timezones import (
    family_key,
    localize,
    offset_label,
    us_zone_names,
    zone_name_at,
    zone_or,
)

Zone = ZoneInfo | timezone
FORM_MINUTES = "%Y-%m-%dT%H:%M"
# Minutes east of UTC, as the phone says; real offsets lie within +-14 hours.
_OFFSET = re.compile(r"^[+-]?[0-9]{1,4}$")
MAX_OFFSET_MINUTES = 14 * 60


@dataclass(frozen=True)
class When:
    """What the template needs to show next to "When"."""

    zone: str
    label: str
    notice: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def zone_label(name: str, t: Callable[[str], str]) -> str:
    """ "Pacific time (America/Los_Angeles)"; a zone outside the U.S. by its IANA name."""
    key = family_key(name)
    return f"{t(key)} ({name})" if key else name


def _float(text: str | None) -> float | None:
    try:
        return float((text or "").strip())
    except ValueError:
        return None


def place_zone(
    courthouse: Courthouse | None, lat: str | None, lon: str | None, default: ZoneInfo
) -> ZoneInfo:
    """The chosen courthouse's zone, else the dropped pin's, else the configured default."""
    if courthouse is not None and courthouse.zone:
        return zone_or(courthouse.zone, default)
    la, lo = _float(lat), _float(lon)
    if courthouse is None and la is not None and lo is not None:
        return zone_or(zone_name_at(la, lo), default)
    return default


def prefill(zone: Zone, now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(zone).strftime(FORM_MINUTES)


def observed_at_zone(form: Mapping[str, str], place: ZoneInfo) -> ZoneInfo:
    """The zone ``observed_at`` is read in: the place's, unless the pre-fill was left alone."""
    typed = form.get("observed_at", "").strip()
    if typed and typed == form.get("prefilled_at", "").strip():
        return zone_or(form.get("prefilled_zone", "").strip(), place)
    return place


def read_wall_clock(value: str, zone: Zone) -> str:
    """A datetime-local value as an ISO time with the zone's offset; anything else as typed.

    A value that already carries an offset (an API-style client) is kept as sent.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # left for validation to name
    if parsed.tzinfo is not None:
        return value
    return localize(parsed, zone).isoformat()


def phone_offset(form: Mapping[str, str]) -> int | None:
    raw = form.get("phone_utc_offset", "").strip()
    if not _OFFSET.match(raw):
        return None
    minutes = int(raw)
    return minutes if abs(minutes) <= MAX_OFFSET_MINUTES else None


def mismatch_notice(
    phone_minutes: int | None, zone: ZoneInfo, t: Callable[[str], str], now: datetime
) -> str:
    """The notice shown when the phone's clock is set to another zone than the place's."""
    if phone_minutes is None:
        return ""
    place_offset = now.astimezone(zone).utcoffset() or timedelta()
    if place_offset == timedelta(minutes=phone_minutes):
        return ""
    phone = offset_label(phone_minutes)
    return t("zone.mismatch").format(phone=phone, place=zone_label(zone.key, t))


def form_when(
    courthouses: Iterable[Courthouse],
    values: Mapping[str, str],
    default: ZoneInfo,
    t: Callable[[str], str],
    now: datetime,
) -> When:
    """The zone shown next to "When" for these form values, and the script's data."""
    by_code = {c.code: c for c in courthouses}
    chosen = by_code.get(values.get("courthouse_code", ""))
    place = place_zone(chosen, values.get("lat"), values.get("lon"), default)
    zones = {code: c.zone for code, c in by_code.items() if c.zone}
    labelled = {*zones.values(), *us_zone_names(), default.key, place.key}
    data = {
        "zones": zones,
        "labels": {name: zone_label(name, t) for name in sorted(labelled)},
        "default": default.key,
        "mismatch": t("zone.mismatch"),
    }
    notice = mismatch_notice(phone_offset(values), place, t, now)
    return When(zone=place.key, label=zone_label(place.key, t), notice=notice, data=data)
