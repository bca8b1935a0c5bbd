"""The alerts page's forms, which work without JavaScript: add an alert, remove one.

``POST /console/alerts`` takes the page's fields (courthouses, kinds, status,
quiet hours, time zone, and an ``area`` the map script fills in as JSON) with
the session's CSRF token, checks them with the same guard as the JSON API
(courtwatch.alerts.model.check_subscription) and answers 303 back to the page;
a refused one re-renders the page with the reason and what was sent, and
stores nothing.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from courtwatch.alerts import SubscriptionNotFound
from courtwatch.alerts.model import AlertError, InvalidAlertField, check_subscription
from web.alerts.pages import render_alerts_page
from web.i18n import negotiate, translator
from web.members.auth import require_member

# The map's JSON: a hundred corners are about 4 kB; anything far longer is not one.
MAX_AREA_TEXT = 16_384
# A page form has a few dozen fields; a body of thousands is not one.
MAX_FIELDS = 200


def _refuse_constant(name: str) -> Any:
    raise InvalidAlertField("area", f"{name} is not a number")


def _area(text: str) -> Any:
    if not text.strip():
        return None
    if len(text) > MAX_AREA_TEXT:
        raise InvalidAlertField("area", "too long")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    # Bad JSON, integers over 4,300 digits, arrays nested thousands deep.
    except (ValueError, RecursionError):
        raise InvalidAlertField("area", "is not a drawn area") from None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _body(form: FormData) -> dict[str, Any]:
    """The form as the JSON API's body (check_subscription refuses what is wrong)."""
    start, end = _text(form, "quiet_start"), _text(form, "quiet_end")
    if bool(start) != bool(end):
        raise InvalidAlertField("quiet_hours", "give both a start and an end, or neither")
    return {
        "label": _text(form, "label"),
        "courthouses": form.getlist("courthouses"),
        "area": _area(_text(form, "area")),
        "kinds": form.getlist("kinds"),
        "min_status": _text(form, "min_status") or "any",
        "quiet_hours": {"start": start, "end": end} if start else None,
        "timezone": _text(form, "timezone") or "UTC",
        "channel": "push",
    }


def _sent(form: FormData) -> dict[str, Any]:
    """What the member sent, to fill the form in again (strings only, capped)."""
    return {
        "label": _text(form, "label")[:80],
        "courthouses": [c for c in form.getlist("courthouses") if isinstance(c, str)][:50],
        "kinds": [k for k in form.getlist("kinds") if isinstance(k, str)][:5],
        "min_status": _text(form, "min_status")[:20],
        "quiet_start": _text(form, "quiet_start")[:5],
        "quiet_end": _text(form, "quiet_end")[:5],
        "timezone": _text(form, "timezone")[:64],
        "area": _text(form, "area")[:MAX_AREA_TEXT],
    }


# The guard's fields, as the page explains them in the member's language.
_REASONS = {
    "courthouses": "alerts.bad.courthouses",
    "area": "alerts.bad.area",
    "quiet_hours": "alerts.bad.quiet_hours",
    "timezone": "alerts.bad.timezone",
    "label": "alerts.bad.label",
}


def _reason_key(refused: AlertError) -> str:
    if not isinstance(refused, InvalidAlertField):
        return "alerts.bad.too_many"
    return _REASONS.get(refused.field.split(".")[0], "alerts.bad.other")


def _back(request: Request) -> Response:
    return RedirectResponse(f"/console/alerts?lang={negotiate(request)}", status_code=303)


async def add_alert(request: Request) -> Response:
    member = await require_member(request, None)  # the form's csrf_token field
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    try:
        spec = check_subscription(_body(form))
        await run_in_threadpool(request.app.state.services.alerts.subscribe, member.id, spec)
    except AlertError as refused:
        t = translator(negotiate(request))
        status = 422 if isinstance(refused, InvalidAlertField) else 409
        return await render_alerts_page(
            request,
            member,
            error=f"{t('alerts.failed')} {t(_reason_key(refused))}",
            sent=_sent(form),
            status_code=status,
        )
    return _back(request)


async def edit_alert(request: Request) -> Response:
    """The page's form for one of the member's subscriptions: the whole of it is
    replaced (PUT in the API), checked by the same guard; a refused one re-renders
    the page, still editing it, and changes nothing."""
    member = await require_member(request, None)
    subscription_id = _subscription_id(request)
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    alerts = request.app.state.services.alerts
    stored = next(
        (s for s in await run_in_threadpool(alerts.subscriptions, member.id)
         if s.id == subscription_id),
        None,
    )  # fmt: skip
    if stored is None:
        raise SubscriptionNotFound("no such subscription")
    try:
        body = _body(form)
        # The page does not show where alerts go: a webhook's subscription stays one.
        body["channel"] = stored.spec.channel.value
        if stored.spec.webhook_id is not None:
            body["webhook_id"] = str(stored.spec.webhook_id)
        spec = check_subscription(body)
        await run_in_threadpool(alerts.replace, member.id, subscription_id, spec)
    except InvalidAlertField as refused:
        t = translator(negotiate(request))
        return await render_alerts_page(
            request,
            member,
            error=f"{t('alerts.failed')} {t(_reason_key(refused))}",
            sent=_sent(form),
            status_code=422,
            editing=subscription_id,
        )
    return _back(request)


def _subscription_id(request: Request) -> UUID:
    try:
        return UUID(request.path_params["subscription_id"])
    except ValueError:
        raise SubscriptionNotFound("no such subscription") from None


async def remove_alert(request: Request) -> Response:
    member = await require_member(request, None)
    raw = request.path_params["subscription_id"]
    try:
        subscription_id = UUID(raw)
    except ValueError:
        raise SubscriptionNotFound("no such subscription") from None
    # Removing one already removed (a second tap, a back button) is done, not an error.
    with suppress(SubscriptionNotFound):
        await run_in_threadpool(
            request.app.state.services.alerts.unsubscribe, member.id, subscription_id
        )
    return _back(request)
