"""`courtwatch jurisdictions`: each courthouse's county and detainer policy; record a policy.

For coordinators working from a terminal (or a script filling in many counties
from a published list); the web form on /jurisdictions/{fips} does the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime

from courtwatch.cli import arguments, command
from courtwatch.cli.bootstrap import bootstrap
from courtwatch.domain.errors import InvalidField
from courtwatch.infrastructure.config import Settings
from courtwatch.jurisdictions.places import place_of
from courtwatch.jurisdictions.policies import DetainerPolicy
from courtwatch.jurisdictions.service import correct_policy, load_policies, record_policy
from projections.jurisdictions.reader import policy_book


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="one JSON line per courthouse: its city, county and the policy in force",
        description="Print one JSON object per courthouse: code, city, county (FIPS, name) "
        "and the detainer policy in force on --on (default: today).",
    )
    listing.add_argument("--on", metavar="YYYY-MM-DD", help="the day (default: today)")
    record = actions.add_parser(
        "record",
        help="record a county's detainer policy (or correct an entry)",
        description="Record a county's detainer policy with its public https source and the "
        "date it took effect. With --corrects N, the new entry replaces entry N (both stay "
        "in the history).",
    )
    record.add_argument("fips", help="the county's five-digit FIPS code, e.g. 36061")
    record.add_argument("--policy", required=True, choices=[p.value for p in DetainerPolicy])
    record.add_argument("--source", required=True, metavar="URL", help="an https:// link")
    record.add_argument("--effective-on", required=True, metavar="YYYY-MM-DD")
    record.add_argument("--by", required=True, metavar="NAME", help="who records it")
    record.add_argument("--corrects", type=int, metavar="N", help="the entry this replaces")


@command("jurisdictions", help="list courthouses' counties and policies, or record a policy")
@arguments(_configure)
def jurisdictions(args: argparse.Namespace, settings: Settings) -> int:
    today = datetime.now(settings.zone).date()
    services = bootstrap(settings)
    try:
        if args.action == "list":
            try:
                day = date.fromisoformat(args.on) if args.on else today
            except ValueError:
                print("courtwatch jurisdictions list: --on takes YYYY-MM-DD", file=sys.stderr)
                return 2
            book = policy_book(services.app)
            for courthouse in services.app.courthouses():
                place = place_of(courthouse)
                fips = None if place.county is None else place.county.fips
                print(json.dumps({**place.as_dict(), "policy": book.policy_on(fips, day)}))
            return 0
        fields = {
            "policy": args.policy,
            "source_url": args.source,
            "effective_on": args.effective_on,
            "member": args.by,
        }
        try:
            if args.corrects is None:
                entry = record_policy(services.app, today=today, fips=args.fips, **fields)
            else:
                wrong = load_policies(services.app).check_correctable(args.corrects)
                if wrong["fips"] != args.fips:
                    raise InvalidField("corrects", f"entry {args.corrects} is of {wrong['fips']}")
                entry = correct_policy(services.app, today=today, entry=args.corrects, **fields)
        except InvalidField as refused:
            print(f"courtwatch jurisdictions record: {refused}", file=sys.stderr)
            return 1
        print(f"recorded entry {entry}")
        return 0
    finally:
        services.close()
