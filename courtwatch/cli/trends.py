"""`courtwatch summarize` publishes period summaries; `courtwatch demo` fills a log with examples."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tqdm import tqdm

from courtwatch import demo
from courtwatch.cli import arguments, command
from courtwatch.cli.bootstrap import bootstrap, connect_database
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from projections import runner
from projections.trends import periods, publishing, summaries


def _summarize_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", choices=periods.PERIOD_KINDS, default="week")
    parser.add_argument(
        "--at", metavar="KEY",
        help="which one: 2026-11-23, 2026-W47 or 2026-11 (default: the last one that has ended)",
    )  # fmt: skip
    parser.add_argument("--courthouse", metavar="CODE", help="summarize one courthouse only")
    parser.add_argument(
        "--all-courthouses", action="store_true",
        help="also publish a summary for every courthouse with activity in the period",
    )  # fmt: skip
    parser.add_argument(
        "--every", type=float, metavar="SECONDS",
        help="keep running: every SECONDS publish recent days, weeks and months (revising them "
        "when late reports arrive)",
    )  # fmt: skip
    parser.add_argument(
        "--wait", type=float, default=60.0, metavar="SECONDS",
        help="wait this long for the trend projection (`courtwatch project`) to catch up",
    )  # fmt: skip


def _wait_for_projection(database: Database, seconds: float) -> int:
    """Seconds of patience for `courtwatch project`; returns how many events it still lags."""
    deadline = time.monotonic() + seconds
    while True:
        position = runner.position_of(database, runner.TREND_SPEC)
        behind = event_log.count_after(database, position, runner.TREND_SPEC.projection.topics)
        if behind == 0 or time.monotonic() >= deadline:
            return behind
        time.sleep(0.5)


def _report(outcome: publishing.Outcome) -> str:
    s = outcome.summary
    scope = f" at {s.courthouse}" if s.courthouse else ""
    covers = s.body["covers"]
    if not outcome.changed:
        return f"unchanged: {s.period} {s.key}{scope} (revision {s.revision}, #{s.id})"
    revises = f", supersedes #{s.supersedes}" if s.supersedes else ""
    return (
        f"published {s.period} {s.key}{scope}: revision {s.revision} (#{s.id}{revises}), "
        f"covers events up to position {covers['position']}"
    )


@command("summarize", help="publish a day, week or month summary (for cron), or keep publishing")
@arguments(_summarize_args)
def summarize(args: argparse.Namespace, settings: Settings) -> int:
    database = connect_database(settings)
    publishing.install(database)
    zone = summaries.trend_zone(database, settings.timezone)
    behind = _wait_for_projection(database, args.wait)
    if behind:
        print(f"warning: the trend projection is {behind} events behind; is `courtwatch project` "
              "running? Publishing what it has processed.", file=sys.stderr)  # fmt: skip
    if args.every:
        return _keep_publishing(database, zone, args.every)
    try:
        period = (
            periods.parse(args.period, args.at)
            if args.at
            else periods.last_complete(args.period, datetime.now(UTC), ZoneInfo(zone))
        )
    except periods.BadPeriod as error:
        print(f"courtwatch summarize: {error}", file=sys.stderr)
        return 2
    scopes = [args.courthouse]
    if args.all_courthouses:
        scopes += summaries.active_courthouses(database, period)
    for courthouse in scopes:
        print(_report(publishing.publish(database, period, zone=zone, courthouse=courthouse)))
    return 0


def _keep_publishing(database: Database, zone: str, every: float) -> int:
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    while not stopping.is_set():
        for outcome in publishing.publish_due(database, zone=zone, now=datetime.now(UTC)):
            if outcome.changed:
                print(_report(outcome), flush=True)
        stopping.wait(every)
    return 0


def _demo_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reports", type=int, default=1000, help="how many reports (default 1000)")
    parser.add_argument("--days", type=int, default=120, help="spread over this many past days")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same history")


@command("demo", help="add a realistic demo history of reports across the immigration courts")
@arguments(_demo_args)
def make_demo(args: argparse.Namespace, settings: Settings) -> int:
    services = bootstrap(settings)
    try:
        with tqdm(total=args.reports, unit="report", desc="demo reports") as bar:
            made = demo.generate(
                services.app, reports=args.reports, now=datetime.now(UTC), days=args.days,
                zone=settings.zone, seed=args.seed, progress=bar.update,
            )  # fmt: skip
        print(f"added {made.reports} demo reports ({made.events} events); "
              "run `courtwatch project` to bring the views up to date")  # fmt: skip
        return 0
    finally:
        services.close()
