"""Rows to stored events, in worker processes (the import's CPU-bound part).

Profiled on 2 cores (README, "Importing historical records"): most of an
import's CPU is turning a row into its two serialised events (reading the
cells, pydantic intake, the domain's checks, JSON), ~117 µs a row; the
command's own process then spends ~50 µs a row (the CSV, the hand-over, the
insert). So chunks of rows go to worker processes, which return each row's
stored events (already serialised: unpickling them costs the parent ~4 µs a
row, a whole report ~50 µs) or the reason it was rejected. The parent keeps
what must stay in file order: the count of identical rows before each one
(part of its id), the rejected-rows file, and one writer saving batches.

Workers are forked, not spawned: a spawned one imports the application
again (~0.85 s of CPU each, as long as a 5,000-row import). A forked worker
uses nothing it inherited but code and the mapping: it builds its own
application with in-memory persistence (never the parent's database pool)
and a fixed list of courthouses, and dies with its parent (PR_SET_PDEATHSIG),
so an import killed mid-run leaves no worker behind.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import StoredEvent

from courtwatch.gazetteer import Courthouse
from courtwatch.importing.mapping import ImportMapping
from courtwatch.importing.rows import RowReader
from courtwatch.importing.table import Row

# Linux's prctl(PR_SET_PDEATHSIG, sig): the kernel sends sig when the parent dies.
PR_SET_PDEATHSIG = 1


class Prepared(NamedTuple):
    """A row that passed every check: its report's id, its content key and
    which identical row it is (1 = the first), and its events, serialised as
    (version, topic, state): plain tuples cross between processes ~10x faster
    than eventsourcing's StoredEvent objects."""

    report_id: UUID
    key: str
    occurrence: int
    events: tuple[tuple[int, str, bytes], ...]

    def stored_events(self) -> list[StoredEvent]:
        return [StoredEvent(self.report_id, version, topic, state)
                for version, topic, state in self.events]  # fmt: skip


# A row's outcome: prepared, or the reason it was rejected.
Outcome = Prepared | str


class ChunkPreparer:
    """Turns rows into outcomes with one application (the parent's, or a worker's own)."""

    def __init__(
        self,
        app: Any,
        reader: RowReader,
        source_sha256: str,
        author_token_hash: str,
        prepare_row: Callable[..., Outcome],
    ) -> None:
        self.app = app
        self.reader = reader
        self.source_sha256 = source_sha256
        # Hashed once per run, not once per row: every report of the run has it.
        self.author_token_hash = author_token_hash
        self._prepare_row = prepare_row

    def one(self, row: Row, occurrence_of: Callable[[str], int]) -> Outcome:
        """``occurrence_of(key)``: which identical row this one is, were it accepted."""
        return self._prepare_row(
            self.app, self.reader, self.source_sha256, self.author_token_hash, row, occurrence_of
        )

    def chunk(self, rows: Sequence[Row]) -> list[Outcome]:
        """Identical rows are counted within the chunk only: the parent, which
        sees every chunk in order, redoes a row whose count was wrong."""
        seen: Counter[str] = Counter()
        outcomes = []
        for row in rows:
            outcome = self.one(row, lambda key: seen[key] + 1)
            if isinstance(outcome, Prepared):
                seen[outcome.key] += 1
            outcomes.append(outcome)
        return outcomes


# The worker process's own preparer, made once by _start_worker.
_preparer: ChunkPreparer | None = None


def _start_worker(
    env: Mapping[str, str],
    courthouses: list[Courthouse],
    mapping: ImportMapping,
    zones: dict[str, str | None],
    default_zone: ZoneInfo,
    source_sha256: str,
    author_token_hash: str,
    parent: int,
) -> None:
    global _preparer
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    # Ctrl-C reaches the whole process group: the parent stops the import and
    # shuts the pool down after the chunks in hand; a worker dying of it
    # would only add tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from courtwatch.application import Courtwatch
    from courtwatch.importing.importer import prepare_row

    # In-memory persistence: this process builds events, it never stores them
    # (and must not touch the parent's connections, inherited by the fork).
    app = Courtwatch(
        env={**env, "PERSISTENCE_MODULE": "eventsourcing.popo"}, courthouses=courthouses
    )
    reader = RowReader(mapping, zones.get, default_zone)
    _preparer = ChunkPreparer(app, reader, source_sha256, author_token_hash, prepare_row)


def _prepare_chunk(rows: Sequence[Row]) -> list[Outcome]:
    assert _preparer is not None, "the worker was not started"
    return _preparer.chunk(rows)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class WorkerPool:
    """``workers`` processes preparing chunks; results come back in file order."""

    def __init__(
        self,
        workers: int,
        *,
        env: Mapping[str, str],
        courthouses: list[Courthouse],
        mapping: ImportMapping,
        zones: dict[str, str | None],
        default_zone: ZoneInfo,
        source_sha256: str,
        author_token_hash: str,
    ) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(dict(env), courthouses, mapping, zones, default_zone,
                      source_sha256, author_token_hash, os.getpid()),
        )  # fmt: skip

    def prepared(self, chunks: Iterable[list[Row]]) -> Iterator[tuple[list[Row], list[Outcome]]]:
        """Each chunk with its outcomes, in order; a few chunks ahead at most
        (memory stays bounded however long the file)."""
        ahead = 2 * self.workers
        pending: list[tuple[list[Row], Future[list[Outcome]]]] = []
        for chunk in chunks:
            pending.append((chunk, self._executor.submit(_prepare_chunk, chunk)))
            if len(pending) > ahead:
                done, future = pending.pop(0)
                yield done, future.result()
        for done, future in pending:
            yield done, future.result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
