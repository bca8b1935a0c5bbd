"""Events per second through `courtwatch project --rebuild`, per projection, next to
the same run's floor: a raw scan of the events table with the same decoding.

    .venv/bin/python bench/rebuild.py [--events 35000]

Starts its own embedded PostgreSQL in a temporary folder (or uses DATABASE_URL),
generates a demo history of about --events events (courtwatch.demo), then:
  * the floor: every stored event read in pages of 10,000 and decoded by the
    application's mapper, as the projection runners' subscription does;
  * each rebuildable projection on its own: its views dropped, then its runner
    started (the one the product runs: projections/runner.py) and timed until
    its tracking position reaches the head of the log (the trend tables: their
    batched rebuild, then the runner carrying on, as `project --rebuild` does);
  * the whole command, `courtwatch project --rebuild --exit-when-caught-up`, as
    its own process (start-up included), all projections side by side.
Goal (issue 16): every projection >= 20,000 events/s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import fresh_database
from courtwatch import demo
from courtwatch.application import Courtwatch
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.database import Database
from projections import runner
from projections.trends import rebuild as trends_rebuild

GOAL = 20_000
ZONE = "America/New_York"
NOW = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
EVENTS_PER_REPORT = 1.69  # what the demo mix produces


def raw_scan(database: Database) -> tuple[float, float, int]:
    app = runner.ProjectedCourtwatch(env=database.eventsourcing_env(pool_size=1))
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        count, start = 0, 1
        while page := app.recorder.select_notifications(start=start, limit=10_000):
            for notification in page:
                app.mapper.to_domain_event(notification)
            count += len(page)
            start = page[-1].id + 1
        return time.perf_counter() - started, time.process_time() - cpu, count
    finally:
        app.close()


def one_projection(
    database: Database, spec: runner.ProjectionSpec, head: int
) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of this process (the runner's threads; not PostgreSQL's)."""
    runner.drop_views(database, [spec])
    cpu = time.process_time()
    started = time.perf_counter()
    if spec is runner.TREND_SPEC:  # as `project --rebuild` does
        trends_rebuild.rebuild(database, ZONE)
    running = runner.start(database, [spec])
    try:
        runner.wait_caught_up(database, running, [spec], timeout=3600)
        return time.perf_counter() - started, time.process_time() - cpu
    finally:
        running.stop()


def whole_command(database: Database) -> float:
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "COURTWATCH_DATA_DIR": tempfile.mkdtemp(prefix="courtwatch-bench-data-"),
        "COURTWATCH_LOG_LEVEL": "WARNING",
        "COURTWATCH_TIMEZONE": ZONE,
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "courtwatch", "project", "--rebuild", "--exit-when-caught-up"],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=35_000)
    args = parser.parse_args()
    database = fresh_database("courtwatch_bench_rebuild")
    app = Courtwatch(env=database.eventsourcing_env())
    made = demo.generate(
        app, reports=int(args.events / EVENTS_PER_REPORT), now=NOW, days=730,
        zone=ZoneInfo(ZONE), seed=2026,
    )  # fmt: skip
    app.close()
    head = event_log.head(database)
    print(f"log: {made.events:,} events from {made.reports:,} reports (head {head:,})")

    # The machine is shared: the load says how far wall-clock figures can be trusted.
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    scan_time, scan_cpu, scanned = raw_scan(database)
    floor = scanned / scan_time
    print(f"floor: raw scan + decoding of {scanned:,} events in {scan_time:.2f} s "
          f"= {floor:,.0f} events/s ({scanned / scan_cpu:,.0f} per CPU-second)")  # fmt: skip
    print(f"{'projection':<14} {'seconds':>8} {'events/s':>10} {'x floor':>8} "
          f"{'CPU s':>7} {'events/CPU-s':>13}  goal")  # fmt: skip
    for spec in runner.all_projections():
        if not spec.rebuildable:
            continue
        seconds, cpu = one_projection(database, spec, head)
        rate = head / seconds
        print(f"{spec.projection.name:<14} {seconds:>8.2f} {rate:>10,.0f} {rate / floor:>8.2f} "
              f"{cpu:>7.2f} {head / cpu:>13,.0f}  "
              f"{'met' if rate >= GOAL else 'NOT met'} (>= {GOAL:,})")  # fmt: skip
    # The alert outbox is never rebuilt (runner.ALERTS_SPEC): a deployment has it
    # caught up before any `--rebuild`. Bring it there first, or the command
    # below would wait for its first pass over the backlog.
    seconds, cpu = one_projection(database, runner.ALERTS_SPEC, head)
    print(f"{'(alerts, first pass; never rebuilt)':<14} {seconds:.2f} s, {head / seconds:,.0f} "
          f"events/s, {cpu:.2f} CPU s")  # fmt: skip
    seconds = whole_command(database)
    print(f"`courtwatch project --rebuild --exit-when-caught-up` (all, one process, start-up "
          f"included): {seconds:.1f} s = {head / seconds:,.0f} events/s, "
          f"{head / seconds / floor:.2f} x floor")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
