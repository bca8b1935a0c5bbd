"""Submit -> receive latency on the live map with many connected viewers, next to the floor.

Run: .venv/bin/python bench/live.py [--clients 1000 5000] [--rounds 20] [--web-nodes N]

Product: `courtwatch serve` (projections in-process) with N websocket viewers;
a report is POSTed and we time until the *last* viewer has its delta (and the
median viewer). Floor, same run, same viewers count: a bare asyncpg LISTEN ->
websockets broadcast() server, timed from NOTIFY to the last receipt. Server
memory per viewer is the growth of the server's RSS divided by N.

With ``--web-nodes N``: N `courtwatch serve --no-projections` processes and one
`courtwatch project`, all on one PostgreSQL, the viewers split between the
nodes in turn and every report POSTed to the first; the floor runs N bare
servers with the viewers split the same way. Memory per viewer is then each
node's growth over its own viewers, and the CPU seconds of every process
during the rounds are printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
from websockets.asyncio.client import connect

from bench._common import cpu_seconds, fresh_database, percentile, product_process, web_nodes
from tests.conftest import free_port


def raise_file_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def server_pid(port: int) -> int:
    out = subprocess.run(["ss", "-ltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])


class Viewers:
    def __init__(self, url: str | list[str], count: int) -> None:
        # Several URLs (web nodes): viewers are spread over them in turn.
        self.urls = [url] if isinstance(url, str) else url
        self.url, self.count = self.urls[0], count
        # Every receipt is kept from the start: a delta can beat the POST's answer.
        self.stamps: dict[str, list[float]] = defaultdict(list)
        self.complete: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.sockets: list = []
        self.tasks: list[asyncio.Task] = []

    async def open(self) -> None:
        gate = asyncio.Semaphore(200)

        async def one(url: str) -> None:
            async with gate:
                ws = await connect(url, compression=None, max_queue=None, open_timeout=60)
                await ws.recv()  # snapshot or nothing-yet
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self.read(ws)))

        await asyncio.gather(*(one(self.nth_url(i)) for i in range(self.count)))

    def nth_url(self, index: int) -> str:
        return self.urls[index % len(self.urls)]

    async def read(self, ws) -> None:  # type: ignore[no-untyped-def]
        async for raw in ws:
            now = time.perf_counter()
            message = json.loads(raw) if raw[0] == "{" else {"key": raw}
            key = message.get("report", {}).get("id") or message.get("key")
            if key:
                stamps = self.stamps[key]
                stamps.append(now)
                if len(stamps) == self.count:
                    self.complete[key].set()

    def expect(self, key: str) -> tuple[asyncio.Event, list[float]]:
        return self.complete[key], self.stamps[key]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def product_round(
    url: str | list[str], count: int, rounds: int, cpu_of: list[int] | None = None
) -> tuple[list[float], list[float], float]:
    urls = [url] if isinstance(url, str) else url
    url = urls[0]
    pids = [server_pid(int(u.rsplit(":", 1)[1])) for u in urls]
    before = [rss_kib(pid) for pid in pids]
    viewers = Viewers([u.replace("http", "ws") + "/ws/live" for u in urls], count)
    await viewers.open()
    # Each node's growth over the viewers it holds, averaged over the nodes.
    per_node = [count // len(urls) + (i < count % len(urls)) for i in range(len(urls))]
    per_client_kib = statistics.mean(
        (rss_kib(pid) - kib) / max(held, 1)
        for pid, kib, held in zip(pids, before, per_node, strict=True)
    )
    cpu_before = [cpu_seconds(pid) for pid in cpu_of or []]
    last, median = [], []
    observed = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(rounds):
            key = uuid.uuid4().hex
            report_id = None
            started = time.perf_counter()
            response = await client.post(
                "/api/reports",
                headers={"Idempotency-Key": key},
                json={"kind": "sighting", "courthouse_code": "NYC", "observed_at": observed},
            )
            report_id = response.json()["id"]
            done, stamps = viewers.expect(report_id)
            # The delta may beat the POST's response: count stamps already seen.
            await asyncio.wait_for(done.wait(), 30)
            last.append((max(stamps) - started) * 1000)
            median.append((statistics.median(stamps) - started) * 1000)
    if cpu_of:
        spent = [cpu_seconds(pid) - was for pid, was in zip(cpu_of, cpu_before, strict=True)]
        print(
            "  CPU seconds during the rounds, per process: " + ", ".join(f"{s:.2f}" for s in spent)
        )
    await viewers.close()
    return last, median, per_client_kib


async def floor_round(
    db, count: int, rounds: int, servers: int = 1
) -> tuple[list[float], list[float], float]:  # type: ignore[no-untyped-def]
    ports = [free_port() for _ in range(servers)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).parent / "_floor_server.py"),
                str(port),
                db.host,
                str(db.port),
                db.user,
                db.dbname,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    try:
        before = [rss_kib(proc.pid) for proc in procs]
        viewers = Viewers([f"ws://127.0.0.1:{port}/" for port in ports], count)
        # The floor server sends nothing on connect: skip the first recv.
        viewers_open = viewers.open

        async def open_without_snapshot() -> None:
            gate = asyncio.Semaphore(200)

            async def one(url: str) -> None:
                async with gate:
                    ws = await connect(url, compression=None, max_queue=None, open_timeout=60)
                viewers.sockets.append(ws)
                viewers.tasks.append(asyncio.create_task(viewers.read(ws)))

            await asyncio.gather(*(one(viewers.nth_url(i)) for i in range(count)))

        del viewers_open
        await open_without_snapshot()
        per_client_kib = (
            sum(rss_kib(proc.pid) - kib for proc, kib in zip(procs, before, strict=True)) / count
        )
        conn = await asyncpg.connect(host=db.host, port=db.port, user=db.user, database=db.dbname)
        last, median = [], []
        for _ in range(rounds):
            key = uuid.uuid4().hex
            done, stamps = viewers.expect(key)
            started = time.perf_counter()
            await conn.execute("SELECT pg_notify('bench_floor', $1)", key)
            await asyncio.wait_for(done.wait(), 30)
            last.append((max(stamps) - started) * 1000)
            median.append((statistics.median(stamps) - started) * 1000)
        await conn.close()
        await viewers.close()
        return last, median, per_client_kib
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--web-nodes",
        type=int,
        default=0,
        help="N serve --no-projections processes + one courtwatch project (default: one "
        "serve with its in-process projections)",
    )
    args = parser.parse_args()
    raise_file_limit()
    db = fresh_database("bench_live")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(
        "viewers | product last p50/p99 ms | product median-viewer p50 ms | floor last p50/p99 ms | ratio p50 | server KiB/viewer (product / floor)"
    )
    for count in args.clients:
        if args.web_nodes:
            with web_nodes(db, args.web_nodes) as nodes:
                pids = [*nodes.web_pids, nodes.project_pid]
                print(
                    f"  {args.web_nodes} web node(s) and the projection process (CPU in that order)"
                )
                p_last, p_median, p_mem = asyncio.run(
                    product_round(nodes.urls, count, args.rounds, cpu_of=pids)
                )
        else:
            with product_process(db) as url:
                p_last, p_median, p_mem = asyncio.run(product_round(url, count, args.rounds))
        f_last, _, f_mem = asyncio.run(
            floor_round(db, count, args.rounds, servers=max(args.web_nodes, 1))
        )
        print(
            f"{count:7d} | {percentile(p_last, 50):7.1f} / {percentile(p_last, 99):7.1f} | "
            f"{percentile(p_median, 50):7.1f} | {percentile(f_last, 50):7.1f} / {percentile(f_last, 99):7.1f} | "
            f"{percentile(p_last, 50) / percentile(f_last, 50):6.2f} | {p_mem:6.1f} / {f_mem:6.1f}",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    os.environ.setdefault("COURTWATCH_LOG_LEVEL", "WARNING")
    main()
