"""Soak: many idle live-map viewers for minutes while reports arrive (issue 16).

Run: .venv/bin/python bench/soak.py [--viewers 20000] [--minutes 10] [--interval 3]
                                    [--web-nodes 2] [--client-processes 4]

Run by hand, not by the test suite. What runs, all on one PostgreSQL
(DATABASE_URL's server, or an embedded one started for the run):

- ``--web-nodes`` x `courtwatch serve --no-projections` and one
  `courtwatch project`. A process may hold at most 20,000 open files here, so
  20,000 viewers need two web nodes; the viewers are split evenly between them.
- ``--client-processes`` viewer processes (multiprocessing), each holding its
  share of the websockets, so the load generator is neither one core nor one
  process's file limit.

Every viewer connects and takes its snapshot; then for ``--minutes`` a report
is POSTed every ``--interval`` seconds (to each node in turn) while every
node's RSS is sampled every ``--sample`` seconds. At the end every viewer's
deltas are checked against the reports submitted: each report's delta must
arrive exactly once, in position order. Printed: viewers open/closed, viewers
that missed, duplicated or reordered anything, each node's RSS at start / end
/ max and its slope (least squares, KiB per minute), the CPU seconds of the
nodes, the projection process and the viewer processes, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench._common import cpu_seconds, fresh_database
from bench.live import raise_file_limit, rss_kib
from courtwatch.infrastructure.database import Database
from tests.conftest import free_port

COURTHOUSES = ("NYC", "BOS", "ATL", "BAL", "CHI")


# --- the viewer processes -------------------------------------------------


class Viewer:
    """What one viewer saw: its snapshot's position and every delta's position."""

    __slots__ = ("closed", "positions", "snapshot")

    def __init__(self) -> None:
        self.snapshot = -1
        self.positions = array("q")
        self.closed: str | None = None


async def _watch(ws, viewer: Viewer, seen: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    try:
        async for raw in ws:
            # Heartbeats are most frames of an idle viewer: parse only deltas.
            if '"delta"' not in raw[:20]:
                continue
            frame = json.loads(raw)
            position = frame["position"]
            viewer.positions.append(position)
            seen.setdefault(frame["report"]["id"], position)
    except ConnectionClosed as closed:
        viewer.closed = str(closed.rcvd.code if closed.rcvd else closed)


def faults(got: list[int], want: list[int], some_unseen: bool = False) -> list[str]:
    """What is wrong with the positions a viewer got, against those it should have."""
    found = []
    if set(want) - set(got) or some_unseen:
        found.append("missed")
    if len(set(got)) != len(got):
        found.append("duplicated")
    if any(a > b for a, b in itertools.pairwise(got)):
        found.append("reordered")
    return found


async def _viewers(pipe: Connection, urls: list[str], count: int) -> None:
    raise_file_limit()
    viewers = [Viewer() for _ in range(count)]
    seen: dict[str, int] = {}  # report id -> the position its delta carried
    sockets, tasks, failed = [], [], []
    gate = asyncio.Semaphore(100)

    async def open_one(index: int) -> None:
        viewer = viewers[index]
        try:
            async with gate:
                ws = await connect(
                    urls[index % len(urls)].replace("http", "ws", 1) + "/ws/live",
                    compression=None,
                    open_timeout=300,
                )
                first = json.loads(await asyncio.wait_for(ws.recv(), 300))
        except Exception as error:  # counted and shown, never hidden
            viewer.closed = f"connect: {type(error).__name__} {error}"[:120]
            failed.append(index)
            return
        viewer.snapshot = first.get("position", -1)
        sockets.append(ws)
        tasks.append(asyncio.create_task(_watch(ws, viewer, seen)))

    await asyncio.gather(*(open_one(i) for i in range(count)))
    pipe.send(("ready", count - len(failed)))
    loop = asyncio.get_running_loop()
    _, submitted, grace = await loop.run_in_executor(None, pipe.recv)
    # Wait (bounded) for the last reports' deltas to reach every open viewer.
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        expected = [seen.get(report_id) for report_id in submitted]
        if None not in expected:
            last = max(p for p in expected if p is not None) if expected else 0
            if all(v.closed or (v.positions and v.positions[-1] >= last) for v in viewers):
                break
        await asyncio.sleep(0.5)
    expected_positions = sorted(seen[r] for r in submitted if r in seen)
    unknown = len(submitted) - len(expected_positions)  # no viewer here saw these at all
    summary: dict[str, Any] = {
        "open": count - len(failed),
        "closed": sum(1 for v in viewers if v.closed) - len(failed),
        "close_reasons": sorted({v.closed for v in viewers if v.closed})[:5],
        "missed": 0,
        "duplicated": 0,
        "reordered": 0,
        "unknown_reports": unknown,
        "deltas": 0,
    }
    for viewer in viewers:
        if viewer.snapshot < 0:
            continue
        got = [p for p in viewer.positions if p > viewer.snapshot]
        summary["deltas"] += len(got)
        want = [p for p in expected_positions if p > viewer.snapshot]
        for fault in faults(got, want, unknown > 0):
            summary[fault] += 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    summary["cpu"] = usage.ru_utime + usage.ru_stime
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    pipe.send(("done", summary))


def viewer_process(pipe: Connection, urls: list[str], count: int) -> None:
    asyncio.run(_viewers(pipe, urls, count))


# --- the product -------------------------------------------------------


LOGS = Path(tempfile.mkdtemp(prefix="courtwatch-soak-logs-"))


@contextmanager
def courtwatch_process(db: Database, name: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`courtwatch <args>` on the run's database; its stderr kept in LOGS/<name>.log."""
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "COURTWATCH_LOG_LEVEL": "WARNING",
        "COURTWATCH_DATA_DIR": tempfile.mkdtemp(prefix=f"courtwatch-soak-{name}-"),
    }
    with (LOGS / f"{name}.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "courtwatch", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{name} did not start: {ended(name, proc)}")
            yield proc
        finally:
            proc.terminate()
            proc.wait(30)


