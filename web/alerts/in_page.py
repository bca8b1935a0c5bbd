"""In-page alerts on the live map, for the signed-in member who has it open.

The map page is public and the same bytes for everyone (rendered at startup,
kept by the service worker, cacheable): it never says who is signed in. Only
the map's websocket learns it, from the session cookie of its handshake
(web/live/routes.py): to a member's socket it sends one ``alerts`` frame naming
the script of this feature (web/static/js/map-alerts.js); an anonymous
visitor's gets nothing and loads nothing more.

That script rings this endpoint for each report the map's feed changes:
``GET /api/alerts/in-page/{report_id}?status=S&lang=L`` answers whether the
delivery projection has folded the report up to status S yet (``processed``;
the script asks again a few times while it has not) and the member's alerts
about it, worded in their language. The alerts are the outbox's own rows
(courtwatch.alerts.store.AlertStore.in_page): what the member's subscriptions
matched, one source of truth with Web Push. The session is checked without
being touched: a map left open in a background tab does not keep it alive.
"""

from __future__ import annotations

import functools
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from courtwatch.alerts import AlertStore
from courtwatch.alerts.model import STATUS_LEVELS
from courtwatch.alerts.store import InPage
from courtwatch.application import ReportNotFound
from courtwatch.domain.vocabulary import Status
from courtwatch.intake import ValidationFailed
from courtwatch.members import Member
from web.errors import NotSignedIn
from web.i18n import negotiate, translator
from web.members.auth import session_id, store
from web.static_assets import asset_url

NO_STORE = {"Cache-Control": "no-store"}
SCRIPT = "js/map-alerts.js"
# The script that shows them (title count, notification, tone): the console's.
SHOW_SCRIPT = "js/in-page-alerts.js"
_STATUSES = frozenset(s.value for s in Status)


def alerts_frame_scripts() -> list[str]:
    """The scripts a member's map loads, in order (the ``alerts`` frame's)."""
    return [asset_url(SHOW_SCRIPT), asset_url(SCRIPT)]


async def _member(request: Request) -> Member:
    """The member of the session cookie, checked without restarting its idle time."""
    found = session_id(request)
    live = (
        None
        if found is None
        else await run_in_threadpool(functools.partial(store(request).session, found, touch=False))
    )
    if live is None:
        raise NotSignedIn("sign in to get alerts on the map")
    return live[0]


def _worded(alert: InPage, lang: str) -> dict[str, Any]:
    t = translator(lang)
    payload = alert.payload
    kind, status = str(payload.get("kind", "")), str(payload.get("status", ""))
    courthouse = payload.get("courthouse") or t("alerts.nearby")
    return {
        "id": str(alert.delivery_id),
        "kind": kind,
        "courthouse_code": payload.get("courthouse"),
        "status": status,
        "trigger": str(payload.get("trigger", "")),
        "title": t("alerts.title").format(kind=t(f"kind.{kind}"), courthouse=courthouse),
        "body": t("alerts.body").format(
            status=t(f"status.{status}"), count=int(payload.get("thread_reports") or 1)
        ),
        # One notification per incident, as Web Push tags them.
        "tag": f"courtwatch-{payload.get('thread', alert.delivery_id)}",
        "link": str(payload.get("link", "")),
    }


async def report_alerts_in_page(request: Request) -> Response:
    member = await _member(request)
    raw = request.path_params["report_id"]
    try:
        report_id = UUID(raw)
    except ValueError:
        raise ReportNotFound(raw[:64]) from None
    status = request.query_params.get("status", Status.UNVERIFIED.value)
    if status not in _STATUSES:
        raise ValidationFailed.single("status", "one of " + ", ".join(sorted(_STATUSES)))
    alerts: AlertStore = request.app.state.services.alerts
    level, found = await run_in_threadpool(alerts.in_page, member.id, report_id)
    lang = negotiate(request)
    return JSONResponse(
        {
            "processed": level is not None and level >= STATUS_LEVELS.get(status, 0),
            # The strip the map shows them in: "Your alerts (2): <title>".
            "label": translator(lang)("alerts.on_map"),
            "alerts": [_worded(alert, lang) for alert in found],
        },
        headers=NO_STORE,
    )
