"""Shared by the benchmarks: a PostgreSQL to measure on, and a product process."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from courtwatch.infrastructure.database import (
    Database,
    ensure_database_exists,
    start_embedded_server,
)
from tests.conftest import free_port


def fresh_database(prefix: str) -> Database:
    """A new database on DATABASE_URL's server, or on an embedded one under a temp folder."""
    if os.environ.get("DATABASE_URL"):
        base = Database.from_url(os.environ["DATABASE_URL"])
    else:
        base = start_embedded_server(Path(tempfile.mkdtemp(prefix="courtwatch-bench-")))
    db = base.with_dbname(f"{prefix}_{uuid.uuid4().hex[:8]}")
    ensure_database_exists(db)
    return db


@contextmanager
def product_process(db: Database, *args: str, projections: bool = True) -> Iterator[str]:
    """`courtwatch serve` as its own process, as in production; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "COURTWATCH_LOG_LEVEL": "WARNING",
        "COURTWATCH_DATA_DIR": tempfile.mkdtemp(prefix="courtwatch-bench-data-"),
    }
    command = [sys.executable, "-m", "courtwatch", "serve", "--port", str(port), *args]
    if not projections:
        command.append("--no-projections")
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("courtwatch serve did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class WebNodes:
    """Several web nodes and the one projection process behind them."""

    urls: list[str]
    web_pids: list[int]
    project_pid: int


def _courtwatch(db: Database, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "COURTWATCH_LOG_LEVEL": "WARNING",
        "COURTWATCH_DATA_DIR": tempfile.mkdtemp(prefix="courtwatch-bench-data-"),
    }
    command = [sys.executable, "-m", "courtwatch", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def web_nodes(db: Database, count: int) -> Iterator[WebNodes]:
    """``count`` x `courtwatch serve --no-projections` and one `courtwatch project`,
    all on one database: the production topology (docker-compose.yml), scaled out."""
    project = _courtwatch(db, "project")
    ports = [free_port() for _ in range(count)]
    nodes = [_courtwatch(db, "serve", "--no-projections", "--port", str(p)) for p in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 90
        for url, node in zip(urls, nodes, strict=True):
            while True:
                if node.poll() is not None or project.poll() is not None:
                    raise RuntimeError(f"a courtwatch process exited while {url} started")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"web node {url} did not start")
                try:
                    if httpx.get(url + "/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield WebNodes(urls, [node.pid for node in nodes], project.pid)
    finally:
        for proc in [*nodes, project]:
            proc.terminate()
        for proc in [*nodes, project]:
            proc.wait(30)


# One request of a closed-loop client: sends with the shared client, answers
# whether it succeeded. The loop times it; the request knows what "done" means.
Request = Callable[[httpx.AsyncClient], Awaitable[bool]]


async def closed_loop(
    url: str, clients: int, seconds: float, request: Request, timeout: float = 30
) -> tuple[float, list[float], int]:
    """``clients`` workers each send ``request`` back to back for ``seconds``.

    Returns requests per second, every latency in ms, and how many failed.
    """
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                if not await request(client):
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies, errors


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def describe(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, "
        f"mean {statistics.fmean(values):.1f} ms"
    )


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
