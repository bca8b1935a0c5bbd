"""Several web nodes on one database: every viewer, whichever node it is on, gets
every change once and in order, while the projections run in another process.

This is the topology `bench/live.py --web-nodes 2` measures: web nodes started
with `serve --no-projections` only read what the projection process writes, and
each node's hub reads the feed once per change, whatever its number of viewers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from courtwatch.cli.bootstrap import background
from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.web.live.test_routes import frame, sighting, submit, ws_url
from web.app import create_app


async def deltas(viewer: ClientConnection, count: int) -> list[tuple[int, str]]:
    got = []
    while len(got) < count:
        message = await frame(viewer)
        if message["type"] == "delta":
            got.append((int(message["position"]), message["report"]["id"]))
    return got


async def test_viewers_on_two_web_nodes_get_every_change_once_in_order(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Node "projections" stands for `courtwatch project`; nodes A and B are
    # `serve --no-projections`, and reports go to A and B, never to it.
    projections = create_app(services, background(services))
    node_a = create_app(services, background(services, run_projections=False))
    node_b = create_app(services, background(services, run_projections=False))
    with ServerThread(projections), ServerThread(node_a) as a, ServerThread(node_b) as b:
        feed_reads = []
        for node in (node_a, node_b):
            reader = node.state.live.reader
            original = reader.whole_feed_after

            async def counted(*args: Any, _original: Any = original, _node: Any = node) -> Any:
                feed_reads.append(_node)
                return await _original(*args)

            monkeypatch.setattr(reader, "whole_feed_after", counted)
        viewers = [await connect(ws_url(server), compression=None) for server in (a, b, a, b, a, b)]
        try:
            for viewer in viewers:
                assert (await frame(viewer))["type"] == "snapshot"
            async with (
                httpx.AsyncClient(base_url=a.url, timeout=30) as to_a,
                httpx.AsyncClient(base_url=b.url, timeout=30) as to_b,
            ):
                created = await asyncio.gather(
                    *(submit(to_a if i % 2 else to_b, sighting(agents_count=i)) for i in range(6))
                )
            received = [await deltas(viewer, len(created)) for viewer in viewers]
        finally:
            for viewer in viewers:
                await viewer.close()

    expected = sorted((report["position"], report["id"]) for report in created)
    assert all(got == expected for got in received), received
    # Three viewers per node, six changes: the feed reads per node follow the
    # changes (at most one per change), not changes x viewers.
    for node in (node_a, node_b):
        assert 1 <= sum(1 for n in feed_reads if n is node) <= len(created) + 2
