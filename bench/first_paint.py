"""First paint of the live map with 100,000 historical reports, next to the raw query.

Run: .venv/bin/python bench/first_paint.py [--reports 100000]

Fills the live-map view directly (COPY) with reports spread over the real
courthouses, then times GET /api/map/reports for a national view and a city
view, through `courtwatch serve`, next to the same SQL sent straight to
PostgreSQL with asyncpg: once as markers without `zoom` (capped at 5,000, the
newest), and once with the page's `zoom`, where a view of more than 1,000
reports is answered with server-side clusters that count every report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx

from bench._common import describe, fresh_database, product_process
from courtwatch.gazetteer import immigration_courts
from projections.live_map.clusters import cluster_statement
from projections.live_map.projection import DDL
from projections.live_map.reader import MapFilter
from web.live.clusters import cell_degrees

VIEWS = {"national": "-125,24,-66,50", "new york city": "-74.3,40.5,-73.7,40.95"}
# The zoom the page is at for each view (a phone or laptop showing that box).
ZOOMS = {"national": 4, "new york city": 11}


async def fill(connect: dict, count: int) -> None:
    conn = await asyncpg.connect(**connect)
    for statement in DDL:
        await conn.execute(statement)
    courts = immigration_courts()
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        court = random.choice(courts)
        when = now - timedelta(minutes=random.randint(0, 60 * 24 * 365 * 2))
        kind = random.choice(["courthouse_arrest", "sighting", "call_in", "watch_shift"])
        rows.append(
            (
                uuid.uuid4(),
                kind,
                "unverified",
                None,
                0,
                court.code,
                court.lat,
                court.lon,
                when,
                when,
                "Submitted",
                json.dumps({"agents_count": 2}),
                i + 1,
            )
        )
    await conn.copy_records_to_table(
        "map_reports",
        records=rows,
        columns=[
            "report_id",
            "kind",
            "status",
            "verdict",
            "corroborations",
            "courthouse_code",
            "lat",
            "lon",
            "observed_at",
            "updated_at",
            "last_event",
            "details",
            "position",
        ],
    )
    await conn.execute("ANALYZE map_reports")
    await conn.close()


async def raw(connect: dict, bbox: str, rounds: int) -> list[float]:
    west, south, east, north = (float(x) for x in bbox.split(","))
    conn = await asyncpg.connect(**connect)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await conn.fetch(
            "SELECT * FROM map_reports WHERE lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4 "
            "ORDER BY updated_at DESC LIMIT 5001",
            south,
            north,
            west,
            east,
        )
        timings.append((time.perf_counter() - started) * 1000)
    await conn.close()
    return timings


async def raw_clusters(connect: dict, bbox: str, zoom: int, rounds: int) -> list[float]:
    """The clusters' one statement, as the server sends it, straight to PostgreSQL."""
    box = tuple(float(x) for x in bbox.split(","))
    assert len(box) == 4
    where = MapFilter(bbox=(box[0], box[1], box[2], box[3]))
    sql, args = cluster_statement(where, cell_degrees(zoom, where.bbox))
    conn = await asyncpg.connect(**connect)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        await conn.fetch(sql, *args)
        timings.append((time.perf_counter() - started) * 1000)
    await conn.close()
    return timings


def p99_ratio(product: list[float], floor: list[float]) -> str:
    from bench._common import percentile

    return f"{percentile(product, 99) / percentile(floor, 99):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    db = fresh_database("bench_paint")
    connect = dict(host=db.host, port=db.port, user=db.user, database=db.dbname)
    asyncio.run(fill(connect, args.reports))
    with product_process(db, projections=False) as url:
        for name, bbox in VIEWS.items():
            timings, size, count = [], 0, 0
            with httpx.Client(base_url=url) as client:
                for _ in range(args.rounds):
                    started = time.perf_counter()
                    response = client.get("/api/map/reports", params={"bbox": bbox})
                    timings.append((time.perf_counter() - started) * 1000)
                    size = int(response.headers.get("content-length", len(response.content)))
                    count = len(response.json()["reports"])
            floor = asyncio.run(raw(connect, bbox, args.rounds))
            print(
                f"{name:14s}: {count:5d} markers, {size / 1024:6.0f} KiB on the wire | HTTP {describe(timings)} | "
                f"raw SQL {describe(floor)}"
            )
            zoom = ZOOMS[name]
            timings, size, body = [], 0, {}
            with httpx.Client(base_url=url) as client:
                for _ in range(args.rounds):
                    started = time.perf_counter()
                    response = client.get(
                        "/api/map/reports", params={"bbox": bbox, "zoom": str(zoom)}
                    )
                    timings.append((time.perf_counter() - started) * 1000)
                    size = int(response.headers.get("content-length", len(response.content)))
                    encoding = response.headers.get("content-encoding", "identity")
                    body = response.json()
            floor = asyncio.run(raw_clusters(connect, bbox, zoom, args.rounds))
            shown = len(body.get("clusters", body["reports"]))
            represented = body.get("total", len(body["reports"]))
            print(
                f"{name:14s} zoom {zoom:2d}: {shown:5d} clusters for {represented} reports, "
                f"{size / 1024:6.1f} KiB on the wire ({encoding}) | HTTP {describe(timings)} | "
                f"raw SQL {describe(floor)} | p99 ratio {p99_ratio(timings, floor)}"
            )


if __name__ == "__main__":
    main()
