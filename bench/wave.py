"""A city opens the map at once, and what an idle viewer costs (issue 16).

Run: .venv/bin/python bench/wave.py [--idle 5000] [--viewers 2000] [--reports 2000] [--waves 2]
                                    [--snapshot gzip|text]

1. Idle viewers: ``--idle`` websockets open on `courtwatch serve` (an empty map)
   and stay idle; server memory per viewer is the growth of its RSS divided by
   the count. Floor, same run: the bare asyncpg LISTEN -> ``websockets`` server
   of bench/live.py with as many idle clients.
2. The wave: ``--reports`` reports are submitted (all within the last 24 h, so
   every snapshot carries them all), then ``--viewers`` websockets connect at
   once. Timed from the first connect until the *last* viewer holds its whole
   first frame (the snapshot). Server RSS is sampled throughout: before, peak,
   and after every viewer has left. Repeated ``--waves`` times, so a wave that
   leaves memory behind shows as a growing baseline. ``--snapshot gzip`` (the
   default) connects as the map page does, with ``?snapshot=gzip``: the
   snapshot is one binary frame of gzipped JSON; ``--snapshot text`` as any
   other client, one JSON text frame. Server and client CPU seconds per wave
   are printed beside the wall time: on a loaded machine they are the figures
   to compare.

Every figure is printed with the machine's load average: the client runs on
the same 2 cores as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench._common import cpu_seconds, fresh_database, product_process
from bench.live import floor_round, raise_file_limit, rss_kib, server_pid

COURTHOUSES = ("NYC", "BOS", "ATL", "BAL", "CHI")


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


async def idle_kib_per_viewer(url: str, count: int) -> float:
    """Server RSS growth per open idle viewer (each has had its first frame)."""
    pid = server_pid(int(url.rsplit(":", 1)[1]))
    before = rss_kib(pid)
    ws_url = url.replace("http", "ws") + "/ws/live"
    gate = asyncio.Semaphore(200)
    sockets, refused = [], []

    async def one() -> None:
        async with gate:
            ws = await connect(ws_url, compression=None, open_timeout=120)
            sockets.append(ws)
            try:
                await asyncio.wait_for(ws.recv(), 120)
            except ConnectionClosed as closed:
                refused.append(str(closed.rcvd.reason if closed.rcvd else closed))

    await asyncio.gather(*(one() for _ in range(count)))
    await asyncio.sleep(1)  # let the server finish every handshake's work
    open_viewers = count - len(refused)
    per_viewer = (rss_kib(pid) - before) / max(open_viewers, 1)
    if refused:
        print(f"{len(refused)} of {count} idle viewers were closed, e.g. {refused[0]!r}")
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return per_viewer


async def seed(url: str, reports: int) -> int:
    """Submit ``reports`` reports from 8 clients; wait until the map shows them all."""
    now = datetime.now(UTC)
    todo = iter(range(reports))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in todo:
            response = await client.post(
                "/api/reports",
                headers={"Idempotency-Key": uuid.uuid4().hex},
                json={
                    "kind": "sighting",
                    "courthouse_code": COURTHOUSES[i % len(COURTHOUSES)],
                    "agents_count": 1 + i % 9,
                    "observed_at": (now - timedelta(minutes=1 + i % 600)).isoformat(),
                },
            )
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(8)))
        while True:
            shown = (await client.get("/api/map/reports")).json()["reports"]
            if len(shown) >= reports:
                return len(shown)
            await asyncio.sleep(0.5)


def snapshot_json(raw: str | bytes) -> str:
    """The snapshot's JSON, from a text frame or the gzipped binary one."""
    return raw if isinstance(raw, str) else gzip.decompress(raw).decode()


