"""The console's alerts page: a member's subscriptions on a phone, and push on this device.

The page is rendered with the member's subscriptions; its script
(web/static/js/alerts.js) adds and removes them through the JSON API with the
page's CSRF token, and turns on Web Push for this browser.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from courtwatch.alerts.model import ALERT_KINDS, MinimumStatus
from web.i18n import LANGUAGES, negotiate, translator
from web.members.auth import csrf_token, current_member
from web.templating import templates

NO_STORE = {"Cache-Control": "no-store"}


async def alerts_page(request: Request) -> Response:
    member = await current_member(request)
    lang = negotiate(request)
    if member is None:
        return RedirectResponse(f"/signin?lang={lang}", status_code=303)
    services = request.app.state.services
    subscriptions = await run_in_threadpool(services.alerts.subscriptions, member.id)
    # Members pick courthouses by name, as on the report form: a code such as
    # "ULS" means nothing to most people.
    courthouses = await run_in_threadpool(services.app.courthouses)
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
        "default_zone": request.app.state.services.settings.timezone,
    }
    return templates.TemplateResponse(request, "alerts.html", context, headers=NO_STORE)
