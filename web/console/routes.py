"""The responder console: the page, its members-only websocket, and no-JS actions.

``/console`` lists the reports needing a member's verdict, newest first,
narrowed by courthouses and kinds. ``/ws/console`` keeps it live from the same
hub as the public map, but with members' fields (who is going, who is there):
it takes a signed-in member's session cookie and a page of this site only.
Each action is the JSON API's (``/api/reports/{id}/...``, with the page's CSRF
token); ``POST /console/reports/{id}/{action}`` does the same for a form sent
without JavaScript.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from courtwatch.application import Courtwatch, ReportNotFound
from courtwatch.domain.vocabulary import DisputeReason, Kind
from courtwatch.intake import ValidationFailed
from courtwatch.members import MemberRole
from web import query
from web.errors import NotAuthorised
from web.i18n import LANGUAGES, TEXT, negotiate, translator
from web.live import protocol
from web.live.guard import same_origin
from web.live.hub import Gone, SlowConsumer
from web.live.routes import DATABASE_LOST, Live, _watch_for_disconnect
from web.members.auth import csrf_token, current_member, member_for_websocket, require_member
from web.reports.pages import FORMS, VALUE_LABELS, templates

QUEUE_LIMIT = 300
MAP_WAIT = 2.0
NO_STORE = {"Cache-Control": "no-store"}
ACTIONS = ("verify", "dispute", "claim", "on-scene", "resolve", "outcome")
# The labels the console's script needs, by key.
LABEL_PREFIXES = (
    "status.", "kind.", "event.", "console.", "dispute_reason.", "outcome.", "alerts.",
)  # fmt: skip


def _live(connection: Request | WebSocket) -> Live:
    return connection.app.state.live  # type: ignore[no-any-return]


def _app(connection: Request | WebSocket) -> Courtwatch:
    return connection.app.state.services.app  # type: ignore[no-any-return]


def _filters(request: Request) -> tuple[list[str], list[str]]:
    """?courthouse=CODE&kind=KIND (each repeatable); anything else is refused (422)."""
    courthouses = [
        code
        for raw in request.query_params.getlist("courthouse")[:50]
        if (code := query.courthouse_code("courthouse", raw)) is not None
    ]
    kinds = request.query_params.getlist("kind")[:10]
    for kind in kinds:
        if kind not in {k.value for k in Kind} or kind == Kind.WATCH_SHIFT:
            raise ValidationFailed.single("kind", "a kind of report that takes a verdict")
    return courthouses, kinds


def _labels(lang: str) -> dict[str, str]:
    t = translator(lang)
    return {key: t(key) for key in TEXT if key.startswith(LABEL_PREFIXES)}


async def console_page(request: Request) -> Response:
    member = await current_member(request)
    if member is None:
        return RedirectResponse(f"/signin?lang={negotiate(request)}", status_code=303)
    if not member.sees_members_views():
        raise NotAuthorised("the console needs a member with a role")
    courthouses, kinds = _filters(request)
    live = _live(request)
    _, rows = await live.reader.queue(courthouses, kinds, QUEUE_LIMIT)
    reports = [live.encode_for_members(row) for row in rows]
    every_courthouse = await run_in_threadpool(_app(request).courthouses)
    lang = negotiate(request)
    context: dict[str, Any] = {
        "lang": lang,
        "other_lang": LANGUAGES[1 - LANGUAGES.index(lang)],
        "t": translator(lang),
        "csrf_token": csrf_token(request),
        "member": member,
        "can_act": member.may(MemberRole.RESPONDER),
        "reports": reports,
        "courthouses": every_courthouse,
        "chosen_courthouses": courthouses,
        "kinds": [k.value for k in Kind if k is not Kind.WATCH_SHIFT],
        "chosen_kinds": kinds,
        "reasons": [r.value for r in DisputeReason],
        "outcomes": {
            kind.value: next(f for f in FORMS[kind] if f[0] == "outcome")[2]
            for kind in (Kind.COURTHOUSE_ARREST, Kind.CALL_IN)
        },
        "value_labels": VALUE_LABELS,
        "labels": _labels(lang),
    }
    return templates.TemplateResponse(request, "console.html", context, headers=NO_STORE)


async def console_action(request: Request) -> Response:
    """A console action sent as a plain form (no JavaScript): act, then back to the queue."""
    member = await require_member(request, MemberRole.RESPONDER)  # CSRF field checked
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise ValidationFailed.single("action", "one of: " + ", ".join(ACTIONS))
    try:
        report_id = UUID(request.path_params["report_id"])
    except ValueError:
        raise ReportNotFound(request.path_params["report_id"]) from None
    form = await request.form(max_files=0, max_fields=10)
    app, name, member_id = _app(request), member.display_name, str(member.id)
    position: int | None
    if action == "verify":
        position = await run_in_threadpool(app.verify, report_id, name, member_id)
    elif action == "dispute":
        reason = form.get("reason")
        if not isinstance(reason, str) or not reason:
            raise ValidationFailed.single("reason", "required")
        position = await run_in_threadpool(app.dispute, report_id, name, reason, member_id)
    elif action == "claim":
        position = await run_in_threadpool(app.claim, report_id, name, member_id)
    elif action == "on-scene":
        position = await run_in_threadpool(app.confirm_on_scene, report_id, name, member_id)
    elif action == "resolve":
        position = await run_in_threadpool(app.resolve, report_id, name, member_id)
    else:
        outcome = form.get("outcome")
        if not isinstance(outcome, str) or not outcome:
            raise ValidationFailed.single("outcome", "required")
        position = await run_in_threadpool(
            app.record_outcome, report_id, None, {"outcome": outcome}, name, member_id
        )
    if position is not None:
        await _until_on_the_map(_live(request), position)
    return RedirectResponse(f"/console?lang={negotiate(request)}#r-{report_id}", status_code=303)


async def _until_on_the_map(live: Live, position: int) -> None:
    """Wait (briefly) until the live map view has folded ``position``, so the
    queue the redirect shows already says what this member just did. The
    projection takes milliseconds; after MAP_WAIT the page shows what it has."""
    deadline = asyncio.get_running_loop().time() + MAP_WAIT
    with contextlib.suppress(*DATABASE_LOST):
        while await live.reader.feed_head() < position:
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.02)


async def console_socket(websocket: WebSocket) -> None:
    """The console's live feed: members only, pages of this site only."""
    settings = websocket.app.state.services.settings
    if not same_origin(websocket.scope, settings.public_url.rstrip("/").lower(), browser_only=True):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    member = await member_for_websocket(websocket)
    if member is None or not member.sees_members_views():
        await websocket.close(code=1008, reason="sign in first")
        return
    live = _live(websocket)
    version = (protocol.VERSION_HEADER.encode(), str(protocol.VERSION).encode())
    await websocket.accept(headers=[version])
    # Subscribe before reading, so nothing falls between the snapshot and live frames.
    subscriber = live.hub.subscribe(members=True)
    watcher = asyncio.create_task(_watch_for_disconnect(websocket, subscriber))
    last = 0
    try:
        last, rows = await live.reader.queue([], [], QUEUE_LIMIT)
        await websocket.send_text(
            protocol.snapshot(last, [live.encode_for_members(r) for r in rows])
        )
        while True:
            item = await subscriber.next()
            if item is None:
                # A revoked member or an ended session stops at the next beat.
                # Checked, not touched: an open socket is not the member's activity.
                still = await member_for_websocket(websocket, touch=False)
                if still is None or not still.sees_members_views():
                    await websocket.close(code=1008, reason="signed out")
                    return
                await websocket.send_text(protocol.heartbeat(last))
                continue
            position, frame = item
            if position <= last:
                continue
            await websocket.send_text(frame)
            last = position
    except SlowConsumer:
        await websocket.close(code=1013, reason="too slow: reconnect")
    except DATABASE_LOST:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.close(code=1013, reason="database unavailable: reconnect later")
    except (WebSocketDisconnect, RuntimeError, Gone):
        pass
    finally:
        watcher.cancel()
        live.hub.unsubscribe(subscriber)
