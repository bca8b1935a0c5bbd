"""Trends over weeks and the two streamed downloads of the summaries.

- ``trend(...)``: the last 12 weeks of a courthouse (or of all of them) for
  the summary page: two charts and the table they are drawn from.
- ``GET /summaries/weeks.csv?from=&to=``: the wide CSV, one row per
  courthouse and ISO week, one column per figure, for a spreadsheet.
- ``GET /summaries/reports.geojson?from=&to=``: every public report observed
  in the range, as the public map shows it, streamed in batches with no cap.

Both take dates as ``YYYY-MM-DD`` (ASCII digits, years 2000-2100, ``from`` no
later than ``to``, both days included) and answer 422 naming the field
otherwise. docs/summaries.md says what every column means.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from courtwatch.intake import MODELS, ValidationFailed
from courtwatch.services import Services
from projections.live_map.export import public_reports_between
from projections.trends import periods, weeks
from web import query
from web.live import protocol
from web.summaries import plain_words, svg_charts

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# Rows of CSV per chunk sent: small enough to start at once, big enough to be cheap.
CSV_CHUNK = 500
# What the public may read of a report's details: the fields a submission may
# carry (all closed vocabularies, counts and dates; no free text), never the
# place fields, which the feature's geometry already gives as the map shows it.
_PLACE_FIELDS = {"kind", "courthouse_code", "lat", "lon", "observed_at"}
PUBLIC_DETAILS = {
    kind: tuple(name for name in model.model_fields if name not in _PLACE_FIELDS)
    for kind, model in MODELS.items()
}
# The MapReport fields a feature carries (title and stale_at are the page's own).
FEATURE_FIELDS = ("id", "kind", "status", "courthouse_code", "courthouse_name", "observed_at",
                  "updated_at", "last_event", "corroborations", "url")  # fmt: skip
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


# ---------- the 12 weeks on the page ----------


def trend(
    services: Services, period: periods.Period, courthouse: str | None, t: Any
) -> dict[str, Any]:
    """The last 12 weeks up to the period's end: points, charts and table rows."""
    span = weeks.Span.last_weeks(period)
    by_courthouse = weeks.weekly(services.database, span, courthouse)
    rows = weeks.combined(by_courthouse, span)
    return {
        "rows": [
            {"monday": monday, "label": plain_words.day_label(monday, t),
             "rate": plain_words.short_rate(cell[weeks.ARREST], cell["watched_seconds"], t),
             **cell}
            for monday, cell in rows
        ],
        "arrests": chart(t("summary.weeks.arrests"),
                         [(m, c[weeks.ARREST]) for m, c in rows], t, colour="#a4000f"),
        "watched": chart(t("summary.weeks.watched"),
                         [(m, c["watched_hours"]) for m, c in rows], t, colour="#0b5cad"),
        "first": span.first,
        "last": span.end - timedelta(days=1),
    }  # fmt: skip


def chart(title: str, points: list[tuple[date, float]], t: Any, *, colour: str) -> Markup:
    """A 12-week chart with its values said in words (reusable for a jurisdiction's page)."""

    def short(day: date) -> str:
        return plain_words.day_label(day, t).rsplit(" ", 1)[0]  # "16 Nov": the year is in the table

    values = ", ".join(f"{plain_words.day_label(m, t)} {v:g}" for m, v in points)
    description = t("summary.weeks.describe").format(
        title=title,
        first=plain_words.day_label(points[0][0], t) if points else "",
        last=plain_words.day_label(points[-1][0], t) if points else "",
        values=values,
    )
    return svg_charts.weekly(points, title=title, description=description, label=short,
                             colour=colour)  # fmt: skip


# ---------- date ranges ----------


def day_param(name: str, raw: str | None) -> date:
    """A required ``YYYY-MM-DD`` in the years summaries cover."""
    reason = f"a date written YYYY-MM-DD, in the years {periods.FIRST_YEAR}-{periods.LAST_YEAR}"
    if raw is None or not _DAY.fullmatch(raw):
        raise ValidationFailed.single(name, reason)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.single(name, reason) from None
    if not periods.FIRST_YEAR <= day.year <= periods.LAST_YEAR:
        raise ValidationFailed.single(name, reason)
    return day


