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
import multiprocessing
import os
import sys
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx

from bench._common import (
    closed_loop,
    cpu_seconds,
    describe,
    fresh_database,
    product_process,
    web_nodes,
)
from bench.live import server_pid

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


async def raw_http_rate(url: str, clients: int, seconds: float) -> tuple[float, list[float], int]:
    """The same POSTs over plain keep-alive HTTP/1.1 sockets: httpx costs about a
    millisecond of CPU per request, so on this 2-core machine it, not the server,
    set the rate. Each answer is read whole (Content-Length) and its status checked."""
    host, port = url.removeprefix("http://").split(":")
    observed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = json.dumps({**REPORT, "observed_at": observed}).encode()
    head = (
        f"POST /api/reports HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Idempotency-Key: "
    ).encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            writer.write(head + uuid.uuid4().hex.encode() + b"\r\n\r\n" + body)
            status_and_headers = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in status_and_headers.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if status_and_headers[9:12] == b"201":
                latencies.append((time.perf_counter() - began) * 1000)
            else:
                errors += 1
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return len(latencies) / (time.perf_counter() - began), latencies, errors


def generator_share(job: tuple[str, int, float, bool]) -> tuple[float, list[float], int, float]:
    """One load-generator process's share of the clients; also its CPU seconds."""
    url, clients, seconds, with_httpx = job
    began = time.process_time()
    measure = http_rate if with_httpx else raw_http_rate
    rate, latencies, errors = asyncio.run(measure(url, clients, seconds))
    return rate, latencies, errors, time.process_time() - began


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
    parser.add_argument(
        "--web-nodes",
        type=int,
        default=0,
        help="N serve --no-projections processes and one courtwatch project (the "
        "production topology); the clients are split between the nodes",
    )
    parser.add_argument(
        "--httpx",
        action="store_true",
        help="send with httpx (as earlier runs did) instead of plain keep-alive sockets",
    )
    parser.add_argument(
        "--generator-processes",
        type=int,
        default=1,
        help="split the clients over this many load-generator processes (one is ~1 core "
        "at ~350 reports/s: past that, the generator is what is measured)",
    )
    args = parser.parse_args()
    db = fresh_database("bench_submit")
    connect = dict(
        host=db.host, port=db.port, user=db.user, password=db.password or None, database=db.dbname
    )
    with ExitStack() as stack:
        if args.web_nodes:
            nodes = stack.enter_context(web_nodes(db, args.web_nodes))
            urls, servers = nodes.urls, nodes.web_pids
            projection_pid: int | None = nodes.project_pid
        else:
            url = stack.enter_context(product_process(db, projections=not args.no_projections))
            urls, servers, projection_pid = [url], [server_pid(int(url.rsplit(":", 1)[1]))], None
        load_before = os.getloadavg()[0]
        watched = [*servers, *([projection_pid] if projection_pid else [])]
        cpu_began, wall_began = [cpu_seconds(p) for p in watched], time.perf_counter()
        processes = max(args.generator_processes, 1)
        # Clients spread over the web nodes in turn, and over the generator processes.
        jobs = [
            (urls[i % len(urls)], args.clients // processes + (i < args.clients % processes),
             args.seconds, args.httpx)
            for i in range(processes)
        ]  # fmt: skip
        if processes == 1 and len(urls) == 1:
            results = [generator_share(jobs[0])]
        else:
            if processes < len(urls):
                raise SystemExit("give at least one --generator-processes per web node")
            with multiprocessing.get_context("spawn").Pool(processes) as pool:
                results = pool.map(generator_share, jobs)
        wall = time.perf_counter() - wall_began
        spent = [cpu_seconds(p) - was for p, was in zip(watched, cpu_began, strict=True)]
        server_cpu = sum(spent[: len(servers)])
        load_after = os.getloadavg()[0]
    rate = sum(r[0] for r in results)
    latencies = [latency for r in results for latency in r[1]]
    errors = sum(r[2] for r in results)
    generator_cpu = sum(r[3] for r in results) / wall
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
        f"load generator CPU   : {generator_cpu:8.0%} of one core while sending "
        f"({processes} process(es)); load average {load_before:.2f} before, "
        f"{load_after:.2f} after (2 cores)"
    )
    if args.web_nodes:
        print(
            f"processes            : {args.web_nodes} web node(s), CPU "
            + ", ".join(f"{c / wall:.0%}" for c in spent[: len(servers)])
            + f" of one core; `courtwatch project` {spent[-1] / wall:.0%}"
        )
    print(
        f"server CPU           : {server_cpu / max(rate * wall, 1) * 1000:8.2f} ms per report "
        f"({server_cpu / wall:.0%} of one core); at 1,500 reports/s that is "
        f"{server_cpu / max(rate * wall, 1) * 1500:.1f} cores for the server alone"
    )


if __name__ == "__main__":
    main()
