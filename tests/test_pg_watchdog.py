"""A test process killed from outside still stops the embedded PostgreSQL it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.pg_watchdog import _postmaster

REPO = Path(__file__).resolve().parent.parent

OWNER = """
import sys, time
from pathlib import Path
from courtwatch.infrastructure.database import start_embedded_server
from tests import pg_watchdog
data_dir = Path(sys.argv[1])
start_embedded_server(data_dir)
pg_watchdog.spawn(data_dir / "pg")
print("ready", flush=True)
time.sleep(600)
"""


def test_a_killed_owner_leaves_no_postgres_running(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path / "data")],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == b"ready"
        postmaster = _postmaster(tmp_path / "data" / "pg")
        assert postmaster is not None and postmaster.is_running()
        owner.send_signal(signal.SIGKILL)  # no atexit, no fixture teardown
        owner.wait(timeout=10)
        deadline = time.monotonic() + 30
        while postmaster.is_running() and postmaster.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the orphaned PostgreSQL kept running"
            time.sleep(0.1)
    finally:
        owner.kill()
        leftover = _postmaster(tmp_path / "data" / "pg")
        if leftover is not None:
            leftover.kill()
