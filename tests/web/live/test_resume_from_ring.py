"""A map resuming from a recent position is served from the hub's shared ring.

A wave of map pages each resumes from its first paint's position a second or
two later: each resume used to read the feed's head and the rows after it,
thousands of reads queued on the pool at once. The ring already holds those
frames; it must serve them in order, once, without a database read, and must not
be used when it lacks a change (a public frame skipped while nobody watched).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import ServerThread, wait_until
from tests.web.live.test_routes import frame, sighting, submit, until_seen, ws_url


def count_feed_reads(monkeypatch: pytest.MonkeyPatch, web_app: Any) -> list[str]:
    """Each per-viewer feed read the map's reader makes (the hub's own are not counted)."""
    reader, reads = web_app.state.live.reader, []
    for name in ("feed_head", "feed_after"):
        original = getattr(reader, name)

        async def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
            reads.append(_name)
            return await _original(*args)

        monkeypatch.setattr(reader, name, counted)
    return reads


async def test_a_page_resuming_from_its_first_paint_reads_nothing_from_the_database(
    live_server: ServerThread,
    client: httpx.AsyncClient,
    web_app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with connect(ws_url(live_server), compression=None) as watching:
        start = (await frame(watching))["position"]
        missed = [await submit(client, sighting(agents_count=i + 1)) for i in range(3)]
        await until_seen(watching, missed[-1]["id"])
        reads = count_feed_reads(monkeypatch, web_app)

        async with connect(ws_url(live_server, since=start), compression=None) as resuming:
            assert await frame(resuming) == {"type": "resume", "position": start}
            caught_up = [await frame(resuming) for _ in missed]
            later = await submit(client, sighting())
            after = await frame(resuming)

    assert [d["report"]["id"] for d in caught_up] == [m["id"] for m in missed]
    assert [d["position"] for d in caught_up] == sorted({d["position"] for d in caught_up})
    assert after["report"]["id"] == later["id"]
    assert reads == []


async def test_a_change_nobody_was_watching_is_read_from_the_feed_not_skipped(
    live_server: ServerThread,
    client: httpx.AsyncClient,
    web_app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With no public viewer the hub encodes no public frame: the ring has a hole
    # there, so the resume must go to the feed.
    seen = await submit(client, sighting())
    live = web_app.state.live

    def hub_reached(position: int) -> Any:
        async def reached() -> bool:
            return bool(live.hub.position >= position)

        return reached

    await wait_until(hub_reached(seen["position"]))
    unwatched = await submit(client, sighting(agents_count=5))
    await wait_until(hub_reached(unwatched["position"]))
    reads = count_feed_reads(monkeypatch, web_app)

    async with connect(ws_url(live_server, since=seen["position"]), compression=None) as ws:
        assert await frame(ws) == {"type": "resume", "position": seen["position"]}
        delta = await frame(ws)

    assert delta["report"]["id"] == unwatched["id"]
    assert "feed_after" in reads
