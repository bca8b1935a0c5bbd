"""member_for_websocket: the member of a session cookie on a websocket handshake,
None for no cookie, a forged one, or a revoked member's (for the console's feed)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.test_attacks import joined
from web.members.auth import member_for_websocket


async def who_is_there(websocket: WebSocket) -> None:
    member = await member_for_websocket(websocket)
    await websocket.accept()
    await websocket.send_text(member.display_name if member else "-")
    await websocket.close()


async def test_the_websocket_sees_the_session_member_until_revoked(
    live_server: ServerThread, browser: Any, services: Services
) -> None:
    context, _, headers = await joined(browser, services, "Sock", "responder")
    probe = Starlette(routes=[WebSocketRoute("/who", who_is_there)])
    probe.state.services = services
    with ServerThread(probe) as server:
        url = server.url.replace("http", "ws") + "/who"

        async def ask(cookie: str | None) -> str:
            extra = {"Cookie": cookie} if cookie else {}
            async with connect(url, additional_headers=extra) as socket:
                return str(await socket.recv())

        assert await ask(headers["Cookie"]) == "Sock"
        assert await ask(None) == "-"
        assert await ask("courtwatch_session=forged") == "-"
        (sock,) = services.members.members()
        services.members.revoke(sock.id, by=None)
        assert await ask(headers["Cookie"]) == "-"
    await context.close()
