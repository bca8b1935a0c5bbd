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

On the wire the snapshot is one text frame of JSON, or, for a client that
connects with ``?snapshot=gzip`` (the map page, where the browser has
``DecompressionStream``), one binary frame holding the same JSON compressed
with gzip: about a tenth of the bytes for the server to write and the phone
to receive. It too is compressed once per position, when the first client
asks for it, never per viewer.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cached_property

from starlette.types import Message

# How long one encoded snapshot may be served at an unchanged position: it
# bounds how far a report may have left the 24-hour window, or a courthouse
# been renamed, and still be drawn by a newly connected viewer.
MAX_AGE = 10.0

# The value of ``?snapshot=`` that asks for the gzip-compressed binary frame.
# Any other value (an encoding a newer client knows and this server does not)
# gets the text frame: every client must understand that one.
GZIP = "gzip"
# Level 6 (zlib's default): 9 is slower for ~1 % fewer bytes; paid once per position.
GZIP_LEVEL = 6

Build = Callable[[], Coroutine[object, object, tuple[int, str]]]


class EncodedSnapshot:
    """One snapshot frame at one position, in each encoding a client may ask for."""

    def __init__(self, position: int, text: str) -> None:
        self.position = position
        self.text = text

    @cached_property
    def gzipped(self) -> bytes:
        # mtime=0: the same snapshot gives the same bytes, whenever compressed.
        return gzip.compress(self.text.encode(), compresslevel=GZIP_LEVEL, mtime=0)

    def message(self, encoding: str | None) -> Message:
        """The ASGI message sending this snapshot to a client that asked for ``encoding``."""
        if encoding == GZIP:
            return {"type": "websocket.send", "bytes": self.gzipped}
        return {"type": "websocket.send", "text": self.text}


@dataclass(frozen=True)
class _Entry:
    key: int
    built_at: float
    task: asyncio.Task[EncodedSnapshot]


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
        """The snapshot's position and its text frame, for a viewer subscribed at ``key``."""
        snapshot = await self.snapshot(key)
        return snapshot.position, snapshot.text

    async def snapshot(self, key: int) -> EncodedSnapshot:
        """The snapshot for a viewer subscribed at ``key``, in every encoding."""
        now = asyncio.get_running_loop().time()
        entry = self._entry
        if not self._usable(entry, key, now):
            # A task of its own: a viewer leaving mid-build cancels only its wait.
            task = asyncio.create_task(self._encoded(), name="live-snapshot")
            entry = _Entry(key, now, task)
            entry.task.add_done_callback(_retrieve)
            self._entry = entry
            self.builds += 1
        assert entry is not None
        return await asyncio.shield(entry.task)

    async def _encoded(self) -> EncodedSnapshot:
        return EncodedSnapshot(*await self._build())


def _retrieve(task: asyncio.Task[EncodedSnapshot]) -> None:
    # The viewers awaiting it see its error; nobody awaiting it must not log one.
    if not task.cancelled():
        task.exception()
