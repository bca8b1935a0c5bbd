"""Fan-out of live-map changes to websocket subscribers.

A NOTIFY from the projection is only a doorbell: on each ring (and every few
seconds regardless, in case a notification was lost with its connection) the
hub reads the activity feed after the last position it has seen, so no change
is skipped. Each change is encoded once (once for the public, once for
members' consoles) into ONE shared ring of the last ``QUEUE_SIZE`` frames; a
subscriber is only a cursor into that ring, and waits on a future only while
it has nothing to send. An idle viewer thus costs a few small objects, not a
queue of its own. A slow client whose cursor falls out of the ring is dropped
(it reconnects and resumes from its position); it never stalls the others
and never holds more than the shared ring.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

import asyncpg

from projections.live_map.reader import NOTIFY_CHANNEL, LiveMapReader
from web.live import protocol
from web.live.memory import release_freed_memory

log = logging.getLogger(__name__)

# Frames kept for subscribers still sending earlier ones: a subscriber further
# behind than this is a slow consumer. Read at each append, so tests may lower it.
QUEUE_SIZE = 1000
SAFETY_POLL_SECONDS = 5.0
FEED_PAGE = 500

Encoder = Callable[[asyncpg.Record], protocol.MapReport]


class SlowConsumer(Exception):
    """A subscriber fell out of the shared ring; it must resume from its last position."""


class Gone(Exception):
    """The subscriber's client disconnected."""


class DatabaseUnavailable(Exception):
    """The database went away: the client should reconnect later and resume."""


HEARTBEAT_SECONDS = 15.0
# After this many subscribers have left since the last peak, the next heartbeat
# hands the memory their sockets used back to the system (web/live/memory.py).
TRIM_AFTER_LEAVING = 500


class Subscriber:
    """One socket's place in the hub's ring: a cursor, not a queue."""

    __slots__ = ("_hub", "_stopped", "_waiter", "beat", "cursor", "members")

    def __init__(self, hub: Hub, members: bool = False) -> None:
        self._hub = hub
        # A signed-in member's console: every event, with members' names.
        self.members = members
        self.cursor = hub.sequence  # the ring index of the next frame to look at
        self.beat = hub.beats
        self._waiter: asyncio.Future[None] | None = None
        self._stopped: type[Exception] | None = None

    def close(self) -> None:
        """Wake the sender: its client has gone."""
        self._stop(Gone)

    def database_lost(self) -> None:
        """Wake the sender: the database went away, the client must come back later."""
        self._stop(DatabaseUnavailable)

    def _stop(self, reason: type[Exception]) -> None:
        self._stopped = reason
        self.wake()

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self) -> tuple[int, str] | None:
        """The next frame to send, or None when it is time for a heartbeat."""
        hub = self._hub
        while True:
            if self._stopped is not None:
                raise self._stopped()
            item = hub.frame_after(self)
            if item is not None:
                return item
            if self.beat != hub.beats:
                self.beat = hub.beats
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            hub.waiting.add(self)
            try:
                await self._waiter
            finally:
                self._waiter = None
                hub.waiting.discard(self)


class Hub:
    def __init__(
        self, reader: LiveMapReader, encode: Encoder, encode_for_members: Encoder | None = None
    ) -> None:
        self.reader = reader
        self._encode = encode
        self._encode_for_members = encode_for_members
        self.subscribers: set[Subscriber] = set()
        self._members_subscribed = 0
        self._peak_subscribers = 0
        self.position = 0
        # The shared ring: (position, public frame, members' frame), either
        # frame None when no subscriber of that audience was there to need it.
        self.frames: deque[tuple[int, str | None, str | None]] = deque()
        self.first = 0  # the ring index of frames[0]
        # The ring holds every frame after this position (it moves as frames are dropped)...
        self._ring_floor = 0
        # ...except public frames up to this one, skipped while no public viewer listened.
        self._public_gap_through = 0
        self.beats = 0  # heartbeats so far: a subscriber remembers the last it answered
        # Subscribers with nothing to send, each awaiting its own future.
        self.waiting: set[Subscriber] = set()
        self._doorbell = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self.position = await self.reader.feed_head()
        self._ring_floor = self._public_gap_through = self.position
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

    @property
    def sequence(self) -> int:
        """The ring index the next frame will get."""
        return self.first + len(self.frames)

    def subscribe(self, members: bool = False) -> Subscriber:
        """A subscriber that will get every frame after ``self.position``."""
        subscriber = Subscriber(self, members)
        self.subscribers.add(subscriber)
        self._members_subscribed += members
        self._peak_subscribers = max(self._peak_subscribers, len(self.subscribers))
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            self._members_subscribed -= subscriber.members
        self.waiting.discard(subscriber)

    def rewind(self, subscriber: Subscriber, since: int) -> bool:
        """Start a new public subscriber at the first frame after ``since``, if the
        ring still holds every public frame after it; False if it does not.

        A map page resumes from the position of its first paint, seconds old: the
        ring then has all it missed, and a wave of pages opening at once costs no
        database read each (thousands of them queued on the pool and were closed
        "database unavailable"). It works while the database is down, too.
        """
        if subscriber.members or not self._ring_floor <= since <= self.position:
            return False
        if since < self._public_gap_through:
            return False  # a public change after `since` was never encoded
        index = self.sequence
        for position, _, _ in reversed(self.frames):
            if position <= since:
                break
            index -= 1
        subscriber.cursor = index
        return True

    def frame_after(self, subscriber: Subscriber) -> tuple[int, str] | None:
        """The subscriber's next frame from the ring, moving its cursor past it."""
        while subscriber.cursor < self.sequence:
            if subscriber.cursor < self.first:
                # Frames it had not sent yet were overwritten: it must resume.
                raise SlowConsumer()
            position, public, for_members = self.frames[subscriber.cursor - self.first]
            subscriber.cursor += 1
            frame = for_members if subscriber.members else public
            if frame is not None:
                return position, frame
        return None

    def _append(self, position: int, public: str | None, for_members: str | None) -> None:
        self.frames.append((position, public, for_members))
        while len(self.frames) > QUEUE_SIZE:
            self._ring_floor = self.frames.popleft()[0]
            self.first += 1

    def _wake_waiting(self) -> None:
        waiting, self.waiting = self.waiting, set()
        for subscriber in waiting:
            subscriber.wake()

    async def _heartbeat(self) -> None:
        # One timer for all subscribers, rather than a timeout armed around
        # every queue read of every websocket.
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            # A subscriber with frames to send needs no heartbeat: only the
            # waiting ones are woken, and each sees the beat count moved.
            self.beats += 1
            self._wake_waiting()
            if self._peak_subscribers - len(self.subscribers) >= TRIM_AFTER_LEAVING:
                self._peak_subscribers = len(self.subscribers)
                release_freed_memory()

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
            any_public = len(self.subscribers) > self._members_subscribed
            any_members = self._encode_for_members is not None and self._members_subscribed > 0
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
                if row["public"] and public is None:
                    self._public_gap_through = position
                self.position = position
                self._append(position, public, for_members)
            self._wake_waiting()
            if len(rows) < FEED_PAGE:
                return
