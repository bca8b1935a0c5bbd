"""Who may open the live websocket, and how many at once.

A browser always sends ``Origin`` with a websocket handshake, and a page on
another site cannot forge it: refusing foreign origins stops a hostile page
from riding a visitor's browser into the feed (cross-site websocket
hijacking), which matters once members' feeds exist. Clients that are not
browsers send no Origin and are let through, as for any public read. A cap
on open connections per process keeps one flood from exhausting memory; a
refused client backs off and reconnects (docs/live-protocol.md).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

LIVE_PATH = "/ws/live"


def same_origin(scope: Scope, public_origin: str, *, browser_only: bool = False) -> bool:
    """Whether a websocket handshake comes from a page of this site.

    Without an Origin header the client is not a browser: allowed, unless
    ``browser_only`` (a members' feed, which only our pages open).
    """
    headers = dict(scope.get("headers") or [])
    raw = headers.get(b"origin")
    if raw is None:
        return not browser_only
    origin = raw.decode("latin-1").strip().lower()
    if origin == public_origin:
        return True
    # Same origin as the address the page was served from (a browser sets
    # both Host and Origin; a foreign page cannot make them agree).
    parts = urlsplit(origin)
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host


class LiveSocketGuard:
    def __init__(self, app: ASGIApp, *, public_url: str, max_connections: int) -> None:
        self.app = app
        self.public_origin = public_url.rstrip("/").lower()
        self.max_connections = max_connections
        self.open = 0

    def allowed_origin(self, scope: Scope) -> bool:
        return same_origin(scope, self.public_origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or scope.get("path") != LIVE_PATH:
            await self.app(scope, receive, send)
            return
        if not self.allowed_origin(scope):
            await send({"type": "websocket.close", "code": 1008, "reason": "origin not allowed"})
            return
        if self.open >= self.max_connections:
            await send({"type": "websocket.close", "code": 1013, "reason": "too many viewers"})
            return
        self.open += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1
