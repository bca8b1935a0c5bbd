"""One spreadsheet row -> the payload a submission would send (or why not).

The payload then goes through the same intake and the same domain checks as a
report sent from a phone (Courtwatch.prepare_import_events); this module only reads
cells: vocabularies through the mapping's values, counts as ASCII digits,
dates and times with the mapping's formats. A time typed without a zone is a
wall-clock time at its courthouse (courtwatch/timezones.py), the same rule as
the report form.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from courtwatch.importing.mapping import (
    COORDINATE_FIELDS,
    COUNT_FIELDS,
    DATE_FIELDS,
    TIME_FIELDS,
    FieldMap,
    ImportMapping,
    fold_cell,
)
from courtwatch.intake import MODELS
from courtwatch.timezones import localize, zone_name_at, zone_named

ASCII_COUNT = re.compile(r"^[0-9]{1,3}$")
DECIMAL = re.compile(r"^-?[0-9]{1,3}(\.[0-9]{1,12})?$")


class RowRejected(ValueError):
    """This row cannot become a report; the reason names the column."""


def _cell(fmap: FieldMap, cells: dict[str, str], column: str | None) -> str:
    return cells.get(column, "").strip() if column else ""


def _translated(fmap: FieldMap, raw: str, where: str) -> str:
    if fmap.values is None:
        return raw
    found = fmap.values.get(fold_cell(raw))
    if found is not None:
        return found
    if fmap.otherwise is not None:
        return fmap.otherwise
    raise RowRejected(f"{where}: this value is not in the mapping's values")


# Spreadsheets repeat dates and times row after row, and strptime is slow.
@functools.lru_cache(maxsize=8192)
def _parse_date(raw: str, fmt: str | None, where: str) -> date:
    try:
        if fmt is None:
            return date.fromisoformat(raw)
        return datetime.strptime(raw, fmt).date()
    except ValueError:
        # Also 29 February of a year that had none, 31 April, month 13.
        raise RowRejected(
            f"{where}: not a date" + (f" as {fmt}" if fmt else " (YYYY-MM-DD)")
        ) from None


@functools.lru_cache(maxsize=8192)
def _parse_clock(raw: str, fmt: str | None, where: str) -> time:
    try:
        if fmt is None:
            return time.fromisoformat(raw)
        return datetime.strptime(raw, fmt).time()
    except ValueError:
        raise RowRejected(f"{where}: not a time of day" + (f" as {fmt}" if fmt else "")) from None


class RowReader:
    """Turns rows into payloads for one mapping; ``zone_of`` finds a courthouse's zone."""

    def __init__(
        self, mapping: ImportMapping, zone_of: Callable[[str], str | None], default_zone: ZoneInfo
    ) -> None:
        self.mapping = mapping
        self._zone_of = zone_of
        self._default_zone = zone_named(mapping.timezone) or default_zone
        # The fields read as plain cells, once for every row.
        self._plain = [(n, f) for n, f in mapping.fields.items() if n not in TIME_FIELDS]

    def payload(self, cells: dict[str, str]) -> dict[str, Any]:
        kind = self._kind(cells)
        allowed = MODELS[kind].model_fields
        payload: dict[str, Any] = {"kind": kind}
        for name, fmap in self._plain:
            value = self._plain_value(fmap, cells)
            # A column for another kind's field (agents for a call-in) is left out.
            if value is not None and name in allowed:
                payload[name] = value
        zone = self._zone(payload)
        start = self._time(self.mapping.fields["observed_at"], cells, zone, None)
        if start is None:
            raise RowRejected("observed_at: empty")
        payload["observed_at"] = start
        end_map = self.mapping.fields.get("ended_at")
        if end_map is not None and "ended_at" in allowed:
            end = self._time(end_map, cells, zone, start)
            if end is not None:
                payload["ended_at"] = end
        return payload

    def _kind(self, cells: dict[str, str]) -> str:
        fmap = self.mapping.kind
        raw = fmap.value or _cell(fmap, cells, fmap.column)
        if not raw:
            raise RowRejected(f"{fmap.column}: empty, no kind of report")
        kind = _translated(fmap, raw, fmap.column or "kind")
        if kind not in MODELS:
            raise RowRejected(
                f"{fmap.column or 'kind'}: not a kind of report ({', '.join(MODELS)})"
            )
        return kind

    def _plain_value(self, fmap: FieldMap, cells: dict[str, str]) -> Any:
        where = fmap.column or fmap.name
        raw = fmap.value or _cell(fmap, cells, fmap.column)
        if not raw:
            return None  # an empty cell: the field's default ("unknown")
        if fmap.name in COUNT_FIELDS:
            if not ASCII_COUNT.fullmatch(raw):
                raise RowRejected(f"{where}: a whole number of 0-999")
            return int(raw)
        if fmap.name in COORDINATE_FIELDS:
            if not DECIMAL.fullmatch(raw):
                raise RowRejected(f"{where}: a decimal number")
            return float(raw)
        if fmap.name in DATE_FIELDS:
            return _parse_date(raw, fmap.format, where).isoformat()
        return _translated(fmap, raw, where)

    def _zone(self, payload: dict[str, Any]) -> ZoneInfo:
        name = None
        code = payload.get("courthouse_code")
        if isinstance(code, str):
            name = self._zone_of(code)
        elif isinstance(payload.get("lat"), float) and isinstance(payload.get("lon"), float):
            name = zone_name_at(payload["lat"], payload["lon"])
        return zone_named(name) or self._default_zone

    def _time(
        self, fmap: FieldMap, cells: dict[str, str], zone: ZoneInfo, after: datetime | None
    ) -> datetime | None:
        where = fmap.column or fmap.time_column or fmap.name
        raw_date = fmap.value or _cell(fmap, cells, fmap.column)
        raw_clock = _cell(fmap, cells, fmap.time_column)
        if not raw_date and not raw_clock:
            return None
        if not raw_date:
            if after is None:
                raise RowRejected(f"{where}: a time without a date")
            day = after.date()  # an end time on its own: the shift's own day
        elif fmap.time_column is None and fmap.default_time is None:
            return self._one_cell_time(raw_date, fmap.format, zone, where)
        else:
            day = _parse_date(raw_date, fmap.format, where)
        if raw_clock:
            clock = _parse_clock(raw_clock, fmap.time_format, fmap.time_column or where)
        elif fmap.default_time is not None:
            clock = time.fromisoformat(fmap.default_time)
        else:
            raise RowRejected(f"{fmap.time_column}: empty, no time of day")
        when = localize(datetime.combine(day, clock), zone)
        if after is not None and not raw_date and when <= after:
            # An end time earlier than the start: the shift ran past midnight.
            when = localize(datetime.combine(day + timedelta(days=1), clock), zone)
        return when

    def _one_cell_time(self, raw: str, fmt: str | None, zone: ZoneInfo, where: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(raw) if fmt is None else datetime.strptime(raw, fmt)
        except ValueError:
            raise RowRejected(
                f"{where}: not a date and time" + (f" as {fmt}" if fmt else " (ISO 8601)")
            ) from None
        if fmt is None and len(raw) <= 10:
            raise RowRejected(f"{where}: a date without a time of day (set default_time)")
        if parsed.tzinfo is not None:
            return parsed  # the cell says its own offset: kept as written
        return localize(parsed, zone)
