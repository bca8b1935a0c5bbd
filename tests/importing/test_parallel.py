"""The import's worker processes (courtwatch/importing/workers.py): same reports,
same ids as preparing every row in one process, and an import killed mid-run
(SIGKILL) leaves no worker behind and nothing half-stored; re-running it
completes with no duplicates and nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from courtwatch.cli import main
from courtwatch.importing import sample
from courtwatch.importing.importer import Importer
from courtwatch.importing.mapping import load_mapping
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services

MAPPING = Path(__file__).resolve().parents[2] / "docs" / "import-example.toml"
NEW_YORK = ZoneInfo("America/New_York")


def _stored(database: Database) -> tuple[int, int, int]:
    """Submitted events, Imported events, distinct reports."""
    with database.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE topic LIKE '%.Submitted'),"
            " count(*) FILTER (WHERE topic LIKE '%:Report.Imported'),"
            " count(DISTINCT originator_id) FROM courtwatch_events"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _ids(database: Database) -> list[str]:
    with database.connect() as conn:
        return sorted(str(r[0]) for r in conn.execute(
            "SELECT originator_id FROM courtwatch_events WHERE topic LIKE '%.Submitted'"
        ))  # fmt: skip


def test_workers_and_small_batches_give_the_same_reports_and_ids_as_one_process(
    services: Services, database: Database, tmp_path: Path
) -> None:
    # Identical rows spread over several chunks: each chunk's worker counts
    # only its own, so the parent must correct the count (part of the id).
    sheet = sample.spreadsheet(120, seed=3)
    lines = sheet.data.split(b"\r\n")
    twin = lines[1]
    file = tmp_path / "records.csv"
    file.write_bytes(b"\r\n".join([*lines[:-1], twin, twin, twin, b""]))
    mapping = load_mapping(MAPPING)
    pooled = Importer(services.app, database, mapping, NEW_YORK, batch_rows=7, workers=2)
    dry = pooled.run(file, tmp_path / "rejected-dry.csv", dry_run=True)
    first = pooled.run(file, tmp_path / "rejected.csv")
    assert (dry.added, first.added, first.rejected) == (sheet.good + 3, sheet.good + 3, sheet.bad)
    stored_ids = _ids(database)
    assert len(set(stored_ids)) == sheet.good + 3
    # One process, one chunk, the ids the importer always gave: none added.
    alone = Importer(services.app, database, mapping, NEW_YORK, batch_rows=400, workers=1)
    again = alone.run(file, tmp_path / "rejected-again.csv")
    assert (again.added, again.already_stored) == (0, sheet.good + 3)
    assert _ids(database) == stored_ids
    assert (tmp_path / "rejected.csv").read_bytes() == (
        tmp_path / "rejected-again.csv"
    ).read_bytes()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_an_import_killed_mid_run_leaves_no_worker_and_a_rerun_completes_it(
    settings: Settings, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    sheet = sample.spreadsheet(1_000)
    file = tmp_path / "records.csv"
    file.write_bytes(sheet.data)
    env = {**os.environ, "DATABASE_URL": settings.database_url or "",
           "COURTWATCH_DATA_DIR": str(tmp_path / "data"), "COURTWATCH_LOG_LEVEL": "WARNING"}  # fmt: skip
    command = [sys.executable, "-m", "courtwatch", "import", str(file), "--mapping",
               str(MAPPING), "--rejected", str(tmp_path / "rejected.csv"), "--batch", "20",
               "--workers", "2"]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert _wait_for(lambda: _stored(database)[0] > 0, 60), "nothing stored"
        workers = _children(process.pid)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert len(workers) >= 2, workers  # the pool was running
    assert _wait_for(lambda: not any(_alive(w) for w in workers), 10), "a worker outlived it"
    submitted, imported, reports = _stored(database)
    assert 0 < submitted < sheet.good, "killed before the end"
    # One transaction per batch: no report without its Imported event.
    assert submitted == imported == reports
    # The re-run in this process (a second start-up would cost seconds).
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("COURTWATCH_DATA_DIR", str(tmp_path / "data"))
    assert main(command[3:]) == 0
    assert (
        f"1000 rows: added {sheet.good - submitted}, "
        f"{submitted} already stored, {sheet.bad} rejected"
    ) in capsys.readouterr().out
    assert _stored(database) == (sheet.good, sheet.good, sheet.good)
