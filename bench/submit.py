"""Sustained report submissions per second through HTTP, next to PostgreSQL's floor.

Run: .venv/bin/python bench/submit.py [--clients 8] [--seconds 10]

It also prints the load average and the CPU this process (the load
generator) used while sending, as a share of one core: a figure is only the
product's when the generator was not the bottleneck.

The product runs as `courtwatch serve` in its own process (projections
included, as users run it); N clients each POST reports back to back. In the
same run, N asyncpg connections insert one row per transaction into a plain
table on the same server: the floor no event-sourced write can beat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx

from bench._common import closed_loop, describe, fresh_database, product_process

REPORT = {
    "kind": "courthouse_arrest",
    "courthouse_code": "NYC",
    "place": "hallway",
    "agents_count": 3,
    "agency": "ice_ero",
    "warrant": "administrative",
    "person_role": "witness",
    "outcome": "detained",
}


async def http_rate(url: str, clients: int, seconds: float) -> tuple[float, list[float], int]:
    observed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    async def submit(client: httpx.AsyncClient) -> bool:
        response = await client.post(
            "/api/reports",
            json={**REPORT, "observed_at": observed},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        return response.status_code == 201

    return await closed_loop(url, clients, seconds, submit)


async def raw_rate(db_connect: dict, clients: int, seconds: float) -> float:
    admin = await asyncpg.connect(**db_connect)
    await admin.execute("CREATE TABLE IF NOT EXISTS bench_floor (id uuid PRIMARY KEY, body jsonb)")
    await admin.close()
    body = json.dumps(REPORT)
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        conn = await asyncpg.connect(**db_connect)
        while time.perf_counter() < deadline:
            async with conn.transaction():
                await conn.execute("INSERT INTO bench_floor VALUES ($1, $2)", uuid.uuid4(), body)
            count += 1
        await conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--no-projections", action="store_true", help="serve without in-process projections"
    )
    args = parser.parse_args()
    db = fresh_database("bench_submit")
    connect = dict(
        host=db.host, port=db.port, user=db.user, password=db.password or None, database=db.dbname
    )
    with product_process(db, projections=not args.no_projections) as url:
        load_before = os.getloadavg()[0]
        cpu_began, wall_began = time.process_time(), time.perf_counter()
        rate, latencies, errors = asyncio.run(http_rate(url, args.clients, args.seconds))
        generator_cpu = (time.process_time() - cpu_began) / (time.perf_counter() - wall_began)
        load_after = os.getloadavg()[0]
    floor = asyncio.run(raw_rate(connect, args.clients, args.seconds))
    print(
        f"submit through HTTP  : {rate:8.0f} reports/s with {args.clients} clients "
        f"({describe(latencies)}; {errors} errors)"
    )
    print(
        f"raw asyncpg floor    : {floor:8.0f} rows/s, 1 row per transaction, {args.clients} connections"
    )
    print(f"ratio HTTP / floor   : {rate / floor:8.2f}")
    print(
        f"load generator CPU   : {generator_cpu:8.0%} of one core while sending; "
        f"load average {load_before:.2f} before, {load_after:.2f} after (2 cores)"
    )


if __name__ == "__main__":
    main()