def date_range(request: Request) -> tuple[date, date]:
    params = request.query_params
    first, last = day_param("from", params.get("from")), day_param("to", params.get("to"))
    if first > last:
        raise ValidationFailed.single("to", "on or after from")
    return first, last


# ---------- the wide CSV ----------


def neutralised(value: Any) -> Any:
    """A text cell a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


CSV_COLUMNS = ("courthouse_code", "courthouse_name", "week_start", "week", *weeks.FIGURES)


def csv_lines(
    rows: Iterable[tuple[str, date, dict[str, Any]]], names: dict[str, str]
) -> Iterator[str]:
    """The wide CSV, a chunk of lines at a time: BOM, CRLF, ISO dates, neutralised text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # Excel reads a UTF-8 file without a byte-order mark as the local code page,
    # which garbles every accented courthouse name; with it, Excel, LibreOffice,
    # Google Sheets and Python's utf-8-sig all read the file right.
    out.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for i, (code, monday, cell) in enumerate(rows, start=1):
        year, week, _ = monday.isocalendar()
        writer.writerow(
            [neutralised(code), neutralised(names.get(code, "")), monday.isoformat(),
             f"{year}-W{week:02d}", *("" if cell[f] is None else cell[f] for f in weeks.FIGURES)]
        )  # fmt: skip
        if i % CSV_CHUNK == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


async def weeks_csv(request: Request) -> Response:
    first, last = date_range(request)
    courthouse = query.courthouse_code("courthouse", request.query_params.get("courthouse"))
    span = weeks.Span.covering(first, last)
    if len(span.mondays) > weeks.MOST_WEEKS:
        raise ValidationFailed.single("to", f"at most {weeks.MOST_WEEKS} weeks after from")
    services = _services(request)
    by_courthouse = await run_in_threadpool(weeks.weekly, services.database, span, courthouse)
    names = {c.code: c.name for c in await run_in_threadpool(services.app.courthouses)}
    name = f"courtwatch-weeks-{span.first.isoformat()}-{(span.end - timedelta(days=1)).isoformat()}"
    return StreamingResponse(
        csv_lines(weeks.wide_rows(by_courthouse), names),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.csv"'},
    )


# ---------- GeoJSON of public reports ----------


def feature(report: protocol.MapReport, details: Any) -> dict[str, Any]:
    """One report as a GeoJSON feature: where the public map draws it, and its public fields."""
    shown = details if isinstance(details, dict) else {}
    properties: dict[str, Any] = {name: report[name] for name in FEATURE_FIELDS}  # type: ignore[literal-required]
    properties["details"] = {
        name: shown[name] for name in PUBLIC_DETAILS.get(report["kind"], ()) if name in shown
    }
    lat, lon = report["lat"], report["lon"]
    geometry = None if lat is None or lon is None else {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


async def reports_geojson(request: Request) -> Response:
    first, last = date_range(request)
    courthouse = query.courthouse_code("courthouse", request.query_params.get("courthouse"))
    services = _services(request)
    zone = ZoneInfo(services.settings.timezone)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    live = request.app.state.live
    batches = public_reports_between(live.reader, start, end, courthouse)
    # The first batch is read before answering, so a database that is down is
    # a 503 from the error table, not a cut-off 200.
    try:
        opening = await anext(batches)
    except StopAsyncIteration:
        opening = []

    async def body() -> AsyncIterator[str]:
        try:
            yield '{"type":"FeatureCollection","features":['
            separator = ""
            batch = opening
            while batch:
                chunk = ",".join(
                    json.dumps(feature(live.encode(row), row["details"]), ensure_ascii=False,
                               separators=(",", ":"))
                    for row in batch
                )  # fmt: skip
                yield separator + chunk
                separator = ","
                batch = await anext(batches, [])
            yield "]}"
        finally:
            await batches.aclose()  # the connection goes back to the pool, client gone or not

    name = f"courtwatch-reports-{first.isoformat()}-{last.isoformat()}"
    return StreamingResponse(
        body(),
        media_type="application/geo+json",
        headers={"content-disposition": f'attachment; filename="{name}.geojson"'},
    )
