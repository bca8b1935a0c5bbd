"""The production topology: separate web and projection processes on one PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from courtwatch.infrastructure.database import Database
from tests.conftest import free_port


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "courtwatch", *self.args],
            env=self.env,
            stdout=handle,
            stderr=handle,
        )
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def environment(database: Database, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTWATCH_")}
    env.update(
        DATABASE_URL=database.url,
        COURTWATCH_DATA_DIR=str(tmp_path / "data"),
        COURTWATCH_LOG_LEVEL="WARNING",
    )
    return env


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


# Generous: two test workers share the machine, and a process's first start
# (imports, timezone data) takes several seconds when it is loaded.
async def wait_healthy(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def web(env: dict[str, str], tmp_path: Path, name: str) -> tuple[Process, str]:
    port = free_port()
    process = Process(
        ["serve", "--no-projections", "--port", str(port)], env, tmp_path / f"{name}.log"
    )
    return process, f"http://127.0.0.1:{port}"


def body() -> dict[str, object]:
    return {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "observed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }


def view_counts(database: Database) -> tuple[int, int, int, int]:
    with database.connect() as conn:
        feed, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT position) FROM activity_feed"
        ).fetchone()  # type: ignore[misc]
        reports = conn.execute("SELECT count(*) FROM map_reports").fetchone()[0]  # type: ignore[index]
        events = conn.execute(
            "SELECT count(*) FROM courtwatch_events WHERE topic LIKE '%reports:%'"
        ).fetchone()[0]  # type: ignore[index]
    return feed, distinct, reports, events


async def test_a_report_sent_to_one_web_process_reaches_a_viewer_of_another(
    environment: dict[str, str], tmp_path: Path, processes: list[Process]
) -> None:
    web_a, url_a = web(environment, tmp_path, "web-a")
    web_b, url_b = web(environment, tmp_path, "web-b")
    projector = Process(["project"], environment, tmp_path / "project.log")
    processes += [web_a.start(), web_b.start(), projector.start()]
    await asyncio.gather(wait_healthy(url_a), wait_healthy(url_b))

    async with connect(url_b.replace("http", "ws") + "/ws/live", compression=None) as viewer:
        assert json.loads(await viewer.recv())["type"] == "snapshot"
        async with httpx.AsyncClient() as client:
            created = (
                await client.post(
                    url_a + "/api/reports",
                    json=body(),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
            ).json()
        while True:
            frame = json.loads(await asyncio.wait_for(viewer.recv(), 10))
            if frame["type"] == "delta":
                break
    assert frame["report"]["id"] == created["id"]


async def test_killing_the_projection_process_mid_stream_loses_and_duplicates_nothing(
    environment: dict[str, str], tmp_path: Path, processes: list[Process], database: Database
) -> None:
    web_a, url_a = web(environment, tmp_path, "web-a")
    projector = Process(["project"], environment, tmp_path / "project.log")
    processes += [web_a.start(), projector.start()]
    await wait_healthy(url_a)

    async with connect(url_a.replace("http", "ws") + "/ws/live", compression=None) as viewer:
        assert json.loads(await viewer.recv())["type"] == "snapshot"
        async with httpx.AsyncClient(timeout=30) as client:

            async def send(i: int) -> None:
                r = await client.post(
                    url_a + "/api/reports",
                    json=body(),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                assert r.status_code == 201

            sending = asyncio.gather(*(send(i) for i in range(400)))
            # Kill the projection once it is part-way through the burst.
            while view_counts(database)[0] < 50:
                await asyncio.sleep(0.01)
            projector.kill()
            killed_at = view_counts(database)[0]
            await sending
            assert killed_at < 400, "the projection finished before it could be killed"
            restarted = Process(["project"], environment, tmp_path / "project-2.log")
            processes.append(restarted.start())

            received: list[int] = []
            while len(received) < 400:
                frame = json.loads(await asyncio.wait_for(viewer.recv(), 30))
                if frame["type"] == "delta":
                    received.append(frame["position"])

    feed, distinct, reports, events = view_counts(database)
    assert events == 400
    assert feed == distinct == reports == 400
    assert received == sorted(set(received))  # the viewer saw each change once, in order


async def test_the_projection_process_publishes_summaries_and_checkpoints_on_schedule(
    environment: dict[str, str], tmp_path: Path, processes: list[Process], database: Database
) -> None:
    from courtwatch.cli.bootstrap import bootstrap
    from courtwatch.infrastructure.config import Settings

    services = bootstrap(Settings(database_url=database.url, data_dir=tmp_path / "data"), database)
    services.app.submit(body(), uuid.uuid4().hex)
    services.close()
    environment.update(COURTWATCH_SUMMARY_INTERVAL="0.5", COURTWATCH_CHECKPOINT_INTERVAL="0.5")
    processes.append(Process(["project"], environment, tmp_path / "project.log").start())

    deadline = time.monotonic() + 60
    while True:
        with database.connect() as conn:
            has_table = conn.execute(
                "SELECT to_regclass('published_summaries') IS NOT NULL"
            ).fetchone()[0]  # type: ignore[index]
            periods = (
                {r[0] for r in conn.execute("SELECT DISTINCT period FROM published_summaries")}
                if has_table
                else set()
            )
            has_log = conn.execute("SELECT to_regclass('log_checkpoints') IS NOT NULL").fetchone()[
                0
            ]  # type: ignore[index]
            checkpoints = (
                conn.execute("SELECT count(*) FROM log_checkpoints").fetchone()[0] if has_log else 0
            )  # type: ignore[index]
        if {"day", "week", "month"} <= periods and checkpoints:
            break
        assert time.monotonic() < deadline, (periods, checkpoints)
        await asyncio.sleep(0.2)
