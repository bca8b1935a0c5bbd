"""The report page in words a person reads: the courthouse by name and city, times
on the courthouse's clock with its zone, and each change as before → after.

A report's stored form stays as it is (codes, UTC instants); this module only
decides how the page shows it. The history rows come from ``history_rows`` and
are drawn by the ``history_table`` macro (templates/_history.html), kept small
so other views of a history (verdicts with member names) can extend them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from courtwatch.gazetteer import Courthouse
from web.reports.when import zone_label

TIME_FIELDS = ("observed_at", "ended_at")
DASH = "—"


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryRow:
    version: int
    event: str
    timestamp: str  # ISO, for <time datetime>
    when: str  # on the courthouse's clock
    changes: list[Change] = field(default_factory=list)
    # The history item as the API gives it: who did it and why
    # (templates/report_history.html reads the verifier, reason or member).
    entry: Mapping[str, Any] = field(default_factory=dict)


def place_text(courthouse: Courthouse | None, code: str | None) -> str:
    """ "New York Immigration Court (NYC) · New York, NY"; the bare code if it is unknown."""
    if courthouse is None:
        return code or DASH
    where = ", ".join(part for part in (courthouse.city.title(), courthouse.state) if part)
    return f"{courthouse.name} · {where}" if where else courthouse.name


def local_time(value: Any, zone: ZoneInfo) -> str:
    """An ISO instant as "2026-11-23 06:59 EST"; a date or anything unreadable as it is."""
    if not isinstance(value, str) or "T" not in value:
        return DASH if value in (None, "") else str(value)
    try:
        instant = datetime.fromisoformat(value)
        if instant.tzinfo is None:
            return value
        local = instant.astimezone(zone)
    except (ValueError, OverflowError):
        return value
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()


def zone_text(zone: ZoneInfo, t: Callable[[str], str]) -> str:
    return zone_label(zone.key, t)


class Formatter:
    """Field values as the page shows them, in the reader's language."""

    def __init__(
        self,
        t: Callable[[str], str],
        value_labels: Mapping[str, str],
        zone: ZoneInfo,
        courthouse_named: Callable[[str], Courthouse | None],
    ) -> None:
        self.t, self.value_labels, self.zone = t, value_labels, zone
        self.courthouse_named = courthouse_named

    def label(self, name: str) -> str:
        return self.t(f"field.{name}")

    def value(self, name: str, value: Any) -> str:
        if value is None or value == "":
            return DASH
        if name in TIME_FIELDS:
            return local_time(value, self.zone)
        if name == "courthouse_code" and isinstance(value, str):
            return place_text(self.courthouse_named(value), value)
        family = self.value_labels.get(name)
        if family and isinstance(value, str):
            return self.t(f"{family}.{value}")
        return str(value)


def _changed_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The fields an event sets, by event kind (the others change no field)."""
    data = entry.get("data") or {}
    if entry.get("event") == "Amended":
        return dict(data.get("changes") or {})
    if entry.get("event") == "OutcomeRecorded":
        return dict(data.get("outcome") or {})
    if entry.get("event") == "Ended":
        return {"ended_at": data.get("ended_at")}
    return {}


def history_rows(history: list[Mapping[str, Any]], fmt: Formatter) -> list[HistoryRow]:
    """Each event with what it changed, before → after, replayed from the submission."""
    state: dict[str, Any] = {}
    rows = []
    for entry in history:
        data = entry.get("data") or {}
        if entry.get("event") == "Submitted":
            state = {
                "courthouse_code": data.get("courthouse_code"),
                "lat": data.get("lat"),
                "lon": data.get("lon"),
                "observed_at": data.get("observed_at"),
                **dict(data.get("details") or {}),
            }
        changes = []
        for name, after in _changed_fields(entry).items():
            before = state.get(name)
            state[name] = after
            if before == after:
                continue
            changes.append(Change(fmt.label(name), fmt.value(name, before), fmt.value(name, after)))
        timestamp = str(entry.get("timestamp", ""))
        rows.append(
            HistoryRow(
                version=int(entry.get("version", 0)),
                event=str(entry.get("event", "")),
                timestamp=timestamp,
                when=local_time(timestamp, fmt.zone),
                changes=changes,
                entry=entry,
            )
        )
    return rows
