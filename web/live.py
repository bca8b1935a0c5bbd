"""The live map's server side: first-paint query, websocket protocol, startup.

Protocol (docs/live-protocol.md): on connect the server sends a ``snapshot``
(or, when the client gives ``?since=P``, a ``resume`` followed by exactly the
changes after P), then ``delta`` frames each carrying its position, and a
``heartbeat`` every 15 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from courtwatch.bootstrap import Services
from courtwatch.domain.vocabulary import Kind
from courtwatch.intake import ValidationFailed
from projections import runner
from projections.live_map import DDL
from web.hub import Gone, Hub, SlowConsumer, Subscriber, feed_after, feed_head
from web.i18n import LANGUAGES, negotiate
from web.map_page import render_map_page

log = logging.getLogger(__name__)

SNAPSHOT_WINDOW = timedelta(hours=24)
SNAPSHOT_LIMIT = 2000
FIRST_PAINT_LIMIT = 5000
# Resuming from further back than this costs more than a fresh snapshot.
MAX_RESUME = 20_000


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


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def map_report(
    row: Mapping[str, Any], names: Mapping[str, str], stale_hours: float
) -> dict[str, Any]:
    """The MapReport the page draws, from a map_reports row or a feed state."""
    kind = row["kind"]
    observed = row["observed_at"]
    observed_at = observed if isinstance(observed, datetime) else datetime.fromisoformat(observed)
    code = row["courthouse_code"]
    details = row["details"]
    stale_at = observed_at + timedelta(hours=stale_hours) if kind == Kind.SIGHTING else None
    where = names.get(code, code) if code else "pinned place"
    agents = details.get("agents_count")
    title = f"{kind.replace('_', ' ')} · {where}" + (f" · {agents} agents" if agents else "")
    return {
        "id": str(row["report_id"]),
        "kind": kind,
        "status": row["status"],
        "courthouse_code": code,
        "courthouse_name": names.get(code) if code else None,
        "lat": row["lat"],
        "lon": row["lon"],
        "observed_at": observed_at.isoformat(),
        "updated_at": _iso(row["updated_at"]),
        "last_event": row["last_event"],
        "stale_at": stale_at.isoformat() if stale_at else None,
        "corroborations": row["corroborations"],
        "title": title,
        "url": f"/reports/{row['report_id']}",
    }


class Live:
    """What the live endpoints share: the pool, the hub, courthouse names."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.names = CourthouseNames(services)
        self.pool: asyncpg.Pool | None = None
        self.hub: Hub | None = None

    @property
    def stale_hours(self) -> float:
        return self.services.settings.sighting_stale_hours

    def encode_feed_row(self, row: asyncpg.Record) -> dict[str, Any]:
        return map_report(row["state"], self.names.names, self.stale_hours)

    def encode(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return map_report(row, self.names.names, self.stale_hours)


def _live(request: Request | WebSocket) -> Live:
    return request.app.state.live  # type: ignore[no-any-return]


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if not raw:
        return None
    try:
        west, south, east, north = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValidationFailed.single("bbox", "west,south,east,north in degrees") from None
    if not (-90 <= south <= north <= 90):
        raise ValidationFailed.single("bbox", "south and north must be latitudes, south <= north")
    return west, south, east, north


async def first_paint(request: Request) -> Response:
    """Reports in the viewport, newest change first, with the feed position they reflect."""
    live = _live(request)
    assert live.pool is not None
    params = request.query_params
    clauses: list[str] = []
    args: list[Any] = []
    box = _bbox(params.get("bbox"))
    if box:
        west, south, east, north = box
        args += [south, north]
        clauses.append(f"lat BETWEEN ${len(args) - 1} AND ${len(args)}")
        if west <= east:
            args += [west, east]
            clauses.append(f"lon BETWEEN ${len(args) - 1} AND ${len(args)}")
    kinds = [k for k in params.get("kinds", "").split(",") if k]
    if kinds:
        bad = [k for k in kinds if k not in Kind.__members__.values()]
        if bad:
            raise ValidationFailed.single("kinds", f"unknown kind {bad[0]!r}")
        args.append(kinds)
        clauses.append(f"kind = ANY(${len(args)})")
    if params.get("since"):
        try:
            since = datetime.fromisoformat(params["since"])
        except ValueError:
            raise ValidationFailed.single("since", "an ISO 8601 time") from None
        args.append(since)
        clauses.append(f"updated_at >= ${len(args)}")
    if params.get("courthouse"):
        args.append(params["courthouse"])
        clauses.append(f"courthouse_code = ${len(args)}")
    where = " AND ".join(clauses) or "true"
    async with live.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        position = await conn.fetchval("SELECT coalesce(max(position), 0) FROM activity_feed")
        rows = await conn.fetch(
            f"SELECT * FROM map_reports WHERE {where} ORDER BY updated_at DESC "
            f"LIMIT {FIRST_PAINT_LIMIT + 1}",
            *args,
        )
    return JSONResponse(
        {
            "position": position,
            "reports": [live.encode(r) for r in rows[:FIRST_PAINT_LIMIT]],
            "truncated": len(rows) > FIRST_PAINT_LIMIT,
        }
    )


async def _snapshot(live: Live) -> tuple[int, list[dict[str, Any]]]:
    assert live.pool is not None
    async with live.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        position = await conn.fetchval("SELECT coalesce(max(position), 0) FROM activity_feed")
        rows = await conn.fetch(
            "SELECT * FROM map_reports WHERE updated_at >= now() - $1::interval "
            "ORDER BY updated_at DESC LIMIT $2",
            SNAPSHOT_WINDOW,
            SNAPSHOT_LIMIT,
        )
    return int(position), [live.encode(r) for r in rows]


async def live_socket(websocket: WebSocket) -> None:
    live = _live(websocket)
    assert live.hub is not None and live.pool is not None
    await websocket.accept()
    # Subscribe before reading anything, so nothing falls between catch-up and live.
    subscriber = live.hub.subscribe()
    watcher = asyncio.create_task(_watch_for_disconnect(websocket, subscriber))
    try:
        since_raw = websocket.query_params.get("since")
        since = int(since_raw) if since_raw and since_raw.isdigit() else None
        head = await feed_head(live.pool)
        last: int
        if since is None or since > head or head - since > MAX_RESUME:
            last, reports = await _snapshot(live)
            await websocket.send_text(
                json.dumps({"type": "snapshot", "position": last, "reports": reports})
            )
        else:
            last = since
            await websocket.send_text(json.dumps({"type": "resume", "position": since}))
            while True:
                rows = await feed_after(live.pool, last, 500)
                for row in rows:
                    frame = {
                        "type": "delta",
                        "position": row["position"],
                        "report": live.encode_feed_row(row),
                    }
                    await websocket.send_text(json.dumps(frame))
                    last = row["position"]
                if len(rows) < 500:
                    break
        while True:
            item = await subscriber.next()
            if item is None:
                await websocket.send_text(json.dumps({"type": "heartbeat", "position": last}))
                continue
            position, frame_text = item
            if position <= last:
                continue  # already sent during catch-up
            await websocket.send_text(frame_text)
            last = position
    except SlowConsumer:
        await websocket.close(code=1013, reason="too slow: reconnect with ?since=<position>")
    except (WebSocketDisconnect, RuntimeError, Gone):
        pass
    finally:
        watcher.cancel()
        live.hub.unsubscribe(subscriber)


async def _watch_for_disconnect(websocket: WebSocket, subscriber: Subscriber) -> None:
    """Clients send nothing we need; reading is how we learn they have left."""
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    except (WebSocketDisconnect, RuntimeError):
        pass
    subscriber.close()


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def lifespan_hook(services: Services, *, run_projections: bool) -> Any:
    @contextlib.asynccontextmanager
    async def hook(app: Starlette) -> AsyncIterator[None]:
        db = services.database
        connect_args: dict[str, Any] = dict(
            host=db.host,
            port=db.port,
            user=db.user,
            password=db.password or None,
            database=db.dbname,
        )
        pool = await asyncpg.create_pool(
            min_size=1, max_size=10, init=_init_connection, **connect_args
        )
        for statement in DDL:  # the projection may not have created its tables yet
            await pool.execute(statement)
        running = await run_in_threadpool(runner.Supervisor, db) if run_projections else None
        live = Live(services)
        await live.names.refresh()
        live.pool = pool
        live.hub = Hub(pool, lambda: asyncpg.connect(**connect_args), live.encode_feed_row)
        await live.hub.start()
        refresher = asyncio.create_task(live.names.keep_fresh())
        app.state.live = live
        try:
            yield
        finally:
            refresher.cancel()
            await live.hub.stop()
            await pool.close()
            if running is not None:
                await run_in_threadpool(running.stop)

    return hook


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
    return HTMLResponse(request.app.state.map_pages[negotiate(request)])


routes = [
    Route("/map", map_page),
    # Compressed here only: 5,000 markers are ~2.3 MB of JSON, ~10x less gzipped.
    # Not app-wide, so no page that carries an author token is ever compressed.
    Route(
        "/api/map/reports", first_paint, middleware=[Middleware(GZipMiddleware, minimum_size=1024)]
    ),
    WebSocketRoute("/ws/live", live_socket),
]
