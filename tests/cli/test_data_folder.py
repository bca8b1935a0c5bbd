"""Issue 9: a read-only or full data folder is one line at startup and 503 while serving.

We run as root, where chmod does not stop writes: the read-only and full
folders are real filesystems (a small tmpfs mounted here, read-only or
filled up). Where mounting is not permitted the data folder under a regular
file (tests/cli/test_database_outage.py) still covers the startup message.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.serve_process import Serve, sighting


def mount_tmpfs(where: Path, options: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); see the module docstring")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def run_serve(data_dir: Path) -> subprocess.CompletedProcess[str]:
    serve = Serve(data_dir, data_dir.parent / "unused.log")
    return subprocess.run(
        [sys.executable, "-m", "courtwatch", "serve", "--port", str(serve.port)],
        env=serve.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line(finished: subprocess.CompletedProcess[str], data_dir: Path) -> None:
    assert finished.returncode == 2, finished.stderr[-2000:]
    lines = finished.stderr.strip().splitlines()
    assert "Traceback" not in finished.stderr
    assert len(lines) == 1, finished.stderr[-2000:]
    assert lines[0].startswith("courtwatch: cannot use the data folder"), lines[0]
    assert str(data_dir.resolve()) in lines[0]


def test_a_read_only_data_folder_is_one_line_at_startup(tmp_path: Path, mounts: list[Path]) -> None:
    read_only = tmp_path / "ro"
    mount_tmpfs(read_only, "ro,size=1m")
    mounts.append(read_only)
    finished = run_serve(read_only / "var")
    assert_one_line(finished, read_only / "var")
    assert "Read-only file system" in finished.stderr


def test_a_full_data_folder_is_one_line_at_startup(tmp_path: Path, mounts: list[Path]) -> None:
    full = tmp_path / "full"
    mount_tmpfs(full, "size=2m")  # PostgreSQL's initdb needs ~40 MB
    mounts.append(full)
    finished = run_serve(full / "var")
    assert_one_line(finished, full / "var")
    assert "MB free" in finished.stderr


def fill(folder: Path) -> Path:
    """Write until the filesystem is full; the file to delete to make room again."""
    ballast = folder / "ballast"
    chunk = b"\0" * (1 << 20)
    with ballast.open("wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
        except OSError:
            pass
    return ballast


def test_a_data_folder_that_fills_up_while_serving_answers_503_then_recovers(
    tmp_path: Path, mounts: list[Path]
) -> None:
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "size=160m")
    mounts.append(disk)
    serve = Serve(disk / "var", tmp_path / "serve.log")
    try:
        serve.start()
        with httpx.Client(base_url=serve.url, timeout=8) as client:
            first = client.post(
                "/api/reports", json=sighting(), headers={"Idempotency-Key": uuid.uuid4().hex}
            )
            assert first.status_code == 201
            ballast = fill(disk)

            # Until a write fails for want of space, answers stay 2xx; then 503,
            # never 500, and nothing is stored for a 503.
            statuses = []
            refused_keys = []
            for _ in range(400):
                key = uuid.uuid4().hex
                began = time.monotonic()
                answer = client.post(
                    "/api/reports",
                    json=sighting(),
                    headers={"Idempotency-Key": key},
                )
                assert time.monotonic() - began < 8
                statuses.append(answer.status_code)
                assert answer.status_code in (200, 201, 422, 503), answer.text
                if answer.status_code == 503:
                    assert answer.headers["retry-after"].isdigit()
                    refused_keys.append(key)
                    break
            assert 503 in statuses, f"the disk never filled up: {statuses[-5:]}"

            ballast.unlink()  # room again: the server recovers by itself
            deadline = time.monotonic() + 60
            while True:
                answer = client.post(
                    "/api/reports",
                    json=sighting(),
                    headers={"Idempotency-Key": refused_keys[0]},
                )
                if answer.status_code in (200, 201):
                    # 201, not 200: the request answered 503 had stored nothing.
                    assert answer.status_code == 201
                    break
                assert answer.status_code == 503, answer.text
                assert time.monotonic() < deadline, "no recovery after space was freed"
                time.sleep(0.5)
        assert serve.terminate() < 12
    finally:
        serve.stop()
