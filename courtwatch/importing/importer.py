"""Importing a program's historical court-watch records (`courtwatch import`).

Every row goes through the same intake and domain checks as a report sent from
a phone (Courtwatch.prepare_import) and is stored as the same Submitted event,
followed by a nested Imported event naming the source file's SHA-256 and the
row's line.

Idempotence: a row's report id is a UUIDv5 of its *normalised* content (the
validated submission: kind, place, time as UTC, details) and of how many
identical rows came before it in the file. Re-running a file, or a later
export of the same spreadsheet with rows added or reordered, adds only rows
not stored yet; two identical rows in one file (two people arrested at once,
written on two lines) stay two reports.

Batches of rows are saved in one transaction each (one save(): eventsourcing
locks the events table, so every event gets its position in commit order, as
for any other writer).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from courtwatch.application import Courtwatch
from courtwatch.domain import pipeline
from courtwatch.domain.reports import Report
from courtwatch.importing.mapping import ImportMapping, MappingError
from courtwatch.importing.rows import RowReader, RowRejected
from courtwatch.importing.table import RejectedRows, Row, Source, Table, read_source
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.database import Database
from courtwatch.intake import ValidationFailed, details_of

log = logging.getLogger("courtwatch.importing")

# Imported reports' ids: uuid5(IMPORTED_REPORTS, row key). Fixed forever: a
# new namespace would import every file a second time.
IMPORTED_REPORTS = UUID("0b6c1d2e-5f3a-4e8b-9c7d-2a1b3c4d5e6f")
# Rows per transaction: two events each, well under the ~1,000 events (450 KB)
# at which one save() hangs in psycopg's pipeline mode (STACK_NOTES.md).
BATCH_ROWS = 250


@dataclass
class ImportResult:
    source_sha256: str
    rows: int = 0  # rows with content (blank lines aside)
    added: int = 0
    already_stored: int = 0
    rejected: int = 0
    dry_run: bool = False
    ignored_columns: tuple[str, ...] = ()

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        return (
            f"{self.rows} rows: {verb} {self.added}, {self.already_stored} already stored, "
            f"{self.rejected} rejected (source sha256 {self.source_sha256})"
        )


def row_key(submission: Any) -> str:
    """SHA-256 of a validated submission in one canonical form: the same report
    typed as "ICE" or "ice", at 10:00-05:00 or 15:00Z, gives the same key."""
    content = {
        "kind": submission.kind,
        "courthouse_code": submission.courthouse_code,
        "lat": submission.lat,
        "lon": submission.lon,
        "observed_at": submission.observed_at.astimezone(UTC).isoformat(),
        # Fields added to reports later are left out while "not recorded", so
        # a file imported before they existed keeps its keys (and is not added twice).
        "details": pipeline.unrecorded_dropped(details_of(submission)),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def imported_report_id(key: str, occurrence: int) -> UUID:
    return uuid5(IMPORTED_REPORTS, f"{key}#{occurrence}")


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        return "; ".join(f"{p.field}: {p.reason}" for p in error.problems)
    return str(error)


class Importer:
    def __init__(
        self,
        app: Courtwatch,
        database: Database,
        mapping: ImportMapping,
        default_zone: ZoneInfo,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self.app = app
        self.database = database
        self.mapping = mapping
        self.batch_rows = batch_rows
        # Every courthouse's zone now: the boundary data loads once, here, not
        # in the middle of the rows (courtwatch/timezones.py).
        zones = {c.code: c.zone for c in app.courthouses()}
        self.reader = RowReader(mapping, zones.get, default_zone)

    def run(
        self,
        path: Path,
        rejected_path: Path,
        *,
        dry_run: bool = False,
        progress: Callable[[int], object] = lambda n: None,
    ) -> ImportResult:
        source = read_source(path, self.mapping.encoding)
        table = Table(source.text, self.mapping.delimiter)
        columns = self.mapping.mapped_columns()
        if not table.header:
            raise MappingError(f"{path}: no header row")
        missing = table.missing(columns)
        if missing:
            raise MappingError(f"column {missing[0]!r} of the mapping is not in the file's header")
        duplicated = sorted(set(table.duplicated()) & set(columns))
        if duplicated:
            raise MappingError(f"column {duplicated[0]!r} appears twice in the header")
        ignored = tuple(c for c in table.header if c not in columns)
        unlisted = [c for c in ignored if c not in self.mapping.ignored]
        result = ImportResult(source.sha256, dry_run=dry_run, ignored_columns=ignored)
        started, cpu_started = time.perf_counter(), time.process_time()
        self._author_token = self.app.import_token()
        log.info(
            "import started",
            extra={"source_sha256": source.sha256, "dry_run": dry_run,
                   "mapped_columns": columns, "ignored_columns": list(ignored),
                   "not_in_mapping": unlisted},
        )  # fmt: skip
        rejected = RejectedRows(rejected_path, columns)
        # One writer thread stores batch N while this one reads batch N+1: the
        # database works in its own process meanwhile. One writer, batches in
        # file order, each one transaction: positions follow the file.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
            storing: Future[None] | None = None
            try:
                for batch in self._batches(source, table.rows(columns), rejected, result, progress):
                    if storing is not None:
                        storing.result()  # an error stops the import here
                    storing = writer.submit(self._store, batch, result, dry_run)
                if storing is not None:
                    storing.result()
            finally:
                rejected.close()
        result.rejected = rejected.count
        log.info(
            "import finished",
            extra={"source_sha256": source.sha256, "dry_run": dry_run, "rows": result.rows,
                   "added": result.added, "already_stored": result.already_stored,
                   "rejected": result.rejected,
                   "seconds": round(time.perf_counter() - started, 3),
                   # This process only (PostgreSQL works in its own): on a
                   # busy machine the rate per CPU second says more.
                   "cpu_seconds": round(time.process_time() - cpu_started, 3)},
        )  # fmt: skip
        return result

    def _batches(
        self,
        source: Source,
        rows: Iterator[Row],
        rejected: RejectedRows,
        result: ImportResult,
        progress: Callable[[int], object],
    ) -> Iterator[list[Report]]:
        seen: Counter[str] = Counter()
        batch: list[Report] = []
        for row in rows:
            result.rows += 1
            progress(1)
            report = self._report(source, row, seen, rejected)
            if report is not None:
                batch.append(report)
            if len(batch) >= self.batch_rows:
                yield batch
                batch = []
        if batch:
            yield batch

    def _report(
        self, source: Source, row: Row, seen: Counter[str], rejected: RejectedRows
    ) -> Report | None:
        if row.problem is not None:
            rejected.add(row, row.problem)
            return None
        keys: list[str] = []

        def id_of(submission: Any) -> UUID:
            keys.append(row_key(submission))
            return imported_report_id(keys[0], seen[keys[0]] + 1)

        try:
            payload = self.reader.payload(row.cells)
            report = self.app.prepare_import(
                payload, id_of, source.sha256, row.line, self._author_token
            )
            # Counted once the row is accepted: a rejected row shifts no other row's id.
            seen[keys[0]] += 1
            return report
        except (RowRejected, ValidationFailed) as error:
            rejected.add(row, _reason(error))
            return None
        except OverflowError:
            # Year 1 or 9999 moved by a UTC offset (the row's key, a shift's
            # next day): the domain would refuse the time anyway.
            rejected.add(row, "a time too close to year 1 or 9999")
            return None

    def _store(self, batch: list[Report], result: ImportResult, dry_run: bool) -> None:
        stored = event_log.stored_originators(self.database, [r.id for r in batch])
        new = [r for r in batch if r.id not in stored]
        result.already_stored += len(batch) - len(new)
        if dry_run:
            result.added += len(new)
            return
        for outcome in self.app.store_imports(new):
            if outcome.created:
                result.added += 1
            else:
                result.already_stored += 1
