"""Cheap viewers (issue 16): one snapshot encoding per position, one shared ring of frames."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import gzip
import json
import weakref
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import ServerThread
from tests.web.live.test_routes import frame, sighting, submit, until_seen, ws_url
from web.live import hub as hub_module
from web.live import protocol, snapshots
from web.live.hub import Hub, SlowConsumer
from web.live.memory import release_freed_memory
from web.live.snapshots import SnapshotCache


async def test_a_wave_of_viewers_at_one_position_shares_one_snapshot_encoding(
    live_server: ServerThread,
    client: httpx.AsyncClient,
    web_app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = [await submit(client, sighting(agents_count=i + 1)) for i in range(3)]
    async with connect(ws_url(live_server), compression=None) as watcher:
        # Once a viewer has the last delta, the hub's position stays put.
        await until_seen(watcher, created[-1]["id"])
        encodings = 0
        real_snapshot = protocol.snapshot

        def counted(position: int, reports: Any) -> str:
            nonlocal encodings
            encodings += 1
            return real_snapshot(position, reports)

        monkeypatch.setattr(protocol, "snapshot", counted)

        async def first_frame() -> str:
            async with connect(ws_url(live_server), compression=None) as ws:
                return str(await asyncio.wait_for(ws.recv(), 10))

        frames = await asyncio.gather(*(first_frame() for _ in range(30)))
    assert encodings == 1  # on main: 30, one read and one encoding per viewer
    assert web_app.state.live.snapshots.builds >= 1
    assert len(set(frames)) == 1  # every viewer got the very same bytes
    snapshot = protocol_frame(frames[0])
    assert snapshot["type"] == "snapshot"
    assert {c["id"] for c in created} <= {r["id"] for r in snapshot["reports"]}


async def test_the_map_page_gets_the_snapshot_gzipped_once_per_position_in_one_binary_frame(
    live_server: ServerThread, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """?snapshot=gzip (the page) is a tenth of the bytes; compressed once, not per viewer.
    Any other client, or an encoding the server does not know, still gets JSON text."""
    created = [await submit(client, sighting(agents_count=i + 1)) for i in range(20)]
    async with connect(ws_url(live_server), compression=None) as watcher:
        await until_seen(watcher, created[-1]["id"])
        compressions = 0
        real_compress = snapshots.gzip.compress

        def counted(data: bytes, *args: Any, **kwargs: Any) -> bytes:
            nonlocal compressions
            compressions += 1
            return real_compress(data, *args, **kwargs)

        monkeypatch.setattr(snapshots.gzip, "compress", counted)

        async def first_frame(query: str) -> str | bytes:
            async with connect(ws_url(live_server) + query, compression=None) as ws:
                return await asyncio.wait_for(ws.recv(), 10)

        texts = [await first_frame(q) for q in ("", "?snapshot=zstd", "?snapshot=GZIP")]
        packed = await asyncio.gather(*(first_frame("?snapshot=gzip") for _ in range(30)))
        assert compressions == 1  # one compression for 30 viewers at one position
        async with connect(ws_url(live_server) + "?snapshot=gzip", compression=None) as ws:
            assert isinstance(await asyncio.wait_for(ws.recv(), 10), bytes)
            later = await submit(client, sighting())
            delta = await asyncio.wait_for(ws.recv(), 10)  # the frames after it stay text
    assert all(isinstance(t, str) for t in texts) and len(set(texts)) == 1
    assert all(isinstance(p, bytes) for p in packed) and len(set(packed)) == 1
    assert gzip.decompress(packed[0]).decode() == texts[0]  # the very same JSON
    snapshot = json.loads(texts[0])
    assert snapshot["type"] == "snapshot"
    assert {c["id"] for c in created} <= {r["id"] for r in snapshot["reports"]}
    assert len(packed[0]) * 4 < len(texts[0])
    assert isinstance(delta, str) and json.loads(delta)["report"]["id"] == later["id"]


async def test_a_viewer_joining_after_a_change_gets_a_fresh_snapshot_then_deltas(
    live_server: ServerThread, client: httpx.AsyncClient
) -> None:
    """The cached snapshot is keyed by the hub's position: a change makes a new one,
    and deltas after the snapshot still reach the viewer exactly once."""
    async with connect(ws_url(live_server), compression=None) as early:
        assert (await frame(early))["type"] == "snapshot"
        first = await submit(client, sighting())
        await until_seen(early, first["id"])
        async with connect(ws_url(live_server), compression=None) as late:
            snapshot = await frame(late)
            assert first["id"] in {r["id"] for r in snapshot["reports"]}
            second = await submit(client, sighting())
            delta = await frame(late)
            assert delta["report"]["id"] == second["id"]
            assert delta["position"] > snapshot["position"]
            with pytest.raises(TimeoutError):
                await frame(late, timeout=0.3)


def protocol_frame(text: str) -> dict[str, Any]:
    import json

    return json.loads(text)  # type: ignore[no-any-return]


def ring(size: int, monkeypatch: pytest.MonkeyPatch) -> Hub:
    monkeypatch.setattr(hub_module, "QUEUE_SIZE", size)
    return Hub(reader=None, encode=None)  # type: ignore[arg-type]


def test_the_ring_is_shared_and_bounded_whatever_the_number_of_subscribers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = ring(100, monkeypatch)
    subscribers = [hub.subscribe() for _ in range(1000)]
    for position in range(1, 5001):
        hub._append(position, f"public {position}", None)
    assert len(hub.frames) == 100  # not 1,000 subscribers x 5,000 frames
    # None of them read: every one has fallen out of the ring and must resume.
    for subscriber in subscribers:
        with pytest.raises(SlowConsumer):
            hub.frame_after(subscriber)


async def test_a_subscriber_that_keeps_up_gets_every_frame_of_its_audience_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = ring(10, monkeypatch)
    public = hub.subscribe()
    member = hub.subscribe(members=True)
    got: dict[str, list[int]] = {"public": [], "member": []}

    async def read(name: str, subscriber: Any, count: int) -> None:
        while len(got[name]) < count:
            item = await subscriber.next()
            assert item is not None
            got[name].append(item[0])

    readers = [
        asyncio.create_task(read("public", public, 25)),
        asyncio.create_task(read("member", member, 50)),
    ]
    for position in range(1, 51):
        # Every other change is for members only (a running shift, a claim).
        hub._append(position, f"p{position}" if position % 2 else None, f"m{position}")
        hub._wake_waiting()
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*readers), 5)
    assert got["public"] == list(range(1, 51, 2))
    assert got["member"] == list(range(1, 51))
    assert not hub.waiting or all(s in hub.subscribers for s in hub.waiting)


async def test_a_waiting_subscriber_is_told_of_heartbeats_closing_and_outages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = ring(10, monkeypatch)
    subscriber = hub.subscribe()
    waiting = asyncio.create_task(subscriber.next())
    await asyncio.sleep(0)
    hub.beats += 1
    hub._wake_waiting()
    assert await asyncio.wait_for(waiting, 1) is None  # time for a heartbeat
    closing = asyncio.create_task(subscriber.next())
    await asyncio.sleep(0)
    subscriber.close()
    with pytest.raises(hub_module.Gone):
        await asyncio.wait_for(closing, 1)
    other = hub.subscribe()
    lost = asyncio.create_task(other.next())
    await asyncio.sleep(0)
    hub._database_lost()
    with pytest.raises(hub_module.DatabaseUnavailable):
        await asyncio.wait_for(lost, 1)
    hub.unsubscribe(subscriber)
    hub.unsubscribe(other)
    assert not hub.subscribers and not hub.waiting


async def test_one_snapshot_build_serves_concurrent_callers_and_a_failure_is_not_kept() -> None:
    builds: list[int] = []
    gate = asyncio.Event()

    async def build() -> tuple[int, str]:
        builds.append(1)
        await gate.wait()
        if len(builds) == 1:
            raise ConnectionError("database went away")
        return 7, "snapshot"

    cache = SnapshotCache(build)
    callers = [asyncio.create_task(cache.frame(7)) for _ in range(50)]
    leaver = asyncio.create_task(cache.frame(7))
    await asyncio.sleep(0)
    leaver.cancel()  # a viewer leaving mid-build does not cancel it for the others
    gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert len(builds) == 1
    assert all(isinstance(r, ConnectionError) for r in results)
    assert await cache.frame(7) == (7, "snapshot")  # the failure was not served again
    assert await cache.frame(7) == (7, "snapshot")
    assert len(builds) == 2 and cache.builds == 2
    await cache.frame(8)  # the hub moved on: a new snapshot
    assert len(builds) == 3


async def test_an_old_snapshot_is_built_anew_even_at_the_same_position() -> None:
    builds: list[int] = []

    async def build() -> tuple[int, str]:
        builds.append(1)
        return 1, f"snapshot {len(builds)}"

    cache = SnapshotCache(build, max_age=0.0)
    assert await cache.frame(1) == (1, "snapshot 1")
    await asyncio.sleep(0.01)
    assert await cache.frame(1) == (1, "snapshot 2")


async def test_memory_is_handed_back_once_many_viewers_have_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = ring(10, monkeypatch)
    monkeypatch.setattr(hub_module, "HEARTBEAT_SECONDS", 0.01)
    monkeypatch.setattr(hub_module, "TRIM_AFTER_LEAVING", 50)
    trims: list[int] = []
    monkeypatch.setattr(hub_module, "release_freed_memory", lambda: trims.append(hub.beats))
    crowd = [hub.subscribe() for _ in range(60)]
    beating = asyncio.create_task(hub._heartbeat())
    try:
        beats = hub.beats
        while hub.beats < beats + 3:
            await asyncio.sleep(0.01)
        assert trims == []  # nobody left: nothing to hand back
        for subscriber in crowd[:55]:
            hub.unsubscribe(subscriber)
        while not trims:
            await asyncio.sleep(0.01)
        beats = hub.beats
        while hub.beats < beats + 3:
            await asyncio.sleep(0.01)
        assert len(trims) == 1  # once per wave, not at every beat
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


def test_handing_memory_back_first_frees_what_left_sockets_hold_in_reference_cycles() -> None:
    """A closed socket's objects are mostly cycles (task <-> future, an exception and
    its traceback): until a full collection they pin the allocator's arenas, and
    malloc_trim can hand none of them back (issue 16: +21 % RSS after the first wave)."""

    class Connection:
        def __init__(self) -> None:
            self.payload = bytearray(1 << 20)
            self.me = self  # a cycle, as a socket's task and its frames make

    was_enabled = gc.isenabled()
    gc.disable()  # no automatic collection may do the work for it
    try:
        gone = weakref.ref(Connection())
        assert gone() is not None  # only a collection frees a cycle
        release_freed_memory()
        assert gone() is None
    finally:
        if was_enabled:
            gc.enable()
