"""The live map's routes: the page, the first-paint endpoint and the websocket.

Protocol (docs/live-protocol.md, frames in ``web/live/protocol.py``): on
connect the server sends a ``snapshot`` (or, when the client gives
``?since=P``, a ``resume`` followed by exactly the changes after P), then
``delta`` frames each carrying its position, and a ``heartbeat`` every 15 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

import asyncpg
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from courtwatch.domain.vocabulary import Kind
from courtwatch.intake import ValidationFailed
from courtwatch.services import Services
from projections.live_map.reader import LiveMapReader, MapFilter
from web import query
from web.alerts.in_page import alerts_frame_scripts
from web.errors import database_unavailable_errors
from web.i18n import LANGUAGES, negotiate
from web.live import protocol
from web.live.clusters import clustered_view
from web.live.hub import DatabaseUnavailable, Gone, Hub, SlowConsumer, Subscriber
from web.live.map_page import MAX_ZOOM, preload_links, render_map_page
from web.live.snapshots import SnapshotCache
from web.members.auth import has_session_cookie, member_for_websocket

log = logging.getLogger(__name__)

SNAPSHOT_WINDOW = timedelta(hours=24)
SNAPSHOT_LIMIT = 2000
FIRST_PAINT_LIMIT = 5000
# Resuming from further back than this costs more than a fresh snapshot.
MAX_RESUME = 20_000
DATABASE_LOST: tuple[type[BaseException], ...] = (
    DatabaseUnavailable,
    *database_unavailable_errors(),
)


class CourthouseNames:
    def __init__(self, services: Services) -> None:
        self._services = services
        self.names: dict[str, str] = {}

    async def refresh(self) -> None:
        courthouses = await run_in_threadpool(self._services.app.courthouses)
        self.names = {c.code: c.name for c in courthouses}

    async def keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(60)
            with contextlib.suppress(Exception):
                await self.refresh()


class Live:
    """What the live endpoints share: the reader, the hub, courthouse names."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.names = CourthouseNames(services)
        self.reader = LiveMapReader(services.database)
        self.hub = Hub(self.reader, self.encode_feed_row, self.encode_member_feed_row)
        # A wave of viewers connecting at one position shares one read and one encoding.
        self.snapshots = SnapshotCache(self.snapshot_frame)

    @property
    def stale_hours(self) -> float:
        return self.services.settings.sighting_stale_hours

    def encode_feed_row(self, row: asyncpg.Record) -> protocol.MapReport:
        return protocol.map_report(row["state"], self.names.names, self.stale_hours)

    async def snapshot_frame(self) -> tuple[int, str]:
        """The public snapshot now: its position and the encoded frame."""
        position, rows = await self.reader.recent(SNAPSHOT_WINDOW, SNAPSHOT_LIMIT)
        return position, protocol.snapshot(position, [self.encode(r) for r in rows])

    def encode(self, row: Mapping[str, Any]) -> protocol.MapReport:
        return protocol.map_report(row, self.names.names, self.stale_hours)

    def encode_member_feed_row(self, row: asyncpg.Record) -> protocol.MemberReport:
        # Members' names: only ever for a members' console subscriber.
        return protocol.member_report(
            row["state"], self.names.names, self.stale_hours, row["event"]
        )

    def encode_for_members(self, row: Mapping[str, Any]) -> protocol.MemberReport:
        return protocol.member_report(row, self.names.names, self.stale_hours)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Live]:
        """Open the reader, start the hub, keep courthouse names fresh; undo it all on exit."""
        await self.reader.open()
        try:
            await self.names.refresh()
            await self.hub.start()
            refresher = asyncio.create_task(self.names.keep_fresh())
            try:
                yield self
            finally:
                refresher.cancel()
                await self.hub.stop()
        finally:
            await self.reader.close()


def _live(request: Request | WebSocket) -> Live:
    return request.app.state.live  # type: ignore[no-any-return]


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if not raw:
        return None
    try:
        if not raw.isascii():  # float() also reads Arabic-Indic and fullwidth digits
            raise ValueError(raw)
        west, south, east, north = (float(part) for part in raw.split(","))
        if not all(math.isfinite(v) for v in (west, south, east, north)):
            raise ValueError(raw)
    except ValueError:
        raise ValidationFailed.single("bbox", "west,south,east,north in degrees") from None
    if not (-90 <= south <= north <= 90):
        raise ValidationFailed.single("bbox", "south and north must be latitudes, south <= north")
    return west, south, east, north


async def first_paint(request: Request) -> Response:
    """Reports in the viewport, newest change first, with the feed position they reflect."""
    live = _live(request)
    params = request.query_params
    kinds = [k for k in params.get("kinds", "").split(",") if k]
    bad = [k for k in kinds if k not in Kind.__members__.values()]
    if bad:
        raise ValidationFailed.single("kinds", f"unknown kind {bad[0]!r}")
    where = MapFilter(
        bbox=_bbox(params.get("bbox")),
        kinds=kinds,
        since=query.iso_time("since", params.get("since")),
        courthouse=query.courthouse_code("courthouse", params.get("courthouse")),
    )
    # With the page's zoom, a view holding many reports is answered with
    # clusters counted by the server (web/live/clusters.py), so every report is
    # represented; without it (older clients, the API), markers as before.
    zoom = query.optional_ascii_int("zoom", params.get("zoom"), maximum=MAX_ZOOM)
    if zoom is not None:
        body = await clustered_view(live.reader, where, zoom)
        if body is not None:
            return JSONResponse(body)
    position, rows = await live.reader.reports(where, FIRST_PAINT_LIMIT + 1)
    reports = [live.encode(r) for r in rows[:FIRST_PAINT_LIMIT]]
    return JSONResponse(
        protocol.first_paint(position, reports, truncated=len(rows) > FIRST_PAINT_LIMIT)
    )


