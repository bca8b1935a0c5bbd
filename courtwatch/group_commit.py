"""Group commit: concurrent submissions share one insert transaction.

eventsourcing's PostgreSQL recorder takes ``LOCK TABLE ... IN EXCLUSIVE MODE``
in every insert transaction, so notification ids (positions) follow commit
order and a projection reading up to a position never skips a row that commits
later. That lock makes one transaction per report the ceiling of the submit
rate: every report waits for the one before it to commit.

Here a submitting thread queues its serialised events and waits; whichever
thread holds the writer lock takes everything queued (up to ``max_batch``) and
stores it in one transaction through the recorder's own insert, under the same
table lock: positions still follow commit order, and one commit answers many
submissions. No background thread: the first waiting thread is the writer
(leader/follower), so nothing is left running when the process stops.

Each submission keeps its own outcome:
- stored: its positions, known only after the commit, so a 201 is durable;
- a unique violation (the report already exists: a replay or a reused key)
  is that submission's own ``IntegrityError``, raised in its own thread, which
  then tells a replay from a conflict (Courtwatch._check_replay);
- two submissions of one report in one batch: the first is stored, the
  second is answered after that commit, so it sees the first as a replay.
If a batch fails, each of its submissions is stored on its own, so an error
belongs to the one submission that caused it. A process killed mid-batch loses
only submissions no one was answered for: nothing is answered before commit.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent

# Enough to amortise a commit across a burst, small enough that one
# transaction's insert (and its lock on the table) stays short.
MAX_BATCH = 256

Insert = Callable[[Sequence[StoredEvent]], Sequence[int] | None]


@dataclass(eq=False)
class _Pending:
    events: Sequence[StoredEvent]
    positions: Sequence[int] = ()
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def originator_id(self) -> object:
        return self.events[0].originator_id


class GroupCommitter:
    """Stores many submissions' events per transaction, each with its own answer."""

    def __init__(self, insert: Insert, max_batch: int = MAX_BATCH) -> None:
        self._insert = insert
        self._max_batch = max_batch
        self._queue: deque[_Pending] = deque()
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()
        # How many transactions stored how many submissions: read by tests.
        self.batches: list[int] = []

    @property
    def queued(self) -> int:
        """Submissions waiting for a writer."""
        return len(self._queue)

    def store(self, events: Sequence[StoredEvent]) -> Sequence[int]:
        """Store one submission's events; their positions once committed.

        Raises what storing them alone would raise (IntegrityError when the
        report exists already), in the calling thread.
        """
        if not events:
            return ()
        pending = _Pending(events)
        with self._queue_lock:
            self._queue.append(pending)
        while not pending.done.is_set():
            # While one batch commits, later submissions queue up; the first of
            # them to get the writer lock stores them all.
            with self._writer:
                if not pending.done.is_set():
                    self._write(self._take())
        if pending.error is not None:
            raise pending.error
        return pending.positions

    def _take(self) -> list[_Pending]:
        with self._queue_lock:
            count = min(len(self._queue), self._max_batch)
            return [self._queue.popleft() for _ in range(count)]

    def _write(self, batch: list[_Pending]) -> None:
        # A second submission of a report already in this batch waits for the
        # next one: stored after the first commits, it is answered as a replay
        # (or a conflict) by the same check as any later retry.
        seen: set[object] = set()
        now: list[_Pending] = []
        later: list[_Pending] = []
        for pending in batch:
            (later if pending.originator_id in seen else now).append(pending)
            seen.add(pending.originator_id)
        try:
            if len(now) == 1:
                self._store_alone(now[0])
            elif now:
                self._store_together(now)
        finally:
            for pending in now:
                if not pending.done.is_set():  # interrupted: never leave a waiter hanging
                    pending.error = RuntimeError(
                        "the batch storing this submission was interrupted"
                    )
                    pending.done.set()
            if later:
                with self._queue_lock:
                    self._queue.extendleft(reversed(later))

    def _store_together(self, batch: list[_Pending]) -> None:
        every = [event for pending in batch for event in pending.events]
        try:
            positions = self._insert(every)
        except (InterfaceError, OperationalError) as error:
            # The database is out of reach: every submission would get this
            # same error alone, after waiting for a connection each.
            for pending in batch:
                pending.error = error
                pending.done.set()
            return
        except Exception:
            # Most often one report exists already (a retry whose answer was
            # lost). Nothing of this batch was stored: each is stored on its
            # own, so only that one gets the unique violation.
            for pending in batch:
                self._store_alone(pending)
            return
        self.batches.append(len(batch))
        every_position = list(positions or ())
        offset = 0
        for pending in batch:
            count = len(pending.events)
            pending.positions = every_position[offset : offset + count]
            offset += count
            pending.done.set()

    def _store_alone(self, pending: _Pending) -> None:
        try:
            pending.positions = list(self._insert(pending.events) or ())
            self.batches.append(1)
        except Exception as error:
            pending.error = error
        finally:
            pending.done.set()
