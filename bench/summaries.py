"""How long a weekly summary takes with a million events in the log, from the trend
tables versus the same aggregation as a full scan of the event table.

    .venv/bin/python bench/summaries.py [--events 1000000]

Starts its own embedded PostgreSQL in a temporary folder (or uses DATABASE_URL),
generates a demo history of about --events events over two years, builds the
trend tables with the batched rebuild (projections/trends_rebuild.py), then times:
  * the summary of one ISO week computed from the trend tables (courtwatch.summaries),
  * the same figures computed by reading every event, decoding it, folding each
    report and counting (the independent path the equality test uses),
  * and, as a floor for any full scan, one SQL pass over the event table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tqdm import tqdm

from courtwatch import demo
from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import (
    Database,
    ensure_database_exists,
    start_embedded_server,
)
from projections.trends import periods, summaries
from projections.trends import rebuild as trends_rebuild
from tests.trends.test_summaries_equal_the_log import final_states, reference

ZONE = "America/New_York"
NOW = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
EVENTS_PER_REPORT = 1.69  # what the demo mix produces


def timed(work, repeat: int = 1):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    database = (
        Database.from_url(args.database_url)
        if args.database_url
        else start_embedded_server(Path(tempfile.mkdtemp(prefix="cw-bench-")))
    ).with_dbname("courtwatch_bench_summaries")
    ensure_database_exists(database)
    app = Courtwatch(env=database.eventsourcing_env())

    reports = int(args.events / EVENTS_PER_REPORT)
    with tqdm(total=reports, unit="report", desc="generating") as bar:
        made_time, made = timed(lambda: demo.generate(
            app, reports=reports, now=NOW, days=730, zone=ZoneInfo(ZONE), seed=2026,
            progress=bar.update))  # fmt: skip
    print(f"log: {made.events:,} events from {made.reports:,} reports in {made_time:.0f} s "
          f"({made.events / made_time:,.0f} events/s)")  # fmt: skip

    with tqdm(total=made.events, unit="event", desc="trend tables") as bar:
        build_time, _ = timed(lambda: trends_rebuild.rebuild(database, ZONE, progress=bar.update))
    print(f"trend tables built in {build_time:.0f} s ({made.events / build_time:,.0f} events/s)")

    week = periods.last_complete("week", NOW, ZoneInfo(ZONE))
    summary_time, summary = timed(lambda: summaries.compute(database, week, zone=ZONE), repeat=7)
    busiest = summary["figures"]["courthouses"][0]["code"]
    one_time, _ = timed(
        lambda: summaries.compute(database, week, zone=ZONE, courthouse=busiest), repeat=7
    )

    def full_scan():  # type: ignore[no-untyped-def]
        return reference(final_states(app), week, None)

    scan_time, scanned = timed(full_scan)
    assert scanned == summary["figures"], "the full scan and the trend tables disagree"

    def sql_pass() -> None:
        with database.connect() as conn:
            conn.execute("SELECT count(*), sum(length(state)) FROM courtwatch_events").fetchone()

    sql_time, _ = timed(sql_pass, repeat=3)
    with database.connect() as conn:
        cells = conn.execute("SELECT count(*) FROM trend_counts").fetchone()[0]  # type: ignore[index]

    print()
    print(f"| weekly summary {week.key}, {made.events:,} events in the log | time |")
    print("| --- | --- |")
    print(f"| from the trend tables ({cells:,} cells), overall | {summary_time * 1000:.1f} ms |")
    print(f"| from the trend tables, one courthouse | {one_time * 1000:.1f} ms |")
    print(f"| full scan: read, decode and fold every event, then count | {scan_time:.1f} s |")
    print(f"| one SQL pass over the event table (no decoding: a floor) | {sql_time:.2f} s |")
    print(f"\nfull scan / trend tables: {scan_time / summary_time:,.0f}x; figures identical")
    app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
