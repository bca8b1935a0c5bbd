"""`courtwatch project`: run the projections as their own process."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from tqdm import tqdm

from courtwatch.cli import arguments, command
from courtwatch.cli.bootstrap import background, bootstrap, shutdown
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.config import Settings
from projections import runner
from projections.transparency_log.store import SigningKeyUnavailable, check_signing_key
from projections.trends import rebuild as trends_rebuild

log = logging.getLogger("courtwatch.project")


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
        shutdown(services)
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
    # The same background work `serve` runs: supervised projections, signed
    # checkpoints and summary publication.
    work = background(services).start()
    try:
        if args.rebuild or args.exit_when_caught_up:
            assert work.supervisor is not None
            target = event_log.head(database)
            with tqdm(total=target, unit="event", desc="replaying the log") as bar:

                def show(done: int, _: int) -> None:
                    bar.update(max(0, done - bar.n))

                runner.wait_caught_up(database, work.supervisor, specs, progress=show)
                bar.update(target - bar.n)
            log.info("projections caught up", extra={"position": target})
            if args.exit_when_caught_up:
                return 0
        print("projections running; Ctrl-C to stop", flush=True)
        while not stopping.wait(1.0):  # a timeout keeps signal handlers prompt
            pass
        return 0
    finally:
        work.stop()
        shutdown(services)
