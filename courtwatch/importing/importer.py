"""Importing a program's historical court-watch records (`courtwatch import`).

Every row goes through the same intake and domain checks as a report sent from
a phone and is stored as the same Submitted event, followed by a nested
Imported event naming the source file's SHA-256 and the row's line
(Courtwatch.prepare_import_events builds the two events without the report
aggregate around them; tests/importing/test_fast_events.py holds them to
the bytes prepare_import's report would store).

Idempotence: a row's report id is a UUIDv5 of its *normalised* content (the
validated submission: kind, place, time as UTC, details) and of how many
identical rows came before it in the file. Re-running a file, or a later
export of the same spreadsheet with rows added or reordered, adds only rows
not stored yet; two identical rows in one file (two people arrested at once,
written on two lines) stay two reports.

Rows become stored events in worker processes (courtwatch/importing/workers.py:
that is where the CPU goes), chunk by chunk, back in file order; batches are
saved in one transaction each (one insert: eventsourcing locks the events
table, so every event gets its position in commit order, as for any other
writer), by one writer thread while the next chunks are prepared. Which
reports of a batch are stored already is asked in one query.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
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

import psycopg

from courtwatch.application import Courtwatch
from courtwatch.domain import pipeline
from courtwatch.domain.reports import hash_token
from courtwatch.importing import workers
from courtwatch.importing.mapping import ImportMapping, MappingError
from courtwatch.importing.rows import RowReader, RowRejected
from courtwatch.importing.table import RejectedRows, Row, Table, read_source
from courtwatch.importing.workers import ChunkPreparer, Outcome, Prepared
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


def default_workers() -> int:
    """One worker process per core this process may run on (1: none, rows are
    prepared in this process)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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


