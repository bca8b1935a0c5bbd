"""The Starlette application: routes, error mapping, startup and shutdown."""

from __future__ import annotations

import contextlib
import logging
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

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"

# A feature that needs something started with the app (a database pool, a
# listener, background projections) contributes a lifespan hook.
LifespanHook = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


class SecurityHeaders:
    """Pages may talk to this server only (and fetch tiles from the configured host)."""

    def __init__(self, app: ASGIApp, tile_url: str | None) -> None:
        self.app = app
        tiles = ""
        if tile_url:
            parts = urlparse(tile_url.replace("{s}", "a"))
            tiles = f" {parts.scheme}://{parts.netloc}".replace("://a.", "://*.")
        policy = (
            "default-src 'self'; "
            # folium writes its map set-up as inline script.
            "script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{tiles}; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        )
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
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
