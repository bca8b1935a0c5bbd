"""The JSON API: submit, amend, corroborate, verify, read."""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from courtwatch.application import Courtwatch, ReportNotFound
from courtwatch.intake import ValidationFailed, check_plain_values
from courtwatch.members import Member, MemberRole
from web.errors import MalformedBody
from web.members.auth import require_member

log = logging.getLogger(__name__)


def services_app(request: Request) -> Courtwatch:
    return request.app.state.services.app  # type: ignore[no-any-return]


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 reads as infinity
        raise ValueError("number out of range")
    return value


async def json_object(request: Request, *, sealed_text: bool = False) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}", parse_constant=_refuse_constant, parse_float=_finite_float)
    # ValueError covers bad JSON, bad UTF-8 and integers over Python's 4,300
    # digits; RecursionError, arrays nested a few thousand deep.
    except (ValueError, RecursionError):
        raise MalformedBody("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise MalformedBody("the body must be a JSON object")
    # Sealed notes may hold newlines: the sealed part has its own rules
    # (courtwatch/sealing/fields.py); everything public keeps these.
    sealed_part = body.pop("sealed", None) if sealed_text else None
    check_plain_values(body)
    if sealed_part is not None:
        body["sealed"] = sealed_part
    return body


def report_id_from(request: Request) -> UUID:
    raw = request.path_params["report_id"]
    try:
        return UUID(raw)
    except ValueError:
        raise ReportNotFound(raw) from None


async def credential(request: Request, role: str) -> Member:
    """The member (session + CSRF, or bearer token) holding ``role``; see web/members/auth.py."""
    return await require_member(request, role)


def _object(body: dict[str, Any], name: str, reason: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        raise ValidationFailed.single(name, reason)
    return value


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationFailed.single(name, "required")
    return value


def _optional_string(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise ValidationFailed.single(name, "text")
    return value


async def submit_report(request: Request) -> Response:
    body = await json_object(request, sealed_text=True)
    client_key = request.headers.get("idempotency-key") or body.pop("client_key", None)
    if client_key is None:
        raise ValidationFailed.single("client_key", "required: send an Idempotency-Key header")
    # Sealed details (optional) are sealed before anything is stored: see courtwatch/sealed.
    sealed_part = body.pop("sealed", None)
    if sealed_part is None:
        result = await run_in_threadpool(services_app(request).submit, body, client_key)
    else:
        result = await run_in_threadpool(
            request.app.state.services.sealed.submit, body, client_key, sealed_part
        )
    return JSONResponse(
        {
            "id": str(result.report_id),
            "url": f"/reports/{result.report_id}",
            "author_token": result.author_token,
            "created": result.created,
            "position": result.position,
        },
        status_code=201 if result.created else 200,
        # It holds the author token: no browser or proxy cache may keep it.
        headers={"Cache-Control": "no-store"},
    )


async def get_report(request: Request) -> Response:
    report = await run_in_threadpool(services_app(request).public_report, report_id_from(request))
    return JSONResponse(report)


async def _after(
    request: Request, report_id: UUID, position: int | None, *, for_members: bool = False
) -> Response:
    """The answer to a command whose event is stored: always 2xx from here on.

    ``position`` is None when the report already said what the command says
    (a retry whose first answer was lost): nothing new was stored, and the
    answer says so with ``stored: false``.

    The report is read back for the client's convenience; if that read fails,
    the client still learns that its command was stored (and must not retry it).
    """
    outcome = {"position": position, "stored": position is not None}
    try:
        report = await run_in_threadpool(
            lambda: services_app(request).report_with_history(report_id, for_members=for_members)
        )
        return JSONResponse({**report, **outcome})
    except Exception:
        log.exception(
            "stored event %s of report %s, but could not read it back", position, report_id
        )
        return JSONResponse({"id": str(report_id), "url": f"/reports/{report_id}", **outcome})


async def amend_report(request: Request) -> Response:
    report_id = report_id_from(request)
    body = await json_object(request)
    changes = _object(body, "changes", "an object of the fields to change")
    position = await run_in_threadpool(
        services_app(request).amend, report_id, _string(body, "token"), changes
    )
    return await _after(request, report_id, position)


async def corroborate_report(request: Request) -> Response:
    report_id = report_id_from(request)
    body = await json_object(request)
    key = request.headers.get("idempotency-key") or body.get("client_key")
    if not isinstance(key, str):
        raise ValidationFailed.single("client_key", "required: send an Idempotency-Key header")
    position = await run_in_threadpool(services_app(request).corroborate, report_id, key)
    return await _after(request, report_id, position)


async def _by_responder(request: Request, command: str) -> Response:
    """A responder's word without a body (verify, claim, on scene, resolve): the
    event carries the member's display name and id."""
    report_id = report_id_from(request)
    who = await credential(request, MemberRole.RESPONDER)
    act = getattr(services_app(request), command)
    position = await run_in_threadpool(act, report_id, who.display_name, str(who.id))
    return await _after(request, report_id, position, for_members=True)


async def verify_report(request: Request) -> Response:
    return await _by_responder(request, "verify")


async def dispute_report(request: Request) -> Response:
    report_id = report_id_from(request)
    who = await credential(request, MemberRole.RESPONDER)
    body = await json_object(request)
    reason = _string(body, "reason")
    position = await run_in_threadpool(
        services_app(request).dispute, report_id, who.display_name, reason, str(who.id)
    )
    return await _after(request, report_id, position, for_members=True)


async def claim_report(request: Request) -> Response:
    """I'm going: other members see who, the public never does (docs/members.md)."""
    return await _by_responder(request, "claim")


async def confirm_on_scene(request: Request) -> Response:
    """A member on scene confirms it: the report is corroborated."""
    return await _by_responder(request, "confirm_on_scene")


async def resolve_report(request: Request) -> Response:
    """The response is over: the report leaves the console's queue."""
    return await _by_responder(request, "resolve")


async def record_outcome(request: Request) -> Response:
    report_id = report_id_from(request)
    body = await json_object(request)
    outcome = _object(body, "outcome", "an object of outcome fields")
    token = body.get("token")
    if token is not None and (not isinstance(token, str) or not token):
        raise ValidationFailed.single("token", "the author token, as text")
    who = None if token is not None else await credential(request, MemberRole.RESPONDER)
    position = await run_in_threadpool(
        services_app(request).record_outcome,
        report_id,
        token,
        outcome,
        who.display_name if who else None,
        str(who.id) if who else None,
    )
    return await _after(request, report_id, position, for_members=token is None)


async def end_shift(request: Request) -> Response:
    report_id = report_id_from(request)
    body = await json_object(request)
    try:
        ended_at = datetime.fromisoformat(_string(body, "ended_at"))
    except ValueError:
        raise ValidationFailed.single("ended_at", "an ISO 8601 time with its offset") from None
    position = await run_in_threadpool(
        services_app(request).end_shift, report_id, _string(body, "token"), ended_at
    )
    return await _after(request, report_id, position)


async def list_courthouses(request: Request) -> Response:
    courthouses = await run_in_threadpool(services_app(request).courthouses)
    return JSONResponse({"courthouses": [c.as_dict() for c in courthouses]})


async def add_courthouse(request: Request) -> Response:
    await credential(request, MemberRole.COORDINATOR)
    body = await json_object(request)
    courthouse: dict[str, Any] = {
        "code": _string(body, "code").upper(),
        "name": _string(body, "name")[:120],
        "kind": _string(body, "kind"),
        "street": _optional_string(body, "street")[:120],
        "city": _optional_string(body, "city")[:60],
        "state": _optional_string(body, "state")[:2].upper(),
        "zip": _optional_string(body, "zip")[:5],
    }
    for name in ("lat", "lon"):
        value = body.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValidationFailed.single(name, "a number")
        try:
            courthouse[name] = float(value)
        except OverflowError:  # an integer of thousands of digits
            raise ValidationFailed.single(name, "a number") from None
    await run_in_threadpool(services_app(request).add_courthouse, courthouse)
    return JSONResponse(courthouse, status_code=201)