async def _catch_up(
    websocket: WebSocket, live: Live, subscriber: Subscriber, since: int | None, joined_at: int
) -> int:
    """Send what a new viewer lacks; return the position it then holds.

    A resume within the hub's shared ring is served from it, with no database
    read (a wave of map pages each resuming from its first paint); an older one
    from the feed; anything else, or a position the server never had, gets the
    snapshot.
    """
    if since is not None and live.hub.rewind(subscriber, since):
        await websocket.send_text(protocol.resume(since))
        return since  # the frames after it come through the subscriber
    head = None if since is None else await live.reader.feed_head()
    if since is None or head is None or since > head or head - since > MAX_RESUME:
        snapshot = await live.snapshots.snapshot(joined_at)
        # ?snapshot=gzip (the map page): one binary frame, compressed once per position.
        await websocket.send(snapshot.message(websocket.query_params.get("snapshot")))
        return int(snapshot.position)
    last = since
    await websocket.send_text(protocol.resume(since))
    while True:
        rows = await live.reader.feed_after(last, 500)
        for row in rows:
            frame = protocol.delta(row["position"], live.encode_feed_row(row))
            await websocket.send_text(frame)
            last = row["position"]
        if len(rows) < 500:
            return last


async def live_socket(websocket: WebSocket) -> None:
    live = _live(websocket)
    try:
        since = query.optional_ascii_int("since", websocket.query_params.get("since"))
    except ValidationFailed as failure:
        await _refuse(websocket, failure)
        return
    version = (protocol.VERSION_HEADER.encode(), str(protocol.VERSION).encode())
    await websocket.accept(headers=[version])
    # Subscribe before reading anything, so nothing falls between catch-up and live.
    subscriber = live.hub.subscribe()
    joined_at = live.hub.position  # every frame after it reaches this subscriber
    watcher = asyncio.create_task(_watch_for_disconnect(websocket, subscriber))
    last: int | None = None
    try:
        # A signed-in member's map shows their alerts: only this socket says so,
        # never the page (the same bytes for everyone). No lookup without a cookie.
        if has_session_cookie(websocket) and await member_for_websocket(websocket, touch=False):
            await websocket.send_text(protocol.alerts(alerts_frame_scripts()))
        # Nothing reads the handshake's headers again, but the server keeps the
        # scope for the connection's life: ~0.9 KiB per idle viewer.
        if isinstance(websocket.scope.get("headers"), list):
            websocket.scope["headers"].clear()
        last = since  # what a close before the catch-up ends tells the client to resume from
        last = await _catch_up(websocket, live, subscriber, since, joined_at)
        while True:
            item = await subscriber.next()
            if item is None:
                await websocket.send_text(protocol.heartbeat(last))
                continue
            position, frame_text = item
            if position <= last:
                continue  # already sent during catch-up
            await websocket.send_text(frame_text)
            last = position
    except SlowConsumer:
        await websocket.close(code=1013, reason="too slow: reconnect with ?since=<position>")
    except DATABASE_LOST:
        # 1013 "try again later": the map's database is down or restarting.
        # The reason stays under the 123-byte limit of a close frame.
        resume = f"?since={last}" if last is not None else "later"
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.close(code=1013, reason=f"database unavailable: reconnect {resume}")
    except (WebSocketDisconnect, RuntimeError, Gone):
        pass
    finally:
        watcher.cancel()
        live.hub.unsubscribe(subscriber)


async def _refuse(websocket: WebSocket, failure: ValidationFailed) -> None:
    """Answer a bad upgrade request with a plain 422 (as the HTTP API does), not a socket."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        problems = [p.model_dump() for p in failure.problems]
        body = {"error": "invalid fields", "fields": problems}
        await websocket.send_denial_response(JSONResponse(body, status_code=422))
    else:  # a server without the denial extension answers 403
        await websocket.close(code=1008, reason=str(failure)[:120])


async def _watch_for_disconnect(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Clients send nothing we need; reading is how we learn they have left."""
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    except (WebSocketDisconnect, RuntimeError):
        pass
    subscriber.close()


def map_pages(services: Services) -> dict[str, str]:
    """Render the map page once per language at startup: a bad tile setting fails fast."""
    settings = services.settings
    return {
        lang: render_map_page(
            tile_url=settings.tile_url,
            tile_attribution=settings.tile_attribution,
            lang=lang,
            stale_hours=settings.sighting_stale_hours,
        )
        for lang in LANGUAGES
    }


async def map_page(request: Request) -> Response:
    return HTMLResponse(
        request.app.state.map_pages[negotiate(request)],
        headers={"Link": preload_links()},
    )
