"""The transparency log's commands: verify, audit, checkpoint, public-key, log-key, export.

Imports of anything that touches the database happen inside the handlers:
``courtwatch verify`` runs on a lawyer's laptop with no database at all.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from uuid import UUID

from courtwatch.cli import arguments, command
from courtwatch.infrastructure.config import Settings
from courtwatch.transparency import verify as bundle_verifier


@command("verify", help="check an evidence bundle offline (no database, no network)")
@arguments(bundle_verifier.add_arguments)
def verify(args: argparse.Namespace, settings: Settings) -> int:
    return bundle_verifier.run(args)


@command(
    "audit",
    help="recompute the transparency log from the stored events; "
    "exit 1 and name the first altered leaf if anything was tampered with",
)
def audit(args: argparse.Namespace, settings: Settings) -> int:
    from courtwatch.cli.bootstrap import connect_database
    from projections.transparency_log.auditor import audit as run_audit

    database = connect_database(settings)
    # The keys on record (and their rotation statements), not the key file: the
    # audit must also catch a key file that was swapped.
    report = run_audit(database, origin=settings.log_origin)
    print(report.render())
    return 0 if report.ok else 1


@command("checkpoint", help="sign and publish a checkpoint of the log now (if it grew)")
def checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    from courtwatch.cli.bootstrap import connect_database
    from projections.transparency_log.store import (
        LogInconsistent,
        SigningKeyUnavailable,
        publish_checkpoint,
    )

    try:
        published = publish_checkpoint(connect_database(settings), settings)
    except (LogInconsistent, SigningKeyUnavailable) as e:
        print(f"courtwatch: refusing to sign: {e}", file=sys.stderr)
        return 1
    if published is None:
        print("the log is empty: nothing to sign yet")
        return 0
    sys.stdout.write(published.note)
    return 0


@command("public-key", help="print the log's public key (create the signing key if needed)")
def print_public_key(args: argparse.Namespace, settings: Settings) -> int:
    from courtwatch.cli.bootstrap import connect_database
    from courtwatch.transparency.checkpoint import parse_vkey
    from projections.transparency_log.store import SigningKeyUnavailable, key_path, signing_key

    try:
        vkey = signing_key(connect_database(settings), settings).vkey
    except SigningKeyUnavailable as e:
        print(f"courtwatch: {e}", file=sys.stderr)
        return 1
    print(vkey)
    print(f"fingerprint: {parse_vkey(vkey).fingerprint()}", file=sys.stderr)
    print(f"private key: {key_path(settings)} (keep it secret; back it up)", file=sys.stderr)
    return 0


def _log_key_args(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser(
        "rotate",
        help="replace the signing key on purpose: the old key must be in place; "
        "records a statement signed by the old and the new key",
    )


@command("log-key", help="manage the log's signing key (rotate)")
@arguments(_log_key_args)
def log_key(args: argparse.Namespace, settings: Settings) -> int:
    from courtwatch.cli.bootstrap import connect_database
    from projections.transparency_log.keys import key_path, rotate
    from projections.transparency_log.store import SigningKeyUnavailable, ensure_schema

    database = connect_database(settings)
    ensure_schema(database)
    try:
        statement = rotate(database, settings)
    except (SigningKeyUnavailable, FileExistsError) as e:
        print(f"courtwatch: cannot rotate: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(statement)
    print(
        f"rotated: the new key is in {key_path(settings)}; back it up, and publish the "
        "statement above where you published the old key",
        file=sys.stderr,
    )
    return 0


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _export_args(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--report", type=UUID, help="the report id: its whole history")
    what.add_argument("--from", dest="since", type=_when, help="start of a time range (ISO 8601)")
    parser.add_argument("--to", dest="until", type=_when, help="end of the range (exclusive)")
    parser.add_argument("--out", required=True, help="the .zip file to write")
    parser.add_argument(
        "--lang",
        choices=("en", "es"),
        default="en",
        help="the language of the bundle's record.html (default: en)",
    )


@command("export", help="write an evidence bundle for a report or a time range")
@arguments(_export_args)
def export(args: argparse.Namespace, settings: Settings) -> int:
    from courtwatch.cli.bootstrap import bootstrap, shutdown
    from courtwatch.transparency.bundle import BundleError
    from projections.transparency_log.evidence import export_bundle
    from projections.transparency_log.store import (
        AwaitingCheckpoint,
        LogError,
        SigningKeyUnavailable,
    )
    from web.transparency.record import reading_aids

    # The whole composition root: record.html names courthouses from the gazetteer.
    services = bootstrap(settings)
    try:
        result = export_bundle(
            services.database,
            settings,
            args.out,
            report_id=args.report,
            since=args.since,
            until=args.until,
            progress=True,
            reading_aids=reading_aids(services.app.courthouses(), settings, args.lang),
        )
    except (LogError, BundleError, AwaitingCheckpoint, SigningKeyUnavailable) as e:
        print(f"courtwatch: {e}", file=sys.stderr)
        return 1
    finally:
        shutdown(services)
    print(f"wrote {args.out}: {result.events} event(s), checkpoint {result.checkpoint.tree_size}")
    if result.pending:
        print(f"{result.pending} newer event(s) are not in the log yet; export again later")
    return 0
