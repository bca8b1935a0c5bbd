"""`courtwatch parked`: list the events a projection parked, and retry them after a fix.

A projection parks an event its handler cannot process (projections/parking.py)
and goes on with later ones. Once the cause is fixed (a code fix deployed, say),
`courtwatch parked retry` re-runs the handler for each parked event, oldest
first per report, and removes the ones that now succeed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from courtwatch.cli import arguments, command
from courtwatch.cli.bootstrap import connect_database
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import stop_embedded_server
from projections import runner


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="show parked events with their error",
        description="Show the events each projection parked, oldest first, with their error.",
    )
    retry = actions.add_parser(
        "retry",
        help="re-run the handler for parked events; remove those that now succeed",
        description="Re-run the projection's handler for parked events, each report's oldest "
        "first, in one transaction per report. An event that succeeds leaves the list; one "
        "that fails again stays, with its report's later events behind it. Safe to run while "
        "the projections run.",
    )
    for sub in (listing, retry):
        sub.add_argument(
            "--projection",
            choices=[spec.projection.name for spec in runner.parking_projections()],
            help="only this projection (default: all that park)",
        )
        sub.add_argument(
            "--id",
            type=int,
            metavar="N",
            help="only the event at position N (a retry takes its report's earlier parked events too)",
        )
    listing.add_argument("--json", action="store_true", help="one JSON object per line")


@command("parked", help="list or retry events the projections could not process")
@arguments(_configure)
def parked(args: argparse.Namespace, settings: Settings) -> int:
    database = connect_database(settings)
    try:
        specs = [
            spec
            for spec in runner.parking_projections()
            if args.projection in (None, spec.projection.name)
        ]
        if args.action == "list":
            return _list(database, specs, args)
        return _retry(database, specs, args)
    finally:
        if settings.database_url is None:
            stop_embedded_server(settings.data_dir)  # stops only if no other process uses it


def _list(database: Any, specs: list[runner.ProjectionSpec], args: argparse.Namespace) -> int:
    rows = [row for spec in specs for row in runner.parked_events(database, spec, args.id)]
    for row in rows:
        if args.json:
            print(
                json.dumps(
                    {
                        "projection": row.projection,
                        "position": row.notification_id,
                        "report": str(row.originator_id),
                        "version": row.originator_version,
                        "topic": row.topic,
                        "error": row.error,
                        "blocked_by": row.blocked_by,
                        "parked_at": row.parked_at.isoformat(),
                        "retried_at": row.retried_at.isoformat() if row.retried_at else None,
                        "attempts": row.attempts,
                    }
                )
            )
        else:
            print(
                f"{row.projection}\t{row.notification_id}\t{row.originator_id} "
                f"v{row.originator_version}\t{row.topic.rsplit(':', 1)[-1]}\t"
                f"parked {row.parked_at:%Y-%m-%d %H:%M:%S}\t{row.error}"
            )
    if not args.json:
        print(f"{len(rows)} parked event(s)", file=sys.stderr)
    return 0


def _retry(database: Any, specs: list[runner.ProjectionSpec], args: argparse.Namespace) -> int:
    if args.id is not None and not any(
        runner.parked_events(database, spec, args.id) for spec in specs
    ):
        print(f"courtwatch: no parked event at position {args.id}", file=sys.stderr)
        return 1
    retried = failed = 0
    for spec in specs:
        for outcome in runner.retry_parked(database, spec, args.id):
            name = spec.projection.name
            if outcome.retried:
                retried += 1
                print(f"{name}\t{outcome.notification_id}\tretried")
            else:
                failed += 1
                print(f"{name}\t{outcome.notification_id}\tstill parked: {outcome.error}")
    print(f"{retried} retried, {failed} still parked", file=sys.stderr)
    return 0 if failed == 0 else 1
