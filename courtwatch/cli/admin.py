"""Administration: courthouses, the database. (Team members: courtwatch/cli/members.py.)"""

from __future__ import annotations

import argparse
import json
import sys

from courtwatch.cli import arguments, command
from courtwatch.cli.bootstrap import bootstrap, connect_database
from courtwatch.infrastructure.config import Settings
from courtwatch.intake import ValidationFailed


def _courthouse_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "add"])
    parser.add_argument("--code", help="short unique code, e.g. BKLYN-CRIM")
    parser.add_argument("--name", help="e.g. 'Brooklyn Criminal Court'")
    parser.add_argument(
        "--kind", default="criminal", help="criminal, family, county, civil, federal, other"
    )
    parser.add_argument("--street", default="")
    parser.add_argument("--city", default="")
    parser.add_argument("--state", default="")
    parser.add_argument("--lat", type=float)
    parser.add_argument("--lon", type=float)


@command("courthouses", help="list courthouses, or add a local one (criminal, family, county...)")
@arguments(_courthouse_args)
def courthouses(args: argparse.Namespace, settings: Settings) -> int:
    services = bootstrap(settings)
    try:
        if args.action == "list":
            for c in services.app.courthouses():
                print(json.dumps(c.as_dict()))
            return 0
        missing = [n for n in ("code", "name", "lat", "lon") if getattr(args, n) is None]
        if missing:
            print(f"courtwatch courthouses add: missing --{', --'.join(missing)}", file=sys.stderr)
            return 2
        try:
            services.app.add_courthouse(
                {
                    "code": args.code.upper(),
                    "name": args.name,
                    "kind": args.kind,
                    "street": args.street,
                    "city": args.city,
                    "state": args.state.upper(),
                    "zip": "",
                    "lat": args.lat,
                    "lon": args.lon,
                }
            )
        except (ValidationFailed, ValueError) as error:
            print(f"courtwatch courthouses add: {error}", file=sys.stderr)
            return 1
        print(f"added {args.code.upper()}")
        return 0
    finally:
        services.close()


@command(
    "db", help="print the database URL courtwatch uses (starting the embedded server if needed)"
)
def db(args: argparse.Namespace, settings: Settings) -> int:
    print(connect_database(settings).url)
    return 0
