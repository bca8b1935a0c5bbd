"""The passkey ceremonies over JSON: join with an invite, sign in, add a passkey.

Join and sign-in come from pages that have no session yet, so no CSRF token
exists: those requests must come from a page of the configured public origin
(the Origin header browsers send on every fetch POST), and the session cookie
is SameSite=Strict. Adding a passkey is done signed in, with the CSRF token.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from courtwatch.members import InviteNotUsable, Session
from courtwatch.members import ceremonies as passkeys
from courtwatch.members.ceremonies import RelyingParty
from web.errors import ForeignOrigin
from web.members.auth import require_member, start_session, store
from web.reports.api import json_object

# secrets.token_urlsafe(32) is 43 characters; anything else is not an invite.
_INVITE_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
NO_STORE = {"Cache-Control": "no-store"}


def relying_party(request: Request) -> RelyingParty:
    # From the configured origin only, never the Host header.
    return RelyingParty.for_public_url(request.app.state.services.settings.public_url)


def invite_token(request: Request) -> str:
    token = request.path_params["token"]
    if not isinstance(token, str) or not _INVITE_TOKEN.fullmatch(token):
        raise InviteNotUsable()
    return token


def check_same_origin(request: Request) -> None:
    if request.headers.get("origin") != relying_party(request).origin:
        raise ForeignOrigin("this must be sent from a courtwatch page")


def _signed_in(request: Request, session: Session, status_code: int) -> Response:
    response = JSONResponse(
        {"member": session.member.as_dict(), "next": "/console/members"},
        status_code=status_code,
        headers=NO_STORE,
    )
    start_session(response, request, session)
    return response


async def invite_options(request: Request) -> Response:
    check_same_origin(request)
    token = invite_token(request)
    body = await json_object(request)
    options = await run_in_threadpool(
        passkeys.registration_options,
        store(request),
        relying_party(request),
        body.get("display_name"),
        token,
    )
    return JSONResponse(options, headers=NO_STORE)


async def join(request: Request) -> Response:
    check_same_origin(request)
    token = invite_token(request)
    body = await json_object(request)
    session = await run_in_threadpool(
        passkeys.join_with_invite,
        store(request),
        relying_party(request),
        token,
        body.get("display_name"),
        body.get("credential"),
    )
    return _signed_in(request, session, 201)


async def signin_options(request: Request) -> Response:
    check_same_origin(request)
    options = await run_in_threadpool(
        passkeys.signin_options, store(request), relying_party(request)
    )
    return JSONResponse(options, headers=NO_STORE)


async def sign_in(request: Request) -> Response:
    check_same_origin(request)
    body = await json_object(request)
    session = await run_in_threadpool(
        passkeys.sign_in, store(request), relying_party(request), body.get("credential")
    )
    return _signed_in(request, session, 200)


async def passkey_options(request: Request) -> Response:
    member = await require_member(request, None)
    options = await run_in_threadpool(
        passkeys.registration_options,
        store(request),
        relying_party(request),
        None,
        None,
        member,
    )
    return JSONResponse(options, headers=NO_STORE)


async def add_passkey(request: Request) -> Response:
    member = await require_member(request, None)
    body = await json_object(request)
    await run_in_threadpool(
        passkeys.add_passkey,
        store(request),
        relying_party(request),
        member,
        body.get("credential"),
    )
    return JSONResponse({"added": True}, status_code=201, headers=NO_STORE)


async def me(request: Request) -> Response:
    member = await require_member(request, None)
    found: dict[str, Any] = member.as_dict()
    return JSONResponse(found, headers=NO_STORE)
