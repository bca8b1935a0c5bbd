"""`courtwatch import FILE.csv --mapping MAP.toml`: historical records into the log (docs/import.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from courtwatch.cli import arguments, command
from courtwatch.cli.bootstrap import bootstrap, shutdown
from courtwatch.importing.importer import BATCH_ROWS, Importer
from courtwatch.importing.mapping import MappingError, load_mapping
from courtwatch.infrastructure.config import Settings


def _import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="the spreadsheet, as CSV")
    parser.add_argument(
        "--mapping", type=Path, required=True, metavar="MAP.toml",
        help="which column is which report field (docs/import-example.toml)",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run", action="store_true",
        help="check every row and say what would be added; store nothing",
    )  # fmt: skip
    parser.add_argument(
        "--rejected", type=Path, metavar="PATH",
        help="where to write rejected rows with reasons (default: FILE.rejected.csv)",
    )  # fmt: skip
    parser.add_argument(
        "--batch", type=int, default=BATCH_ROWS, metavar="ROWS",
        help=f"rows stored per transaction (default {BATCH_ROWS}, at most 400)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help="processes preparing rows (default: one per core; 1: none, all in this process)",
    )  # fmt: skip


def _line_count(path: Path) -> int | None:
    try:
        with path.open("rb") as handle:
            return max(
                0, sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1
            )
    except OSError:
        return None


@command("import", help="import historical court-watch records from a CSV file, with a mapping")
@arguments(_import_args)
def import_records(args: argparse.Namespace, settings: Settings) -> int:
    if not 1 <= args.batch <= 400:
        print("courtwatch import: --batch must be between 1 and 400", file=sys.stderr)
        return 2
    if args.workers is not None and not 1 <= args.workers <= 32:
        print("courtwatch import: --workers must be between 1 and 32", file=sys.stderr)
        return 2
    try:
        mapping = load_mapping(args.mapping)
    except MappingError as error:
        print(f"courtwatch import: {args.mapping}: {error}", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"courtwatch import: no such file: {args.file}", file=sys.stderr)
        return 2
    rejected = args.rejected or args.file.with_name(args.file.stem + ".rejected.csv")
    services = bootstrap(settings)
    try:
        importer = Importer(
            services.app, services.database, mapping, settings.zone, args.batch, args.workers
        )
        # The bar goes to stderr: stdout keeps the one summary line for scripts.
        with tqdm(total=_line_count(args.file), unit="row", desc="import", file=sys.stderr) as bar:
            result = importer.run(args.file, rejected, dry_run=args.dry_run, progress=bar.update)
    except MappingError as error:
        print(f"courtwatch import: {error}", file=sys.stderr)
        return 2
    finally:
        shutdown(services)
    print(("dry run, nothing stored: " if args.dry_run else "") + result.summary())
    if result.rejected:
        print(f"rejected rows and reasons: {rejected}")
    return 0
