"""The live map's websocket is served before Starlette's middleware and router.

An idle viewer's connection stays open for hours, and every coroutine frame
suspended under it stays in memory all that time: through the middleware
stack, the router and Starlette's exception handling that was ~5 KiB per idle
viewer (bench/viewer_memory.py), a fifth of what one cost. None of that stack
does anything for this socket: the HTTP middlewares (security headers, the
signed-in header, body limits) pass websockets through, and ``live_socket``
answers its own errors. So the app hands ``/ws/live`` straight to the guard
(web/live/guard.py: origin and connection cap), which calls ``live_socket``;
every other request goes through Starlette as before. The route table keeps
``/ws/live`` (web/app.py ``routes()``), for the documentation and the fuzz test.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from web.live.guard import LIVE_PATH, LiveSocketGuard
from web.live.routes import live_socket


def _live_socket_app(scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
    # Not a coroutine function: returning live_socket's coroutine keeps no frame of its own.
    return live_socket(WebSocket(scope, receive, send))


class LiveSocketFirst(Starlette):
    """Starlette, with ``/ws/live`` answered by the guard and ``live_socket`` directly."""

    def __init__(self, *, public_url: str, max_viewers: int, **options: Any) -> None:
        super().__init__(**options)
        self.live_socket = LiveSocketGuard(
            _live_socket_app, public_url=public_url, max_connections=max_viewers
        )

    def __call__(  # type: ignore[override]
        self, scope: Scope, receive: Receive, send: Send
    ) -> Coroutine[Any, Any, None]:
        # Not a coroutine function either: the connection keeps no frame of this call.
        if scope["type"] == "websocket" and scope.get("path") == LIVE_PATH:
            scope["app"] = self  # as Starlette sets it: live_socket reads app.state
            return self.live_socket(scope, receive, send)
        return super().__call__(scope, receive, send)