def ended(name: str, proc: subprocess.Popen[str]) -> str:
    """How a process that should be running ended, with the end of its stderr."""
    tail = (LOGS / f"{name}.log").read_text()[-1500:]
    return f"{name} exited with {proc.poll()}; its stderr ends:\n{tail}"


@contextmanager
def web_node(db: Database, name: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`courtwatch serve --no-projections`; yields its URL once it answers."""
    port = free_port()
    with courtwatch_process(db, name, "serve", "--no-projections", "--port", str(port)) as proc:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/healthz").status_code == 200:
                    yield url, proc
                    return
            time.sleep(0.1)
        raise RuntimeError(ended(name, proc))


class Sampler(threading.Thread):
    """Every ``every`` seconds: each node's RSS (KiB) and the 1-minute load average."""

    def __init__(self, procs: list[subprocess.Popen[str]], every: float) -> None:
        super().__init__(daemon=True)
        self.procs, self.every = procs, every
        self.pids = [proc.pid for proc in procs]
        self.samples: list[tuple[float, list[int]]] = []
        self.loads: list[float] = []
        self.stopping = threading.Event()

    def sample(self) -> None:
        if any(proc.poll() is not None for proc in self.procs):
            return  # main() reports the dead node
        self.samples.append((time.monotonic(), [rss_kib(pid) for pid in self.pids]))
        self.loads.append(os.getloadavg()[0])

    def run(self) -> None:
        self.sample()
        while not self.stopping.wait(self.every):
            self.sample()


def slope_per_minute(times: list[float], values: list[int]) -> float:
    """Least-squares growth, per minute."""
    if len(times) < 2:
        return 0.0
    mt, mv = statistics.fmean(times), statistics.fmean(values)
    var = sum((t - mt) ** 2 for t in times)
    return 60 * sum((t - mt) * (v - mv) for t, v in zip(times, values, strict=True)) / var


async def submit_reports(urls: list[str], seconds: float, interval: float) -> list[str]:
    """A report every ``interval`` s, to each node in turn; the report ids, in order."""
    ids: list[str] = []
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < deadline:
            started = time.monotonic()
            observed = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
            try:
                response = await client.post(
                    urls[len(ids) % len(urls)] + "/api/reports",
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                    json={
                        "kind": "sighting",
                        "courthouse_code": COURTHOUSES[len(ids) % len(COURTHOUSES)],
                        "observed_at": observed,
                    },
                )
            except httpx.TransportError as error:  # shown; the node's end is reported
                print(f"POST failed: {type(error).__name__}", flush=True)
                await asyncio.sleep(interval)
                continue
            if response.status_code != 201:
                print(f"POST answered {response.status_code}: {response.text[:200]}", flush=True)
            else:
                ids.append(response.json()["id"])
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=20_000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between reports")
    parser.add_argument("--web-nodes", type=int, default=2)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    args = parser.parse_args()
    per_node = -(-args.viewers // args.web_nodes)
    if per_node > 19_000:
        parser.error(f"{per_node} viewers per node: use more --web-nodes (20,000 files/process)")
    raise_file_limit()  # inherited by the nodes and the viewer processes
    os.environ["COURTWATCH_MAX_VIEWERS"] = str(per_node + 100)
    db = fresh_database("bench_soak")
    print(
        f"soak: {args.viewers} viewers on {args.web_nodes} nodes, {args.minutes} min "
        f"(processes' stderr in {LOGS})",
        flush=True,
    )
    with ExitStack() as stack:
        # The first node creates the schema before the others start.
        nodes = [stack.enter_context(web_node(db, "node1"))]
        project = stack.enter_context(courtwatch_process(db, "project", "project"))
        for number in range(2, args.web_nodes + 1):
            nodes.append(stack.enter_context(web_node(db, f"node{number}")))
        urls = [url for url, _ in nodes]
        node_pids = [proc.pid for _, proc in nodes]
        project_pid = project.pid
        rss_empty = [rss_kib(pid) for pid in node_pids]
        context = multiprocessing.get_context("spawn")
        pipes, workers = [], []
        shares = [
            args.viewers // args.client_processes + (i < args.viewers % args.client_processes)
            for i in range(args.client_processes)
        ]
        began = time.monotonic()
        for share in shares:
            mine, theirs = context.Pipe()
            worker = context.Process(target=viewer_process, args=(theirs, urls, share))
            worker.start()
            pipes.append(mine)
            workers.append(worker)
        for worker in workers:
            stack.callback(worker.kill)  # after a failure, no viewer process outlives the run
        opened = sum(pipe.recv()[1] for pipe in pipes)
        connect_seconds = time.monotonic() - began
        print(f"viewers connected in {connect_seconds:.0f} s", flush=True)
        time.sleep(2)  # let the nodes finish every handshake's work
        rss_open = [rss_kib(pid) for pid in node_pids]
        print(
            f"{opened} of {args.viewers} viewers open in {connect_seconds:.0f} s; "
            f"KiB per viewer by node: "
            + ", ".join(
                f"{(o - e) / max(opened / len(urls), 1):.1f}"
                for o, e in zip(rss_open, rss_empty, strict=True)
            ),
            flush=True,
        )
        cpu_before = [cpu_seconds(pid) for pid in [*node_pids, project_pid]]
        sampler = Sampler([proc for _, proc in nodes], args.sample)
        sampler.start()
        try:
            ids = asyncio.run(submit_reports(urls, args.minutes * 60, args.interval))
        finally:
            sampler.stopping.set()
            sampler.join()
            for number, (_, proc) in enumerate(nodes, 1):
                if proc.poll() is not None:
                    print(ended(f"node{number}", proc), flush=True)
        cpu_after = [cpu_seconds(pid) for pid in [*node_pids, project_pid]]
        print(f"{len(ids)} reports submitted; checking every viewer's deltas", flush=True)
        for pipe in pipes:
            pipe.send(("finish", ids, 120.0))
        summaries = [pipe.recv()[1] for pipe in pipes]
        for worker in workers:
            worker.join(60)
    report(args, ids, opened, sampler, cpu_before, cpu_after, summaries)


def report(  # type: ignore[no-untyped-def]
    args, ids, opened, sampler: Sampler, cpu_before, cpu_after, summaries
) -> None:
    def total(key: str) -> int:
        return sum(s[key] for s in summaries)

    print(
        f"viewers: {opened} open, {total('closed')} closed during the soak "
        f"{sorted({r for s in summaries for r in s['close_reasons']})[:5]}"
    )
    print(
        f"deltas: {len(ids)} reports x {opened} viewers = {len(ids) * opened} expected, "
        f"{total('deltas')} received; viewers that missed {total('missed')}, "
        f"duplicated {total('duplicated')}, reordered {total('reordered')} "
        f"(reports no viewer of a process saw: {max(s['unknown_reports'] for s in summaries)})"
    )
    times = [t for t, _ in sampler.samples]
    for node in range(len(sampler.pids)):
        values = [rss[node] for _, rss in sampler.samples]
        start, end = values[0], values[-1]
        print(
            f"node {node + 1} RSS: start {start / 1024:.1f} MB, end {end / 1024:.1f} MB, "
            f"max {max(values) / 1024:.1f} MB, end-start {100 * (end - start) / start:+.1f} %, "
            f"slope {slope_per_minute(times, values):+.0f} KiB/min "
            f"({len(values)} samples every {args.sample:.0f} s)"
        )
        # Settling (arenas and socket buffers reaching their working size) slows
        # down; a leak does not: compare the two halves, and show the trace.
        half = len(values) // 2
        per_minute = max(1, round(60 / args.sample))
        print(
            f"  slope first half {slope_per_minute(times[:half], values[:half]):+.0f}, "
            f"second half {slope_per_minute(times[half:], values[half:]):+.0f} KiB/min; "
            "MB each minute: " + " ".join(f"{v / 1024:.1f}" for v in values[::per_minute])
        )
    nodes_cpu = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]
    minutes = (times[-1] - times[0]) / 60 if len(times) > 1 else args.minutes
    print(
        f"CPU s during the soak ({minutes:.1f} min): nodes "
        + ", ".join(f"{c:.1f}" for c in nodes_cpu[:-1])
        + f"; projection process {nodes_cpu[-1]:.1f}; viewer processes (whole run) "
        + ", ".join(f"{s['cpu']:.1f}" for s in summaries)
    )
    print(
        f"load average (1 min) during the soak: min {min(sampler.loads):.2f}, "
        f"mean {statistics.fmean(sampler.loads):.2f}, max {max(sampler.loads):.2f}"
    )


if __name__ == "__main__":
    os.environ.setdefault("COURTWATCH_LOG_LEVEL", "WARNING")
    with contextlib.suppress(KeyboardInterrupt):
        main()