async def wave(url: str, count: int, encoding: str) -> dict[str, float]:
    pid = server_pid(int(url.rsplit(":", 1)[1]))
    ws_url = url.replace("http", "ws") + f"/ws/live?snapshot={encoding}"
    peak = before = rss_kib(pid)
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, rss_kib(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    sockets = []
    first_frame: list[float] = []
    snapshot_bytes = 0
    snapshot_kinds: set[type] = set()
    last_raw: list[str | bytes] = [""]
    refused: list[str] = []
    cpu = time.process_time()
    server_cpu = cpu_seconds(pid)
    started = time.perf_counter()

    async def one() -> None:
        nonlocal snapshot_bytes
        ws = await connect(ws_url, compression=None, max_size=None, open_timeout=300)
        sockets.append(ws)
        try:
            raw = await asyncio.wait_for(ws.recv(), 300)
        except ConnectionClosed as closed:  # e.g. 1013: the server gave up on this viewer
            refused.append(str(closed.rcvd.reason if closed.rcvd else closed))
            return
        first_frame.append(time.perf_counter() - started)
        # Checked whole after the wave (one of them): a browser unpacks its own.
        snapshot_kinds.add(type(raw))
        snapshot_bytes = len(raw)
        last_raw[0] = raw

    await asyncio.gather(*(one() for _ in range(count)))
    client_cpu = time.process_time() - cpu
    server_cpu = cpu_seconds(pid) - server_cpu
    # What one viewer spends making the first frame into reports (a phone does
    # this once; JSON parsing here stands in for the browser's).
    unpacking = time.process_time()
    parsed = json.loads(snapshot_json(last_raw[0]))
    unpack_ms = (time.process_time() - unpacking) * 1000
    assert parsed["type"] == "snapshot", parsed.get("type")
    assert snapshot_kinds == {bytes if encoding == "gzip" else str}, snapshot_kinds
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    # After the wave: the server lets go of the sockets at once, and hands
    # memory back at its next heartbeat (every 15 s).
    await asyncio.sleep(17)
    after = rss_kib(pid)
    sampling = False
    await sampler
    first_frame.sort() if first_frame else first_frame.append(float("nan"))
    if refused:
        print(f"{len(refused)} viewers closed before a first frame, e.g. {refused[0]!r}")
    return {
        "refused": len(refused),
        "last_first_frame_s": first_frame[-1],
        "median_first_frame_s": first_frame[len(first_frame) // 2],
        "snapshot_kb": snapshot_bytes / 1000,
        "snapshot_reports": len(parsed["reports"]),
        "unpack_ms": unpack_ms,
        "rss_before_mb": before / 1024,
        "rss_peak_mb": peak / 1024,
        "rss_after_mb": after / 1024,
        "client_cpu_s": client_cpu,
        "server_cpu_s": server_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--idle", type=int, default=5000, help="idle viewers (0: skip)")
    parser.add_argument("--viewers", type=int, default=2000, help="viewers in each wave")
    parser.add_argument("--reports", type=int, default=2000, help="reports in the last 24 h")
    parser.add_argument("--waves", type=int, default=2)
    parser.add_argument(
        "--snapshot",
        choices=("gzip", "text"),
        default="gzip",
        help="how viewers ask for the snapshot: gzip (binary, as the map page) or text",
    )
    args = parser.parse_args()
    raise_file_limit()
    db = fresh_database("bench_wave")
    with product_process(db) as url:
        if args.idle:
            product = asyncio.run(idle_kib_per_viewer(url, args.idle))
            print(f"idle viewers {args.idle}: product {product:.1f} KiB [{load()}]", flush=True)
        if args.waves:
            shown = asyncio.run(seed(url, args.reports))
            print(f"seeded {shown} reports [{load()}]", flush=True)
            with contextlib.suppress(Exception):
                httpx.get(url + "/healthz")
            for number in range(1, args.waves + 1):
                figures = asyncio.run(wave(url, args.viewers, args.snapshot))
                print(
                    f"wave {number}: {args.viewers} viewers at once "
                    f"({figures['refused']:.0f} closed without one), snapshot "
                    f"({args.snapshot}) {figures['snapshot_kb']:.0f} kB holding "
                    f"{figures['snapshot_reports']:.0f} reports, unpacked and parsed in "
                    f"{figures['unpack_ms']:.0f} ms: last first frame "
                    f"{figures['last_first_frame_s']:.2f} s (median "
                    f"{figures['median_first_frame_s']:.2f} s); server RSS before "
                    f"{figures['rss_before_mb']:.0f} MB, peak {figures['rss_peak_mb']:.0f} MB, "
                    f"after {figures['rss_after_mb']:.0f} MB "
                    f"({figures['rss_after_mb'] / figures['rss_before_mb'] - 1:+.0%}); "
                    f"CPU until the last first frame: server {figures['server_cpu_s']:.1f} s, "
                    f"client {figures['client_cpu_s']:.1f} s [{load()}]",
                    flush=True,
                )
    if args.idle:
        _, _, floor = asyncio.run(floor_round(db, args.idle, 0))
        print(
            f"idle viewers {args.idle}: server memory per viewer product {product:.1f} KiB, "
            f"floor {floor:.1f} KiB, ratio {product / floor:.2f} [{load()}]",
            flush=True,
        )


if __name__ == "__main__":
    os.environ.setdefault("COURTWATCH_LOG_LEVEL", "WARNING")
    main()
