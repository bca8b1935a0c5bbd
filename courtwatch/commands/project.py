"""`courtwatch project`: run the projections as their own process."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime

from tqdm import tqdm

from courtwatch import publishing
from courtwatch.audit_log import CheckpointScheduler, SigningKeyUnavailable, check_signing_key
from courtwatch.bootstrap import bootstrap
from courtwatch.cli import arguments, command
from courtwatch.config import Settings
from courtwatch.database import Database
from courtwatch.periodic import Periodic
from courtwatch.summaries import trend_zone
from projections import runner, trends_rebuild

log = logging.getLogger("courtwatch.project")


def summary_publisher(database: Database, settings: Settings) -> Periodic:
    """Publish (or revise) recent days, weeks and months every summary interval."""
    publishing.install(database)

    def publish() -> None:
        zone = trend_zone(database, settings.timezone)
        changed = [
            o
            for o in publishing.publish_due(database, zone=zone, now=datetime.now(UTC))
            if o.changed
        ]
        if changed:
            log.info("summaries published", extra={"count": len(changed)})

    return Periodic("summaries", settings.summary_interval_seconds, publish)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="drop the views and replay the whole log into fresh ones (progress bar), then keep running",
    )
    parser.add_argument(
        "--exit-when-caught-up",
        action="store_true",
        help="stop once the views have processed the log as it stood at start (for scripts)",
    )


@command("project", help="run the projections (live map, audit log, trends) as their own process")
@arguments(_configure)
def project(args: argparse.Namespace, settings: Settings) -> int:
    services = bootstrap(settings)
    database = services.database
    try:
        check_signing_key(database, settings)  # this process signs checkpoints
    except SigningKeyUnavailable as e:
        services.close()
        print(f"courtwatch: {e}", file=sys.stderr)
        return 1
    specs = runner.all_projections()
    if args.rebuild:
        runner.drop_views(database, specs)
        log.info("views dropped for rebuild")
        # The trend tables rebuild in large batches (same handlers), ~20x faster
        # than one transaction per event; the runner then carries on from there.
        with tqdm(unit="event", desc="rebuilding trend tables") as bar:
            trends_rebuild.rebuild(database, settings.timezone, progress=bar.update)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    running = runner.start(database, specs)
    checkpoints = CheckpointScheduler(database, settings).start()  # signs on a schedule
    summaries = summary_publisher(database, settings).start()
    try:
        if args.rebuild or args.exit_when_caught_up:
            target = runner.log_head(database)
            with tqdm(total=target, unit="event", desc="replaying the log") as bar:

                def show(done: int, _: int) -> None:
                    bar.update(max(0, done - bar.n))

                runner.wait_caught_up(database, running, specs, progress=show)
                bar.update(target - bar.n)
            log.info("projections caught up", extra={"position": target})
            if args.exit_when_caught_up:
                return 0
        print("projections running; Ctrl-C to stop", flush=True)
        while not stopping.wait(1.0):
            running.check()
        return 0
    finally:
        summaries.stop()
        checkpoints.stop()
        running.stop()
        services.close()
