"""The alerts API (docs/alerts.md): a member's subscriptions and push endpoints, a
coordinator's webhooks and their delivery log, and per-report alert counts.

Every route needs a signed-in member (session + CSRF token, or a bearer token);
webhooks and counts need the coordinator role. Nothing here sends anything: the
delivery projection and the sender do, in the background.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from courtwatch.alerts import AlertStore, SubscriptionNotFound, push
from courtwatch.alerts.model import (
    InvalidAlertField,
    check_push_subscription,
    check_subscription,
)
from courtwatch.application import ReportNotFound
from courtwatch.members import MemberRole
from web.members.auth import require_member
from web.reports.api import json_object

NO_STORE = {"Cache-Control": "no-store"}


def _store(request: Request) -> AlertStore:
    return request.app.state.services.alerts  # type: ignore[no-any-return]


def _id(request: Request, name: str) -> UUID:
    raw = request.path_params[name]
    try:
        return UUID(raw)
    except ValueError:
        raise SubscriptionNotFound(f"no such {name.removesuffix('_id')}") from None


def _json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(value, status_code=status, headers=NO_STORE)


# Subscriptions (any member)


async def list_subscriptions(request: Request) -> Response:
    member = await require_member(request, None)
    found = await run_in_threadpool(_store(request).subscriptions, member.id)
    return _json({"subscriptions": [s.as_json() for s in found]})


async def create_subscription(request: Request) -> Response:
    member = await require_member(request, None)
    spec = check_subscription(await json_object(request))
    made = await run_in_threadpool(_store(request).subscribe, member.id, spec)
    return _json(made.as_json(), 201)


async def replace_subscription(request: Request) -> Response:
    member = await require_member(request, None)
    subscription_id = _id(request, "subscription_id")
    spec = check_subscription(await json_object(request))
    changed = await run_in_threadpool(_store(request).replace, member.id, subscription_id, spec)
    return _json(changed.as_json())


async def delete_subscription(request: Request) -> Response:
    member = await require_member(request, None)
    subscription_id = _id(request, "subscription_id")
    await run_in_threadpool(_store(request).unsubscribe, member.id, subscription_id)
    return Response(status_code=204, headers=NO_STORE)


# Webhooks (coordinators: they are an organisation's gateways)


async def list_webhooks(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    hooks = await run_in_threadpool(_store(request).webhooks, member.id)
    return _json({"webhooks": [h.as_json() for h in hooks]})


async def create_webhook(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    body = await json_object(request)
    hook, secret = await run_in_threadpool(_store(request).add_webhook, member.id, body.get("url"))
    # The secret is shown this once: it signs every delivery (docs/alerts.md).
    return _json({**hook.as_json(), "secret": secret}, 201)


async def rotate_webhook_secret(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    webhook_id = _id(request, "webhook_id")
    secret, previous_until = await run_in_threadpool(
        _store(request).rotate_webhook_secret, member.id, webhook_id
    )
    # Shown this once, like a new hook's; the old secret signs too until then.
    return _json({"secret": secret, "previous_valid_until": previous_until.isoformat()})


async def set_webhook_active(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    webhook_id = _id(request, "webhook_id")
    body = await json_object(request)
    if not isinstance(body.get("active"), bool) or set(body) != {"active"}:
        raise InvalidAlertField("active", 'the body is {"active": true} or {"active": false}')
    hook = await run_in_threadpool(
        _store(request).set_webhook_active, member.id, webhook_id, body["active"]
    )
    return _json(hook.as_json())


async def webhook_deliveries(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    webhook_id = _id(request, "webhook_id")
    log = await run_in_threadpool(_store(request).webhook_log, member.id, webhook_id)
    return _json({"attempts": log})


# Web Push


@cache
def _application_server_key(data_dir: Path) -> str:
    return push.application_server_key(push.load_or_create_key(data_dir))


async def push_key(request: Request) -> Response:
    await require_member(request, None)
    data_dir = request.app.state.services.settings.data_dir
    key = await run_in_threadpool(_application_server_key, data_dir)
    return _json({"application_server_key": key})


async def add_push_subscription(request: Request) -> Response:
    member = await require_member(request, None)
    found = check_push_subscription(await json_object(request))
    await run_in_threadpool(
        _store(request).add_push_endpoint, member.id, found.endpoint, found.p256dh, found.auth
    )
    return Response(status_code=204, headers=NO_STORE)


# The coordinator's counts


async def report_alerts(request: Request) -> Response:
    await require_member(request, MemberRole.COORDINATOR)
    raw = request.path_params["report_id"]
    try:
        report_id = UUID(raw)
    except ValueError:
        raise ReportNotFound(raw[:64]) from None
    stats = await run_in_threadpool(_store(request).report_alerts, report_id)
    return _json(stats.as_json())
