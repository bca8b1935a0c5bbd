"""`courtwatch serve` as a real subprocess, and its PostgreSQL, for the outage tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.conftest import free_port


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def postmaster_alive(pgdata: Path) -> bool:
    pid = postmaster_pid(pgdata)
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_postmaster(pgdata: Path) -> int:
    """SIGKILL the server process, as the OOM killer would."""
    pid = postmaster_pid(pgdata)
    assert pid is not None, "no postmaster.pid"
    os.kill(pid, signal.SIGKILL)
    return pid


def sighting(key: str = "") -> dict[str, Any]:
    return {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "observed_at": datetime.now(UTC).isoformat(),
    }


class Serve:
    """One `courtwatch serve` process on a data folder; start it again with the same port."""

    def __init__(self, data_dir: Path, log: Path, **settings: str) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port = free_port()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k != "DATABASE_URL" and not k.startswith("COURTWATCH_")
        }
        self.env["COURTWATCH_DATA_DIR"] = str(data_dir)
        self.env["COURTWATCH_LOG_LEVEL"] = "WARNING"
        self.env.update(settings)
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"

    def start(self, timeout: float = 90) -> Serve:
        handle = self.log.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "courtwatch", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=handle,
            text=True,
        )
        handle.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("serve did not become healthy")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self, timeout: float = 20) -> float:
        """SIGTERM; how long it took to exit."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return float("inf")
        return time.monotonic() - began

    def stop(self) -> None:
        """Leave nothing running: serve, and the embedded server a killed serve left behind."""
        if self.proc is not None and self.proc.poll() is None:
            self.terminate()
        if postmaster_alive(self.pgdata):
            pid = postmaster_pid(self.pgdata)
            assert pid is not None
            os.kill(pid, signal.SIGTERM)  # a "smart" stop is too slow; this is "fast"
            deadline = time.monotonic() + 10
            while postmaster_alive(self.pgdata) and time.monotonic() < deadline:
                time.sleep(0.05)
