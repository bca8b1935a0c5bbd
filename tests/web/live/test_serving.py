"""/ws/live is served before Starlette's middleware and router (web/live/serving.py),
with the same guard, the same frames and a clean close."""

from __future__ import annotations

import asyncio
import gc
import json
import uuid
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from courtwatch.services import Services
from tests.conftest import ServerThread, wait_until
from web.members.auth import cookie_name


def ws(server: ServerThread) -> str:
    return server.url.replace("http://", "ws://") + "/ws/live"


def awaiting(task: asyncio.Task[Any]) -> list[tuple[str, str]]:
    """(file, function) of every coroutine the task is suspended in, outermost first."""
    chain, coroutine = [], task.get_coro()
    while asyncio.iscoroutine(coroutine):
        code = coroutine.cr_code  # type: ignore[attr-defined]
        chain.append((code.co_filename, code.co_name))
        coroutine = coroutine.cr_await  # type: ignore[attr-defined]
    return chain


def live_socket_stacks() -> list[list[tuple[str, str]]]:
    # Only running loops: a task left in an earlier test's closed loop is never done.
    tasks = []
    for t in gc.get_objects():
        try:  # a dead weak proxy among gc's objects raises on any look at it
            if isinstance(t, asyncio.Task) and not t.done() and t.get_loop().is_running():
                tasks.append(t)
        except ReferenceError:
            continue
    stacks = [awaiting(t) for t in tasks]
    return [s for s in stacks if any(name == "live_socket" for _, name in s)]


async def test_an_idle_viewer_holds_no_frame_of_starlettes_middleware_or_router(
    live_server: ServerThread, web_app: Any
) -> None:
    # Each frame suspended for an idle viewer's whole connection is memory it
    # keeps; Starlette's stack was ~5 KiB of the 26 an idle viewer cost.
    async with connect(ws(live_server), compression=None) as viewer:
        assert json.loads(await viewer.recv())["type"] == "snapshot"

        async def served() -> bool:
            return len(live_socket_stacks()) >= 1

        await wait_until(served)
        for stack in live_socket_stacks():
            above = stack[: [name for _, name in stack].index("live_socket")]
            assert not [f for f in above if "starlette" in f[0]], stack
    # A clean close: the server answers the client's close, forgets the
    # subscriber and counts the viewer out of the cap.
    assert viewer.close_code == 1000
    live = web_app.state.live

    async def forgotten() -> bool:
        return not live.hub.subscribers and web_app.live_socket.open == 0

    await wait_until(forgotten)
    # A foreign page is refused before it counts.
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws(live_server), origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    assert web_app.live_socket.open == 0


async def test_a_signed_in_members_map_socket_gets_its_alerts_frame_first(
    live_server: ServerThread, services: Services
) -> None:
    store = services.members
    session = store.join(store.invite([]).token, uuid.uuid4(), "Ana", b"ana", b"k", 0)
    cookie = {"Cookie": f"{cookie_name(services.settings.public_url)}={session.id}"}
    async with connect(ws(live_server), additional_headers=cookie, compression=None) as member:
        first = json.loads(await member.recv())
        assert first["type"] == "alerts" and first["scripts"]
        assert json.loads(await member.recv())["type"] == "snapshot"
    forged = {"Cookie": f"{cookie_name(services.settings.public_url)}=forged"}
    async with connect(ws(live_server), additional_headers=forged, compression=None) as anyone:
        assert json.loads(await anyone.recv())["type"] == "snapshot"
    with pytest.raises(InvalidStatus):
        async with connect(
            ws(live_server),
            origin="https://evil.example",  # type: ignore[arg-type]
            additional_headers=cookie,
        ):
            pass
