"""The summaries' streamed downloads: the wide CSV and the GeoJSON of public reports.

One server serves each test's cases (starting one per case would cost more
than the cases). The GeoJSON test writes 5,000 reports through the real
application and live map projection, and reads them back streamed, in chunks.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
import tracemalloc
import uuid
from datetime import timedelta

import httpx

from courtwatch import demo
from courtwatch.infrastructure import event_log
from courtwatch.services import Services
from projections import runner
from projections.live_map.export import BATCH
from tests.projections.trends.conftest import NOW
from web.summaries import weekly

RANGE = {"from": "2026-10-01", "to": "2026-11-25"}


def projected(services: Services, reports: int, *specs: runner.ProjectionSpec) -> int:
    """Demo reports over 60 days, once the server's projections have processed them."""
    made = demo.generate(
        services.app, reports=reports, now=NOW, days=60, zone=services.settings.zone, seed=14
    )
    target = event_log.head(services.database)
    deadline = time.monotonic() + 120
    for spec in specs:
        while runner.position_of(services.database, spec) < target:
            assert time.monotonic() < deadline, f"{spec} did not catch up"
            time.sleep(0.05)
    return made.reports


def map_rows(count: int, year: int = 2026) -> list[tuple[object, ...]]:
    """``count`` rows as the live map projection writes them: every kind, some shifts
    still running (not public), members' names and a stray detail that must not leak."""
    rng = random.Random(14)
    kinds = ("courthouse_arrest", "sighting", "call_in", "watch_shift")
    rows = []
    for i in range(count):
        kind = kinds[i % 4]
        observed = NOW.replace(year=year) - timedelta(days=rng.uniform(0, 300))
        details: dict[str, object] = {"agency": "ice", "note": "free text never public"}
        if kind == "watch_shift" and i % 40 != 3:
            details["ended_at"] = (observed + timedelta(hours=2)).isoformat()
        rows.append((uuid.uuid4(), kind, "unverified", None, 0, f"C{i % 37}",
                     round(rng.uniform(25, 48), 5), round(rng.uniform(-124, -67), 5), observed,
                     observed, "Submitted", json.dumps(details), i + 1,
                     json.dumps(["Dana Member"])))  # fmt: skip
    return rows


def insert(services: Services, rows: list[tuple[object, ...]]) -> None:
    with services.database.connect() as conn:
        conn.cursor().executemany(
            "INSERT INTO map_reports (report_id, kind, status, verdict, corroborations, "
            "courthouse_code, lat, lon, observed_at, updated_at, last_event, details, position, "
            "claimed_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, "
            "%s::jsonb)",
            rows,
        )


async def test_every_public_report_of_a_range_streams_as_geojson(
    services: Services, client: httpx.AsyncClient
) -> None:
    rows = map_rows(5_000)
    insert(services, rows)
    running = {row[0] for row in rows if row[1] == "watch_shift" and "ended_at" not in str(row[11])}
    public = {str(row[0]): (row[7], row[6]) for row in rows if row[0] not in running}
    chunks = 0
    body = bytearray()
    params = {"from": "2026-01-01", "to": "2026-12-31"}
    async with client.stream("GET", "/summaries/reports.geojson", params=params) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/geo+json")
        # Streamed, not built whole: no length known up front, sent in pieces.
        assert answer.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in answer.headers
        async for chunk in answer.aiter_raw():
            chunks += 1
            body += chunk
    features = json.loads(body)["features"]
    assert len(running) > 100
    # Every public report once, at the coordinates the public map draws; nothing else.
    assert {f["properties"]["id"]: tuple(f["geometry"]["coordinates"]) for f in features} == public
    assert len(features) == len(public)
    assert chunks >= len(public) // BATCH
    for f in features:
        assert not {"claimed_by", "on_scene_by", "resolved_by"} & set(f["properties"])
        details = f["properties"]["details"]
        assert "note" not in details  # only fields a submission may carry
        assert set(details) <= set(weekly.PUBLIC_DETAILS[f["properties"]["kind"]])
    # Memory stays flat: the server (in this process) never holds the whole answer.
    # 15,000 more reports in 2025, read dropping each chunk: the peak of all
    # allocations stays far below the body's size (about 2.5 MB, mostly other
    # threads', for a 9 MB body of 20,000 reports); a server that held every
    # row before sending peaked at 55 MB for the same body.
    insert(services, map_rows(15_000, year=2025))
    tracemalloc.start()
    try:
        received = 0
        year = {"from": "2025-01-01", "to": "2025-12-31"}
        async with client.stream("GET", "/summaries/reports.geojson", params=year) as again:
            async for chunk in again.aiter_raw():
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received > 6_000_000
    assert peak < received / 2, (peak, received)
    # A narrower range is a subset; a range with nothing is an empty collection.
    narrow = (await client.get("/summaries/reports.geojson", params=RANGE)).json()
    assert 0 < len(narrow["features"]) < len(features)
    empty = await client.get(
        "/summaries/reports.geojson", params={"from": "2001-01-01", "to": "2001-01-02"}
    )
    assert empty.json() == {"type": "FeatureCollection", "features": []}


