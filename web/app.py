"""The Starlette application: routes, error mapping, startup and shutdown."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from courtwatch.bootstrap import Services
from web import api, pages
from web.errors import EXCEPTION_HANDLERS
from web.limits import BodySizeLimit
from web.map_page import inline_script_hashes

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

# A feature that needs something started with the app (a database pool, a
# listener, background projections) contributes a lifespan hook.
LifespanHook = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


class SecurityHeaders:
    """Pages may talk to this server only (and fetch tiles from the configured host).

    No inline script runs unless the server vouches for it: templates mark theirs
    with this request's nonce (``request.state.csp_nonce``), and the live map,
    which folium renders once at startup, is allowed by the hashes of its scripts.
    """

    def __init__(self, app: ASGIApp, tile_url: str | None) -> None:
        self.app = app
        tiles = ""
        if tile_url:
            parts = urlparse(tile_url.replace("{s}", "a"))
            tiles = f" {parts.scheme}://{parts.netloc}".replace("://a.", "://*.")
        self.policy = (
            "default-src 'self'; script-src 'self' {scripts}; "
            "style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{tiles}; connect-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        )
        self.headers = [
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
        ]
        self._map_hashes: tuple[int, str] = (0, "")

    def _hashes_of_rendered_pages(self, scope: Scope) -> str:
        pages = getattr(getattr(scope.get("app"), "state", None), "map_pages", None) or {}
        if self._map_hashes[0] != id(pages):
            hashes = sorted({h for page in pages.values() for h in inline_script_hashes(page)})
            self._map_hashes = (id(pages), " ".join(hashes))
        return self._map_hashes[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        scripts = f"'nonce-{nonce}' {self._hashes_of_rendered_pages(scope)}".strip()
        policy = self.policy.replace("{scripts}", scripts).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", policy),
                    *self.headers,
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    services: Services,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    lifespan_hooks: Sequence[LifespanHook] = (),
) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with contextlib.AsyncExitStack() as stack:
            for hook in lifespan_hooks:
                await stack.enter_async_context(hook(app))
            log.info("web app started")
            yield {}
        log.info("web app stopped")

    settings = services.settings
    app = Starlette(
        routes=[
            *api.routes,
            *pages.routes,
            *extra_routes,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders, tile_url=settings.tile_url),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.services = services
    return app
