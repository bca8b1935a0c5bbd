"""Server-side clusters of the public map (issue 16): every report counted, once, cheaply.

20,000 reports go straight into the live map's table (COPY, as bench/first_paint.py
does): what the projection would write, without 20,000 submissions.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from courtwatch.infrastructure.database import Database
from projections.live_map.clusters import clusters
from projections.live_map.projection import DDL
from projections.live_map.reader import LiveMapReader, MapFilter
from tests.conftest import ServerThread
from tests.web.live.test_routes import sighting, submit
from web.live.clusters import CELLS_ACROSS, MARKERS_MAX, cell_degrees

NATIONAL = "-125,24,-66,50"
KINDS = ("courthouse_arrest", "sighting", "call_in", "watch_shift")
STATUSES = ("unverified", "corroborated", "verified", "disputed", "amended_after_verdict")
COLUMNS = [
    "report_id", "kind", "status", "verdict", "corroborations", "courthouse_code", "lat", "lon",
    "observed_at", "updated_at", "last_event", "details", "position",
]  # fmt: skip
NOW = datetime.now(UTC)


def generated(count: int, seed: int = 16) -> list[dict[str, Any]]:
    """Reports spread over the country and beyond, at many places and a few shared ones."""
    rng = random.Random(seed)
    shared = [(40.7128, -74.006), (34.05, -118.24), (29.76, -95.37), (41.88, -87.63)]
    reports = []
    for i in range(count):
        kind = rng.choice(KINDS)
        if i % 3 == 0:
            lat, lon = rng.choice(shared)
        else:  # a tenth of these fall outside the national box
            lat, lon = rng.uniform(20, 52), rng.uniform(-130, -62)
        details: dict[str, Any] = {"agents_count": 2}
        if kind == "watch_shift":  # a running shift is never public
            details["ended_at"] = None if i % 2 else NOW.isoformat()
        reports.append(
            {
                "report_id": uuid.UUID(int=rng.getrandbits(128)),
                "kind": kind,
                "status": rng.choice(STATUSES),
                "verdict": None,
                "corroborations": 0,
                "courthouse_code": None,
                "lat": None if i % 97 == 0 else lat,
                "lon": None if i % 97 == 0 else lon,
                "observed_at": NOW - timedelta(hours=i % 500),
                "updated_at": NOW - timedelta(hours=i % 500),
                "last_event": "Submitted",
                "details": json.dumps(details),
                "position": i + 1,
            }
        )
    return reports


def expected(
    reports: list[dict[str, Any]], kinds: tuple[str, ...], since: datetime | None
) -> list[dict[str, Any]]:
    """The reports a national view with these filters must count, by plain Python."""
    west, south, east, north = (float(v) for v in NATIONAL.split(","))
    return [
        r
        for r in reports
        if r["lat"] is not None
        and south <= r["lat"] <= north
        and west <= r["lon"] <= east
        and r["kind"] in kinds
        and (since is None or r["updated_at"] >= since)
        and not (r["kind"] == "watch_shift" and json.loads(r["details"])["ended_at"] is None)
    ]


async def fill(database: Database, reports: list[dict[str, Any]]) -> None:
    conn = await asyncpg.connect(
        host=database.host,
        port=database.port,
        user=database.user,
        password=database.password or None,
        database=database.dbname,
    )
    try:
        for statement in DDL:
            await conn.execute(statement)
        await conn.copy_records_to_table(
            "map_reports", records=[tuple(r[c] for c in COLUMNS) for r in reports], columns=COLUMNS
        )
    finally:
        await conn.close()


@pytest.fixture
async def twenty_thousand(database: Database, live_server: ServerThread) -> list[dict[str, Any]]:
    reports = generated(20_000)
    await fill(database, reports)
    return reports


async def test_cluster_counts_add_up_to_every_matching_report(
    twenty_thousand: list[dict[str, Any]], client: httpx.AsyncClient
) -> None:
    since = NOW - timedelta(hours=200)
    cases = [(KINDS, None), (("courthouse_arrest", "sighting"), since)]
    for kinds, when in cases:
        params = {"bbox": NATIONAL, "zoom": "4", "kinds": ",".join(kinds)}
        if when is not None:
            params["since"] = when.isoformat()
        response = await client.get("/api/map/reports", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        want = expected(twenty_thousand, kinds, when)
        assert len(want) > MARKERS_MAX  # the case under test: too many for markers
        assert body["reports"] == [] and body["total"] == len(want)
        assert sum(c["count"] for c in body["clusters"]) == len(want)
        by_kind: Counter[str] = Counter()
        by_status: Counter[str] = Counter()
        for c in body["clusters"]:
            by_kind.update(c["kinds"])
            by_status.update(c["statuses"])
            assert c["south"] <= c["lat"] <= c["north"] and c["west"] <= c["lon"] <= c["east"]
        assert by_kind == Counter(r["kind"] for r in want)
        assert by_status == Counter(r["status"] for r in want)
        arrests = [
            r for r in want if r["kind"] == "courthouse_arrest" and r["status"] != "disputed"
        ]
        assert sum(c["arrests"] for c in body["clusters"]) == len(arrests)
        # The budget of a first paint on a phone: well under 100 KB gzipped.
        assert len(gzip.compress(response.content)) < 100_000

    # A small view still gets markers, and without zoom nothing changes.
    # A box around one generated place that is not a shared one: few reports.
    lone = next(r for r in twenty_thousand[1:] if r["lat"] is not None and r["position"] % 3)
    box = f"{lone['lon'] - 0.01},{lone['lat'] - 0.01},{lone['lon'] + 0.01},{lone['lat'] + 0.01}"
    small = (await client.get("/api/map/reports", params={"bbox": box, "zoom": "14"})).json()
    assert "clusters" not in small and str(lone["report_id"]) in [r["id"] for r in small["reports"]]
    legacy = (await client.get("/api/map/reports", params={"bbox": NATIONAL})).json()
    assert "clusters" not in legacy and legacy["truncated"] is True


async def test_clusters_are_one_query_and_bounded_for_a_hostile_zoom(
    twenty_thousand: list[dict[str, Any]], database: Database
) -> None:
    reader = LiveMapReader(database)
    await reader.open()
    statements: list[str] = []
    try:
        original = reader.acquire

        class Counting:
            def __init__(self) -> None:
                self.inner = original()

            async def __aenter__(self) -> Any:
                conn = await self.inner.__aenter__()
                conn.add_query_logger(lambda record: statements.append(record.query))
                return conn

            async def __aexit__(self, *exc: Any) -> Any:
                return await self.inner.__aexit__(*exc)

        reader.acquire = Counting  # type: ignore[method-assign]
        # zoom 18 over the whole world would be billions of cells: the grid is
        # coarsened to at most CELLS_ACROSS per side.
        cell = cell_degrees(18, (-1e308, -90.0, 1e308, 90.0))
        _, found = await clusters(reader, MapFilter(bbox=(-1e308, -90.0, 1e308, 90.0)), cell)
        # The pool's own reset on release is not the reader's.
        ours = [q for q in statements if not q.startswith("SELECT pg_advisory_unlock_all")]
        assert len(ours) == 1 and "GROUP BY" in ours[0]
        assert len(found) <= (CELLS_ACROSS + 1) ** 2
        assert sum(c.count for c in found) == len(
            [
                r
                for r in twenty_thousand
                if r["lat"] is not None
                and not (
                    r["kind"] == "watch_shift" and json.loads(r["details"])["ended_at"] is None
                )
            ]
        )
    finally:
        await reader.close()


HOSTILE = [
    {"bbox": "nan,24,-66,50", "zoom": "4"},
    {"bbox": "-125,24,inf,50", "zoom": "4"},
    {"bbox": "-125,-1e400,-66,50", "zoom": "4"},
    {"bbox": "-125,24\x00,-66,50", "zoom": "4"},
    {"bbox": NATIONAL, "zoom": "-1"},
    {"bbox": NATIONAL, "zoom": "99"},
    {"bbox": NATIONAL, "zoom": "4\x00"},
    {"bbox": NATIONAL, "zoom": "\u0663"},
    {"bbox": NATIONAL, "zoom": "9" * 5000},
    {"bbox": NATIONAL, "zoom": "4.5"},
]


async def test_a_huge_box_at_the_deepest_zoom_is_answered_and_hostile_views_refused(
    twenty_thousand: list[dict[str, Any]], client: httpx.AsyncClient
) -> None:
    response = await client.get(
        "/api/map/reports", params={"bbox": "-1e308,-90,1e308,90", "zoom": "18"}
    )
    assert response.status_code == 200
    assert len(response.json()["clusters"]) <= (CELLS_ACROSS + 1) ** 2
    for params in HOSTILE:  # refused with a 4xx naming the field, never a 5xx
        refused = await client.get("/api/map/reports", params=params)
        assert refused.status_code == 422, (params, refused.text)


async def test_a_phone_on_the_national_view_sees_every_report_as_clusters(
    database: Database, live_server: ServerThread, client: httpx.AsyncClient, browser: Any
) -> None:
    reports = generated(3000, seed=7)
    for i, r in enumerate(reports):  # all inside the page's default 24-hour window
        r["updated_at"] = r["observed_at"] = NOW - timedelta(minutes=i % 600)
    await fill(database, reports)
    shown = len(
        [
            r
            for r in reports
            if r["lat"] is not None
            and not (r["kind"] == "watch_shift" and json.loads(r["details"])["ended_at"] is None)
        ]
    )
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(live_server.url + "/map")

    async def total() -> int:
        return int(
            await page.evaluate("window.courtwatchMap ? window.courtwatchMap.clusteredTotal() : 0")
        )

    await wait_until_async(lambda: total(), shown)

    async def settled() -> int:  # the fit to the data has moved the map and reloaded
        return int(not await page.evaluate("window.courtwatchMap.loading()"))

    await wait_until_async(settled, 1)
    await wait_until_async(lambda: total(), shown)
    assert await page.evaluate("window.courtwatchMap.clusterCount()") > 0
    assert await page.locator(".cw-server-cluster").count() > 0

    # A new report while the clusters are up: counted after one re-fetch (3-10 s),
    # which the delta alone asks for (the map is not moving).
    await submit(client, sighting(courthouse_code="NYC"))
    await wait_until_async(lambda: total(), shown + 1, timeout=15.0)

    config = "JSON.parse(document.getElementById('courtwatch-config').textContent)"
    zoom = f"window[{config}.mapVar].getZoom()"
    before = await page.evaluate(zoom)
    await page.locator(".cw-server-cluster").first.click()
    for _ in range(200):
        if await page.evaluate(zoom) > before:
            break
        await asyncio.sleep(0.025)
    assert await page.evaluate(zoom) > before
    await page.close()


async def wait_until_async(read: Any, want: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    got = await read()
    while got != want and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
        got = await read()
    assert got == want


def test_the_largest_possible_answer_fits_the_budget() -> None:
    """The most clusters a view can get (a box not aligned to the grid spans one cell more), each with every kind and status and long numbers."""
    from starlette.responses import JSONResponse

    from projections.live_map.clusters import KINDS as ALL_KINDS
    from projections.live_map.clusters import STATUSES as ALL_STATUSES
    from projections.live_map.clusters import Cluster
    from web.live.clusters import cluster_json

    rng = random.Random(1)

    def place() -> float:
        return rng.uniform(-180, 180)

    worst = [
        cluster_json(
            Cluster(
                count=rng.randint(10**5, 10**6),
                lat=place(),
                lon=place(),
                south=place(),
                west=place(),
                north=place(),
                east=place(),
                kinds={k: rng.randint(10**4, 10**5) for k in ALL_KINDS},
                statuses={s: rng.randint(10**4, 10**5) for s in ALL_STATUSES},
                arrests=rng.randint(10**4, 10**5),
            )
        )
        for _ in range((CELLS_ACROSS + 1) ** 2)
    ]
    body = {"position": 2**40, "reports": [], "truncated": False, "clusters": worst}
    wire = JSONResponse({**body, "total": 10**9, "cell": 1 / 3}).body
    assert len(gzip.compress(wire)) < 100_000