def row_key(submission: Any, details: dict[str, Any] | None = None) -> str:
    """SHA-256 of a validated submission in one canonical form: the same report
    typed as "ICE" or "ice", at 10:00-05:00 or 15:00Z, gives the same key.
    ``details``: the submission's details_of, when the caller has them already."""
    content = {
        "kind": submission.kind,
        "courthouse_code": submission.courthouse_code,
        "lat": submission.lat,
        "lon": submission.lon,
        "observed_at": submission.observed_at.astimezone(UTC).isoformat(),
        # Fields added to reports later are left out while "not recorded", so
        # a file imported before they existed keeps its keys (and is not added twice).
        "details": pipeline.unrecorded_dropped(
            details_of(submission) if details is None else details
        ),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def imported_report_id(key: str, occurrence: int) -> UUID:
    return uuid5(IMPORTED_REPORTS, f"{key}#{occurrence}")


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        return "; ".join(f"{p.field}: {p.reason}" for p in error.problems)
    return str(error)


def prepare_row(
    app: Courtwatch,
    reader: RowReader,
    source_sha256: str,
    author_token_hash: str,
    row: Row,
    occurrence_of: Callable[[str], int],
) -> Prepared | str:
    """One row as its report's stored events, with its content key and which
    identical row it is; or why it is rejected. ``occurrence_of(key)`` says
    which identical row this one would be (1 = the first of the file)."""
    if row.problem is not None:
        return row.problem
    found: list[tuple[str, int]] = []

    def id_of(submission: Any, details: dict[str, Any]) -> UUID:
        key = row_key(submission, details)
        found.append((key, occurrence_of(key)))
        return imported_report_id(*found[0])

    try:
        payload = reader.payload(row.cells)
        report_id, stored = app.prepare_import_events(
            payload, id_of, source_sha256, row.line, author_token_hash
        )
    except (RowRejected, ValidationFailed) as error:
        return _reason(error)
    except OverflowError:
        # Year 1 or 9999 moved by a UTC offset (the row's key, a shift's
        # next day): the domain would refuse the time anyway.
        return "a time too close to year 1 or 9999"
    events = tuple((e.originator_version, e.topic, e.state) for e in stored)
    return Prepared(report_id, *found[0], events)


class Importer:
    def __init__(
        self,
        app: Courtwatch,
        database: Database,
        mapping: ImportMapping,
        default_zone: ZoneInfo,
        batch_rows: int = BATCH_ROWS,
        workers: int | None = None,
    ) -> None:
        self.app = app
        self.database = database
        self.mapping = mapping
        self.batch_rows = batch_rows
        self.workers = default_workers() if workers is None else workers
        self.default_zone = default_zone
        # Every courthouse's zone now: the boundary data loads once, here, not
        # in the middle of the rows (courtwatch/timezones.py).
        self.courthouses = app.courthouses()
        self.zones = {c.code: c.zone for c in self.courthouses}
        self.reader = RowReader(mapping, self.zones.get, default_zone)
        self._lookup: psycopg.Connection | None = None

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
        author_token = self.app.import_token()
        log.info(
            "import started",
            extra={"source_sha256": source.sha256, "dry_run": dry_run,
                   "mapped_columns": columns, "ignored_columns": list(ignored),
                   "not_in_mapping": unlisted},
        )  # fmt: skip
        here = ChunkPreparer(
            self.app, self.reader, source.sha256, hash_token(author_token), prepare_row
        )
        rejected = RejectedRows(rejected_path, columns)
        pool: workers.WorkerPool | None = None
        # The writer's one connection for "which are stored already?", kept
        # for the run (autocommit: no transaction left open between batches).
        self._lookup = self.database.connect(autocommit=True) if self.database is not None else None
        # One writer thread stores batch N while this one reads batch N+1: the
        # database works in its own process meanwhile. One writer, batches in
        # file order, each one transaction: positions follow the file.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
            storing: Future[None] | None = None
            try:
                chunks = self._chunks(table.rows(columns))
                first = next(chunks, None)
                second = next(chunks, None)
                if second is not None and self.workers > 1 and workers.can_fork():
                    # More than one chunk: worth the worker processes (~20 ms each).
                    pool = workers.WorkerPool(
                        self.workers, env=self.app.env, courthouses=self.courthouses,
                        mapping=self.mapping, zones=self.zones, default_zone=self.default_zone,
                        source_sha256=source.sha256, author_token_hash=hash_token(author_token),
                    )  # fmt: skip
                every = itertools.chain([c for c in (first, second) if c is not None], chunks)
                prepared = (
                    pool.prepared(every)
                    if pool is not None
                    else ((chunk, here.chunk(chunk)) for chunk in every)
                )
                seen: Counter[str] = Counter()
                for chunk, outcomes in prepared:
                    batch = self._batch(here, chunk, outcomes, seen, rejected)
                    result.rows += len(chunk)
                    progress(len(chunk))
                    if storing is not None:
                        storing.result()  # an error stops the import here
                    if batch:
                        storing = writer.submit(self._store, batch, result, dry_run)
                if storing is not None:
                    storing.result()
            finally:
                rejected.close()
                if pool is not None:
                    pool.close()
                if self._lookup is not None:
                    self._lookup.close()
        result.rejected = rejected.count
        log.info(
            "import finished",
            extra={"source_sha256": source.sha256, "dry_run": dry_run, "rows": result.rows,
                   "added": result.added, "already_stored": result.already_stored,
                   "rejected": result.rejected,
                   "workers": pool.workers if pool is not None else 0,
                   "seconds": round(time.perf_counter() - started, 3),
                   # This process only (PostgreSQL and the workers work in
                   # their own): on a busy machine the rate per CPU second says more.
                   "cpu_seconds": round(time.process_time() - cpu_started, 3)},
        )  # fmt: skip
        return result

    def _chunks(self, rows: Iterator[Row]) -> Iterator[list[Row]]:
        chunk: list[Row] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= self.batch_rows:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _batch(
        self,
        here: ChunkPreparer,
        chunk: list[Row],
        outcomes: list[Outcome],
        seen: Counter[str],
        rejected: RejectedRows,
    ) -> list[Prepared]:
        """A chunk's accepted rows in file order; rejected ones listed.

        A row's id counts the identical rows before it in the whole file, which
        the chunk's preparer could not see: the rare row whose count was wrong
        is prepared again here, with the right count.
        """
        batch: list[Prepared] = []
        for row, outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, Prepared) and outcome.occurrence != seen[outcome.key] + 1:
                outcome = here.one(row, lambda key: seen[key] + 1)
            if isinstance(outcome, str):
                # Counted once the row is accepted: a rejected row shifts no other row's id.
                rejected.add(row, outcome)
                continue
            seen[outcome.key] += 1
            batch.append(outcome)
        return batch

    def _store(self, batch: list[Prepared], result: ImportResult, dry_run: bool) -> None:
        stored = event_log.stored_originators(
            self.database, [r.report_id for r in batch], self._lookup
        )
        new = [r for r in batch if r.report_id not in stored]
        result.already_stored += len(batch) - len(new)
        if dry_run:
            result.added += len(new)
            return
        for outcome in self.app.store_imported_events(
            [(r.report_id, r.stored_events()) for r in new]
        ):
            if outcome.created:
                result.added += 1
            else:
                result.already_stored += 1
