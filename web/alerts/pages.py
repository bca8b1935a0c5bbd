"""The console's alerts page: a member's subscriptions on a phone, and push on this device.

The page is a plain form (web/alerts/forms.py posts it): courthouses, kinds,
status and quiet hours work without JavaScript. Its scripts add what needs
one: drawing an area on a map (web/static/js/alerts-map.js: a circle or a
polygon, sent in the form's ``area`` field), the phone's own time zone, and
Web Push for this browser (web/static/js/alerts.js).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from courtwatch.alerts.model import (
    ALERT_KINDS,
    MAX_POLYGON_POINTS,
    MAX_POLYGON_SPAN,
    MAX_RADIUS_M,
    MinimumStatus,
    Subscription,
    area_json,
)
from courtwatch.members import Member
from web.i18n import LANGUAGES, negotiate, translator
from web.members.auth import csrf_token, current_member
from web.static_assets import asset_url
from web.templating import templates

NO_STORE = {"Cache-Control": "no-store"}


async def alerts_page(request: Request) -> Response:
    member = await current_member(request)
    lang = negotiate(request)
    if member is None:
        return RedirectResponse(f"/signin?lang={lang}", status_code=303)
    return await render_alerts_page(request, member, editing=_edit_id(request))


def _edit_id(request: Request) -> UUID | None:
    """``?edit=<id>``: the form edits that subscription (one not the member's is ignored)."""
    raw = request.query_params.get("edit", "")
    try:
        return UUID(raw) if 0 < len(raw) <= 36 else None
    except ValueError:
        return None


def _as_sent(subscription: Subscription) -> dict[str, Any]:
    """A stored subscription as the form's fields, to edit it."""
    spec = subscription.spec
    area = area_json(spec.area)
    return {
        "label": spec.label,
        "courthouses": list(spec.courthouses),
        # No kinds stored means every kind: shown as every box ticked.
        "kinds": list(spec.kinds or ALERT_KINDS),
        "min_status": spec.min_status.value,
        "quiet_start": spec.quiet_hours.start.strftime("%H:%M") if spec.quiet_hours else "",
        "quiet_end": spec.quiet_hours.end.strftime("%H:%M") if spec.quiet_hours else "",
        "timezone": spec.timezone,
        "area": "" if area is None else json.dumps(area, separators=(",", ":")),
    }


async def render_alerts_page(
    request: Request,
    member: Member,
    *,
    error: str | None = None,
    sent: dict[str, Any] | None = None,
    status_code: int = 200,
    editing: UUID | None = None,
) -> Response:
    """The page; after a refused form, with the reason and what was sent kept.

    ``editing``: the form changes that subscription of the member's instead of
    adding one, filled in with it (or with what was sent, after a refusal)."""
    lang = negotiate(request)
    services = request.app.state.services
    settings = services.settings
    subscriptions = await run_in_threadpool(services.alerts.subscriptions, member.id)
    edited = next((s for s in subscriptions if s.id == editing), None)
    if edited is not None and sent is None:
        sent = _as_sent(edited)
    # Members pick courthouses by name, as on the report form: a code such as
    # "ULS" means nothing to most people.
    courthouses = await run_in_threadpool(services.app.courthouses)
    map_config = {
        "tiles": settings.tile_url,
        "attribution": settings.tile_attribution,
        "maxCorners": MAX_POLYGON_POINTS,
        "maxSpan": MAX_POLYGON_SPAN,
        "maxRadiusKm": MAX_RADIUS_M / 1000,
        "courthouses": [[c.code, c.name, c.lat, c.lon] for c in courthouses],
        # Without a tile server: the vendored state outlines (as the live map).
        "states": asset_url("vendor/us-atlas-3.0.1/states-10m.json"),
    }
    context = {
        "lang": lang,
        "other_lang": LANGUAGES[1 - LANGUAGES.index(lang)],
        "t": translator(lang),
        "csrf_token": csrf_token(request),
        "member": member,
        "subscriptions": subscriptions,
        "courthouses": courthouses,
        "courthouse_names": {c.code: f"{c.name}, {c.city}" for c in courthouses},
        "kinds": ALERT_KINDS,
        "levels": [m.value for m in MinimumStatus],
        "default_zone": settings.timezone,
        "map_config": json.dumps(map_config, separators=(",", ":")),
        # Each subscription's area, drawn on the map (the one edited is editable).
        "areas": {
            str(s.id): json.dumps(area_json(s.spec.area), separators=(",", ":"))
            for s in subscriptions
            if s.spec.area is not None
        },
        "editing": edited,
        "error": error,
        "sent": sent or {},
    }
    return templates.TemplateResponse(
        request, "alerts.html", context, status_code=status_code, headers=NO_STORE
    )
