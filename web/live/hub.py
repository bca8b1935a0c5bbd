"""Fan-out of live-map changes to websocket subscribers.

A NOTIFY from the projection is only a doorbell: on each ring (and every few
seconds regardless, in case a notification was lost with its connection) the
hub reads the activity feed after the last position it has seen, so no change
is skipped. Each subscriber has its own bounded queue: a slow client fills only
its own queue and is then dropped (it reconnects and resumes from its
position), it never stalls the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from projections.live_map.reader import NOTIFY_CHANNEL, LiveMapReader
from web.live import protocol

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
SAFETY_POLL_SECONDS = 5.0
FEED_PAGE = 500

Encoder = Callable[[asyncpg.Record], protocol.MapReport]


class SlowConsumer(Exception):
    """A subscriber's queue overflowed; it must resume from its last position."""


class Gone(Exception):
    """The subscriber's client disconnected."""


class DatabaseUnavailable(Exception):
    """The database went away: the client should reconnect later and resume."""


_CLOSED = (-1, "")
_HEARTBEAT = (-2, "")
_UNAVAILABLE = (-3, "")
HEARTBEAT_SECONDS = 15.0


class Subscriber:
    def __init__(self, members: bool = False) -> None:
        self.queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False
        # A signed-in member's console: every event, with members' names.
        self.members = members

    def close(self) -> None:
        """Wake the sender: its client has gone."""
        self._interrupt(_CLOSED)

    def database_lost(self) -> None:
        """Wake the sender: the database went away, the client must come back later."""
        self._interrupt(_UNAVAILABLE)

    def _interrupt(self, sentinel: tuple[int, str]) -> None:
        while True:
            try:
                self.queue.put_nowait(sentinel)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    def offer(self, position: int, frame: str) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((position, frame))
        except asyncio.QueueFull:
            self.overflowed = True

    def offer_heartbeat(self) -> None:
        # A full queue has frames to send: no heartbeat is needed then.
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(_HEARTBEAT)

    async def next(self) -> tuple[int, str] | None:
        """The next frame to send, or None when it is time for a heartbeat."""
        if self.overflowed:
            # Frames were dropped: the client must resume from its position.
            raise SlowConsumer()
        item = await self.queue.get()
        if item is _CLOSED:
            raise Gone()
        if item is _UNAVAILABLE:
            raise DatabaseUnavailable()
        if item is _HEARTBEAT:
            return None
        return item


class Hub:
    def __init__(
        self, reader: LiveMapReader, encode: Encoder, encode_for_members: Encoder | None = None
    ) -> None:
        self.reader = reader
        self._encode = encode
        self._encode_for_members = encode_for_members
        self.subscribers: set[Subscriber] = set()
        self.position = 0
        self._doorbell = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self.position = await self.reader.feed_head()
        self._tasks = [
            asyncio.create_task(self._listen(), name="hub-listen"),
            asyncio.create_task(self._pump(), name="hub-pump"),
            asyncio.create_task(self._heartbeat(), name="hub-heartbeat"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._listener is not None:
            await self._listener.close()

    def subscribe(self, members: bool = False) -> Subscriber:
        subscriber = Subscriber(members)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def _heartbeat(self) -> None:
        # One timer for all subscribers, rather than a timeout armed around
        # every queue read of every websocket.
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            for subscriber in list(self.subscribers):
                subscriber.offer_heartbeat()

    def _ring(self, *_: object) -> None:
        self._doorbell.set()

    def _database_lost(self) -> None:
        """Tell every subscriber to close with a reason; their clients resume with ?since."""
        for subscriber in list(self.subscribers):
            subscriber.database_lost()

    async def _listen(self) -> None:
        # A dedicated connection: a pooled one would be UNLISTENed on release.
        delay = 0.25
        while True:
            try:
                self._listener = await self.reader.listen_connection()
                await self._listener.add_listener(NOTIFY_CHANNEL, self._ring)
                delay = 0.25
                self._ring()  # catch up on whatever happened while not listening
                closed = asyncio.Event()
                self._listener.add_termination_listener(lambda *_, ev=closed: ev.set())
                await closed.wait()
                log.warning("live listener connection closed; reconnecting")
                # The server closed it (stopped, crashed, restarting): the open
                # websockets would otherwise wait silently on a stale map.
                self._database_lost()
            except Exception as error:  # any failure to (re)connect: retry, never stop
                log.warning("live listener failed; retrying", extra={"error": type(error).__name__})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _pump(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._doorbell.wait(), SAFETY_POLL_SECONDS)
            self._doorbell.clear()
            try:
                await self._drain()
            except Exception as error:  # the pump must outlive any outage
                log.warning(
                    "reading the activity feed failed", extra={"error": type(error).__name__}
                )

    async def _drain(self) -> None:
        # One read serves both audiences: public subscribers get the rows the
        # public may see, encoded without members' names; members' consoles
        # get every row, encoded with them.
        while True:
            rows = await self.reader.whole_feed_after(self.position, FEED_PAGE)
            subscribers = list(self.subscribers)
            any_public = any(not s.members for s in subscribers)
            any_members = self._encode_for_members is not None and any(
                s.members for s in subscribers
            )
            for row in rows:
                position = row["position"]
                public = (
                    protocol.delta(position, self._encode(row))
                    if row["public"] and any_public
                    else None
                )
                for_members = (
                    protocol.delta(position, self._encode_for_members(row))  # type: ignore[misc]
                    if any_members
                    else None
                )
                self.position = position
                for subscriber in subscribers:
                    frame = for_members if subscriber.members else public
                    if frame is not None:
                        subscriber.offer(position, frame)
            if len(rows) < FEED_PAGE:
                return