async def test_the_wide_csv_has_a_row_per_courthouse_and_week(
    services: Services, client: httpx.AsyncClient
) -> None:
    made = projected(services, 300, runner.TREND_SPEC, runner.LIVE_MAP_SPEC)
    # Through the real projection: the GeoJSON holds every report but running shifts.
    everything = {"from": "2026-01-01", "to": "2026-12-31"}
    features = (await client.get("/summaries/reports.geojson", params=everything)).json()
    on_map = (await client.get("/api/map/reports")).json()["reports"]
    assert {f["properties"]["id"] for f in features["features"]} == {r["id"] for r in on_map}
    assert made - 20 < len(on_map) <= made
    answer = await client.get("/summaries/weeks.csv", params=RANGE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    raw = answer.content
    assert raw.startswith(b"\xef\xbb\xbf")  # for Excel (docs/summaries.md)
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF throughout
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == list(weekly.CSV_COLUMNS)
    mondays = sorted({r["week_start"] for r in rows})
    assert len(mondays) == 9  # 2026-09-28 .. 2026-11-23, whole ISO weeks
    codes = {r["courthouse_code"] for r in rows}
    assert len(rows) == len(codes) * len(mondays)  # dense: one row per courthouse x week
    assert len({(r["courthouse_code"], r["week_start"]) for r in rows}) == len(rows)
    # The figures add up to the weekly summaries of the same weeks.
    week_json = (await client.get("/summaries/week/2026-W47.json")).json()
    w47 = [r for r in rows if r["week"] == "2026-W47"]
    assert (
        sum(int(r["courthouse_arrest"]) for r in w47)
        == (week_json["figures"]["totals"]["courthouse_arrest"]["n"])
    )
    assert (
        sum(int(r["watched_seconds"]) for r in w47) == week_json["figures"]["watched_seconds"]["n"]
    )
    one = await client.get(
        "/summaries/weeks.csv", params={**RANGE, "courthouse": rows[0]["courthouse_code"]}
    )
    assert len(list(csv.reader(io.StringIO(one.text.lstrip("\ufeff"))))) == len(mondays) + 1


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok", "Año"]
    names = {code: code for code in hostile}
    figures = dict.fromkeys(weekly.weeks.FIGURES, 0) | {"arrests_per_watched_hour": None}
    monday = weekly.weeks.Span.covering(NOW.date(), NOW.date()).first
    text = "".join(weekly.csv_lines(((c, monday, figures) for c in hostile), names))
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert len(rows) == len(hostile)
    for row in rows:
        for column in ("courthouse_code", "courthouse_name"):
            assert not row[column].startswith(weekly.FORMULA_STARTS), row
    assert [r["courthouse_code"] for r in rows][-2:] == ["ok", "Año"]
    assert rows[0]["courthouse_code"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["week_start"] == monday.isoformat() and rows[0]["arrests_per_watched_hour"] == ""
    # Many rows come in several chunks.
    many = weekly.csv_lines((("X", monday + timedelta(weeks=i), figures) for i in range(1200)), {})
    assert len(list(many)) == 3


async def test_hostile_ranges_are_refused_never_a_500(client: httpx.AsyncClient) -> None:
    hostile = [
        {},
        {"from": "2026-11-01"},
        {"to": "2026-11-01"},
        {"from": "2026-11-02", "to": "2026-11-01"},  # from after to
        {"from": "0001-01-01", "to": "2026-01-01"},
        {"from": "2026-01-01", "to": "9999-12-31"},
        {"from": "1999-12-31", "to": "2026-01-01"},
        {"from": "2026-02-30", "to": "2026-03-01"},
        {"from": "\N{FULLWIDTH DIGIT TWO}026-01-01", "to": "2026-01-02"},
        {"from": "2026-01-01\x00", "to": "2026-01-02"},
        {"from": "9" * 5000, "to": "2026-01-02"},
        {"from": "2026-1-1", "to": "2026-01-02"},
        {"from": "2026-01-01T00:00", "to": "2026-01-02"},
        {"from": "2026-01-01", "to": "2026-01-02", "courthouse": "a\r\nb"},
        {"from": "2026-01-01", "to": "2026-01-02", "courthouse": "x" * 25},
    ]
    answers = {
        (path, json.dumps(params)): (await client.get(path, params=params)).status_code
        for path in ("/summaries/weeks.csv", "/summaries/reports.geojson")
        for params in hostile
    }
    assert answers == dict.fromkeys(answers, 422)
    # The widest span inside the years: the GeoJSON has no cap, the CSV refuses over ten years.
    widest = {"from": "2000-01-01", "to": "2100-12-31"}
    assert (await client.get("/summaries/reports.geojson", params=widest)).status_code == 200
    assert (await client.get("/summaries/weeks.csv", params=widest)).status_code == 422
    ten_years = {"from": "2016-01-01", "to": "2025-12-31"}
    assert (await client.get("/summaries/weeks.csv", params=ten_years)).status_code == 200
    refused = await client.get(
        "/summaries/weeks.csv", params={"from": "2026-11-02", "to": "2026-11-01"}
    )
    assert refused.json()["fields"][0]["field"] == "to"
