"""A mapping file (TOML): which column of a program's spreadsheet is which report field.

Only the public fields of a report can be mapped, and each of them is a closed
vocabulary, a count, a courthouse code, a date or a time: no column of free
text can reach the public log through an import. Columns the mapping does not
name are never read past the header (docs/import.md).

    [kind]                      # which kind of report a row is
    column = "Type"
    values = { "Arrest" = "courthouse_arrest", "Seen" = "sighting" }
    # or: value = "watch_shift"  (every row is that kind)

    [fields.observed_at]        # a time: date column, optional time column
    column = "Date"
    format = "%m/%d/%Y"
    time_column = "Time"
    time_format = "%I:%M %p"

    [fields.agency]             # a vocabulary: cell text -> stored value
    column = "Agency"
    values = { "ICE" = "ice_ero", "HSI" = "hsi" }
    otherwise = "unknown"       # any other non-empty cell (without it: the row is rejected)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from courtwatch.intake import MODELS
from courtwatch.timezones import zone_named

# Every field some kind of report has, but "kind" (mapped on its own).
REPORT_FIELDS = frozenset(name for model in MODELS.values() for name in model.model_fields) - {
    "kind"
}
TIME_FIELDS = frozenset({"observed_at", "ended_at"})
DATE_FIELDS = frozenset({"letter_date", "police_contact_date"})
COUNT_FIELDS = frozenset({"agents_count", "vehicles_count"})
COORDINATE_FIELDS = frozenset({"lat", "lon"})
ENCODINGS_WITHOUT_ERRORS = ("utf-8", "utf-8-sig", "utf8")
HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class MappingError(ValueError):
    """The mapping file cannot be used: nothing was imported."""


def fold_cell(text: str) -> str:
    """How cells are compared with a mapping's values: case and spacing aside."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class FieldMap:
    name: str
    column: str | None = None
    value: str | None = None  # the same for every row
    values: dict[str, str] | None = None  # folded cell text -> stored value
    otherwise: str | None = None
    format: str | None = None  # strptime format of the (date) column
    time_column: str | None = None
    time_format: str | None = None
    default_time: str | None = None  # "HH:MM" when a spreadsheet kept dates only

    def columns(self) -> list[str]:
        return [c for c in (self.column, self.time_column) if c is not None]


@dataclass(frozen=True)
class ImportMapping:
    kind: FieldMap
    fields: dict[str, FieldMap]
    encoding: str = "utf-8"
    delimiter: str = ","
    timezone: str | None = None  # for times of rows whose place has no zone
    ignored: frozenset[str] = field(default_factory=frozenset)

    def mapped_columns(self) -> list[str]:
        seen: list[str] = []
        for item in (self.kind, *self.fields.values()):
            seen += [c for c in item.columns() if c not in seen]
        return seen


def _text(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise MappingError(f"{where}.{key}: a non-empty text")
    return value


def _field_map(name: str, table: Any) -> FieldMap:
    where = "kind" if name == "kind" else f"fields.{name}"
    if not isinstance(table, dict):
        raise MappingError(f'{where}: a table, e.g. column = "..."')
    allowed = {"column", "value", "values", "otherwise", "format", "time_column", "time_format",
               "default_time"}  # fmt: skip
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise MappingError(
            f"{where}: unknown key {unknown[0]!r} (one of {', '.join(sorted(allowed))})"
        )
    column, value = _text(table, "column", where), _text(table, "value", where)
    time_column = _text(table, "time_column", where)
    if value is not None and (column or time_column):
        raise MappingError(f"{where}: either a column or a fixed value, not both")
    if value is None and column is None and not (name == "ended_at" and time_column):
        raise MappingError(f"{where}: needs a column (or a fixed value)")
    values = table.get("values")
    if values is not None:
        if not isinstance(values, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            raise MappingError(f"{where}.values: a table of text = text")
        values = {fold_cell(k): v for k, v in values.items()}
    if (time_column or table.get("default_time")) and name not in TIME_FIELDS:
        raise MappingError(
            f"{where}: time_column and default_time are for observed_at and ended_at"
        )
    default_time = _text(table, "default_time", where)
    if default_time is not None and not HH_MM.fullmatch(default_time):
        raise MappingError(f'{where}.default_time: HH:MM, e.g. "12:00"')
    return FieldMap(
        name=name, column=column, value=value, values=values,
        otherwise=_text(table, "otherwise", where), format=_text(table, "format", where),
        time_column=time_column, time_format=_text(table, "time_format", where),
        default_time=default_time,
    )  # fmt: skip


def parse_mapping(text: str) -> ImportMapping:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"not valid TOML: {error}") from None
    unknown = sorted(set(document) - {"source", "kind", "fields", "ignore"})
    if unknown:
        raise MappingError(f"unknown section [{unknown[0]}] (source, kind, fields, ignore)")
    source = document.get("source", {})
    if not isinstance(source, dict) or set(source) - {"encoding", "delimiter", "timezone"}:
        raise MappingError("[source] takes encoding, delimiter and timezone")
    encoding = _text(source, "encoding", "source") or "utf-8"
    try:
        "".encode(encoding)
    except LookupError:
        raise MappingError(f"source.encoding: unknown encoding {encoding!r}") from None
    delimiter = _text(source, "delimiter", "source") or ","
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise MappingError('source.delimiter: one character, e.g. "," or ";"')
    timezone = _text(source, "timezone", "source")
    if timezone is not None and zone_named(timezone) is None:
        raise MappingError(f"source.timezone: unknown time zone {timezone!r}")
    if "kind" not in document:
        raise MappingError("[kind] is required: a column or a fixed value")
    fields = document.get("fields", {})
    if not isinstance(fields, dict):
        raise MappingError("[fields] is a table of report fields")
    strangers = sorted(set(fields) - REPORT_FIELDS)
    if strangers:
        raise MappingError(
            f"fields.{strangers[0]}: not a public field of any report "
            f"(one of {', '.join(sorted(REPORT_FIELDS))}); free text is never imported"
        )
    if "observed_at" not in fields:
        raise MappingError("fields.observed_at is required: when it happened")
    ignore = document.get("ignore", {})
    columns = ignore.get("columns", []) if isinstance(ignore, dict) else None
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise MappingError('[ignore] columns = ["..."]')
    mapping = ImportMapping(
        kind=_field_map("kind", document["kind"]),
        fields={name: _field_map(name, table) for name, table in fields.items()},
        encoding=encoding,
        delimiter=delimiter,
        timezone=timezone,
        ignored=frozenset(columns),
    )
    both = sorted(set(mapping.mapped_columns()) & mapping.ignored)
    if both:
        raise MappingError(f"column {both[0]!r} is both mapped and ignored")
    return mapping


def load_mapping(path: Path) -> ImportMapping:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(f"cannot read {path}: {error}") from None
    return parse_mapping(text)
