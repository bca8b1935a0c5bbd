"""/ws/live refuses foreign pages and floods, and takes no large frames from clients."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from courtwatch.cli.bootstrap import background
from courtwatch.services import Services
from tests.conftest import ServerThread
from web.app import create_app


def ws(server: ServerThread) -> str:
    return server.url.replace("http://", "ws://") + "/ws/live"


async def test_a_page_on_another_site_cannot_open_the_live_socket(
    live_server: ServerThread,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws(live_server), origin="https://evil.example", compression=None):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


async def test_same_origin_configured_origin_and_non_browser_clients_are_let_in(
    live_server: ServerThread, services: Services
) -> None:
    origins = [
        live_server.url,  # the page's own origin (Origin matches Host)
        services.settings.public_url,  # the configured public origin
        None,  # a client that is not a browser sends none
    ]
    for origin in origins:
        async with connect(ws(live_server), origin=origin, compression=None) as socket:  # type: ignore[arg-type]
            assert json.loads(await socket.recv())["type"] == "snapshot"


@pytest.fixture
def two_viewer_server(services: Services) -> Iterator[ServerThread]:
    capped = dataclasses.replace(
        services, settings=dataclasses.replace(services.settings, max_viewers=2)
    )
    with ServerThread(create_app(capped, background(capped, run_projections=False))) as server:
        yield server


async def test_viewers_beyond_the_cap_are_refused_until_one_leaves(
    two_viewer_server: ServerThread,
) -> None:
    url = ws(two_viewer_server)
    async with connect(url, compression=None) as first, connect(url, compression=None):
        await first.recv()
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, compression=None):
                pass
        assert refused.value.response.status_code == 403
    async with connect(url, compression=None) as again:
        assert json.loads(await again.recv())["type"] == "snapshot"


async def test_a_large_frame_from_a_client_closes_its_connection(
    live_server: ServerThread,
) -> None:
    async with connect(ws(live_server), compression=None) as socket:
        await socket.recv()
        await socket.send("x" * 1_000_000)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
