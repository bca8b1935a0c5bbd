"""Rows per second through `courtwatch import`, next to the same run's raw COPY floor.

    .venv/bin/python bench/import.py [--rows 10000] [--workers N]

A generated spreadsheet (courtwatch/importing/sample.py: 5 % bad rows, BOM,
CRLF, free text in ignored columns) mapped by docs/import-example.toml is
imported with the real command, as its own process, into a fresh database:
the import's own time is read from its structured log lines ("import started"
to "import finished"), and the whole process's wall time (start-up, time-zone
data, bootstrap) is shown beside it, with the CPU time of that process and
of its worker processes (courtwatch/importing/workers.py; --workers 1: none).
Then the same file again (adds nothing).
The floor: the same rows' cells COPY'd as text into a scratch table of the
same database, no parsing, no checks, no events. Goal (issue 14): >= 5,000 rows/s.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import fresh_database
from courtwatch.importing import sample
from courtwatch.infrastructure.database import Database

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "docs" / "import-example.toml"
GOAL = 5_000


def run_import(
    db: Database, file: Path, data_dir: str, workers: int | None
) -> tuple[float, float, float, float, str]:
    """Seconds of the import itself (wall, CPU of its process), of the whole
    process (start-up included), CPU of the whole process and its worker
    processes (start-up included), and the summary line."""
    env = {**os.environ, "DATABASE_URL": db.url, "COURTWATCH_DATA_DIR": data_dir,
           "COURTWATCH_LOG_LEVEL": "INFO"}  # fmt: skip
    started = time.perf_counter()
    children_before = _children_cpu()
    done = subprocess.run(
        [sys.executable, "-m", "courtwatch", "import", str(file), "--mapping", str(MAPPING),
         "--rejected", str(file.with_suffix(".rejected.csv")),
         *(["--workers", str(workers)] if workers else [])],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    # The import process and the workers it waited for: every CPU second it cost.
    all_cpu = _children_cpu() - children_before
    stamps: dict[str, float] = {}
    for line in done.stderr.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            record = json.loads(line[start:])
        except json.JSONDecodeError:
            continue
        if record.get("event") == "import finished":
            stamps = record
    return (stamps["seconds"], stamps["cpu_seconds"], wall, all_cpu,
            done.stdout.splitlines()[0])  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def copy_floor(db: Database, data: bytes) -> float:
    """Seconds to COPY the same rows' cells, as text, into a scratch table."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline="")))
    width = len(rows[0])
    body = [r for r in rows[1:] if len(r) == width]
    columns = ", ".join(f"c{i} text" for i in range(width))
    with db.connect(autocommit=True) as conn:
        conn.execute(f"CREATE TABLE import_floor ({columns})")
        started = time.perf_counter()
        copy_sql = f"COPY import_floor ({', '.join(f'c{i}' for i in range(width))}) FROM STDIN"
        with conn.transaction(), conn.cursor() as curs, curs.copy(copy_sql) as copy:
            for row in body:
                copy.write_row([cell.replace("\x00", "") for cell in row])
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE import_floor")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, help="the command's --workers (default: per core)")
    args = parser.parse_args()
    sheet = sample.spreadsheet(args.rows)
    folder = Path(tempfile.mkdtemp(prefix="courtwatch-bench-import-"))
    file = folder / "records.csv"
    file.write_bytes(sheet.data)
    db = fresh_database("bench_import")
    data_dir = str(folder / "data")
    print(f"{args.rows} rows ({sheet.good} good, {sheet.bad} bad), {len(sheet.data):,} bytes, "
          f"--workers {args.workers or 'default'}; "
          f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    own, cpu, wall, all_cpu, summary = run_import(db, file, data_dir, args.workers)
    print(f"first run:  {summary}")
    print(f"  import {own:.2f} s = {args.rows / own:,.0f} rows/s; its process's CPU "
          f"{cpu:.2f} s (workers aside); whole process with start-up {wall:.2f} s = "
          f"{args.rows / wall:,.0f} rows/s, CPU with its workers {all_cpu:.2f} s = "
          f"{args.rows / all_cpu:,.0f} rows per CPU second")  # fmt: skip
    again, again_cpu, again_wall, again_all, summary = run_import(db, file, data_dir, args.workers)
    print(f"second run: {summary}")
    print(f"  import {again:.2f} s = {args.rows / again:,.0f} rows/s; CPU {again_cpu:.2f} s "
          f"(whole process {again_wall:.2f} s, CPU with its workers {again_all:.2f} s)")  # fmt: skip
    floor = copy_floor(db, sheet.data)
    print(f"COPY floor: {floor:.3f} s = {args.rows / floor:,.0f} rows/s into a scratch table")
    rate = args.rows / own
    print(f"import / floor = {rate / (args.rows / floor):.3f}; goal {GOAL:,} rows/s: "
          f"{'met' if rate >= GOAL else 'NOT met'} ({rate:,.0f} rows/s)")  # fmt: skip


if __name__ == "__main__":
    main()
