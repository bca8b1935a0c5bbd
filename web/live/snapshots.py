"""One encoded snapshot per feed position, shared by every viewer that connects at it.

When a city's whole network opens the map at once, thousands of sockets ask
for the same snapshot (2,000 reports, ~1 MB of JSON). Reading and encoding it
once per viewer cost minutes and hundreds of MB; here the first viewer at a
position starts one build, every viewer arriving meanwhile or later at the same
position awaits that build, and all of them send the very same string.

Why a snapshot keyed by the hub's position is correct for a later viewer: a
subscriber joining while the hub is at position H gets every frame after H;
the snapshot built for H was read from the database after some subscriber
joined at H, so it reflects a position P >= H, and the viewer's frames after P
all still reach it. The 24-hour window and courthouse names move with the
clock, not the feed: an entry older than ``MAX_AGE`` is built anew.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

# How long one encoded snapshot may be served at an unchanged position: it
# bounds how far a report may have left the 24-hour window, or a courthouse
# been renamed, and still be drawn by a newly connected viewer.
MAX_AGE = 10.0

Build = Callable[[], Coroutine[object, object, tuple[int, str]]]


@dataclass(frozen=True)
class _Entry:
    key: int
    built_at: float
    task: asyncio.Task[tuple[int, str]]


class SnapshotCache:
    """The latest snapshot frame, built at most once per hub position (and age)."""

    def __init__(self, build: Build, max_age: float = MAX_AGE) -> None:
        self._build = build
        self._max_age = max_age
        self._entry: _Entry | None = None
        self.builds = 0  # how many snapshots were read and encoded (for tests and benchmarks)

    def _usable(self, entry: _Entry | None, key: int, now: float) -> bool:
        if entry is None or entry.key != key or now - entry.built_at > self._max_age:
            return False
        # A build that failed (the database went away) is not served again.
        return not (entry.task.done() and entry.task.exception() is not None)

    async def frame(self, key: int) -> tuple[int, str]:
        """The snapshot's position and its encoded frame, for a viewer subscribed at ``key``."""
        now = asyncio.get_running_loop().time()
        entry = self._entry
        if not self._usable(entry, key, now):
            # A task of its own: a viewer leaving mid-build cancels only its wait.
            entry = _Entry(key, now, asyncio.create_task(self._build(), name="live-snapshot"))
            entry.task.add_done_callback(_retrieve)
            self._entry = entry
            self.builds += 1
        assert entry is not None
        return await asyncio.shield(entry.task)


def _retrieve(task: asyncio.Task[tuple[int, str]]) -> None:
    # The viewers awaiting it see its error; nobody awaiting it must not log one.
    if not task.cancelled():
        task.exception()
