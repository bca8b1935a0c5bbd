"""The members' pages: sign in, join with an invite, and /console/members.

Every form that changes something carries the session's CSRF token (a hidden
``csrf_token`` field, checked by ``require_member``). Answers that show a
secret once (a new invite link, a new API token) are never cached.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from uuid import UUID

import segno
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from courtwatch.members import (
    ROLES,
    InviteNotUsable,
    Member,
    MemberError,
    MemberNotFound,
    MemberRole,
)
from web.i18n import LANGUAGES, negotiate, translator
from web.members.auth import (
    csrf_token,
    current_member,
    end_session_cookie,
    require_member,
    session_id,
    store,
)
from web.members.passkeys import invite_token
from web.templating import templates

NO_STORE = {"Cache-Control": "no-store"}


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    lang = negotiate(request)
    return {
        "lang": lang,
        "other_lang": LANGUAGES[1 - LANGUAGES.index(lang)],
        "t": translator(lang),
        "csrf_token": csrf_token(request),
        **extra,
    }


def _back(request: Request, path: str = "/console/members") -> Response:
    # 303: the browser follows with a GET, so a reload does not post again.
    return RedirectResponse(f"{path}?lang={negotiate(request)}", status_code=303)


async def signin_page(request: Request) -> Response:
    member = await current_member(request)
    return templates.TemplateResponse(
        request, "members/signin.html", _context(request, member=member), headers=NO_STORE
    )


async def sign_out(request: Request) -> Response:
    # An ended or expired session has nothing left to protect: just drop the cookie.
    if await current_member(request) is not None:
        await require_member(request, None)  # checks the CSRF token
        found = session_id(request)
        if found is not None:
            await run_in_threadpool(store(request).end_session, found)
    response = _back(request, "/signin")
    end_session_cookie(response, request)
    return response


async def invite_page(request: Request) -> Response:
    try:
        token = invite_token(request)
        roles = await run_in_threadpool(store(request).usable_invite, token)
    except InviteNotUsable:
        return templates.TemplateResponse(
            request,
            "members/invite.html",
            _context(request, usable=False),
            status_code=410,
            headers=NO_STORE,
        )
    return templates.TemplateResponse(
        request,
        "members/invite.html",
        _context(request, usable=True, token=token, roles=sorted(roles)),
        headers=NO_STORE,
    )


def qr_svg(link: str) -> Markup:
    """The link as an inline SVG QR code (made here: no third-party service sees the link)."""
    code = segno.make(link, error="m")
    return Markup(code.svg_inline(scale=4, dark="#111", light="#fff", omitsize=True, title="QR"))


def credential_label(credential_id: bytes) -> str:
    return base64.urlsafe_b64encode(credential_id).rstrip(b"=").decode()


async def _members_page(request: Request, member: Member, **extra: Any) -> Response:
    members_store = store(request)
    is_coordinator = member.may(MemberRole.COORDINATOR)
    everyone = await run_in_threadpool(members_store.members) if is_coordinator else []
    invites = await run_in_threadpool(members_store.open_invites) if is_coordinator else []
    own_passkeys = await run_in_threadpool(members_store.passkeys, member.id)
    own_tokens = await run_in_threadpool(members_store.api_tokens, member.id)
    context = _context(
        request,
        member=member,
        is_coordinator=is_coordinator,
        members=everyone,
        invites=invites,
        roles=ROLES,
        passkeys=[(credential_label(p.credential_id), p) for p in own_passkeys],
        tokens=own_tokens,
        **extra,
    )
    return templates.TemplateResponse(request, "members/console.html", context, headers=NO_STORE)


async def members_page(request: Request) -> Response:
    member = await current_member(request)
    if member is None:
        return _back(request, "/signin")
    return await _members_page(request, member)


async def _form(request: Request) -> Any:
    return await request.form(max_files=0, max_fields=20)


def _member_id(request: Request) -> UUID:
    try:
        return UUID(request.path_params["member_id"])
    except ValueError:
        raise MemberNotFound(request.path_params["member_id"]) from None


async def issue_invite(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    roles = (await _form(request)).getlist("roles")
    invite = await run_in_threadpool(store(request).invite, roles, member.id)
    link = f"{request.app.state.services.settings.public_url}/invite/{invite.token}"
    return await _members_page(
        request, member, invite_link=link, invite_qr=qr_svg(link), invite_roles=sorted(invite.roles)
    )


async def cancel_invite(request: Request) -> Response:
    """A coordinator cancels an open invite (a link sent to the wrong person)."""
    member = await require_member(request, MemberRole.COORDINATOR)
    invite_id = request.path_params["invite_id"]
    if not await run_in_threadpool(store(request).cancel_invite, invite_id, member.id):
        raise MemberNotFound(invite_id)
    return _back(request)


async def set_roles(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    roles = (await _form(request)).getlist("roles")
    target = _member_id(request)
    if target == member.id and MemberRole.COORDINATOR not in roles:
        raise MemberError("a coordinator cannot remove their own coordinator role; ask another")
    await run_in_threadpool(store(request).set_roles, target, roles, member.id)
    return _back(request)


async def revoke_member(request: Request) -> Response:
    member = await require_member(request, MemberRole.COORDINATOR)
    target = _member_id(request)
    if target == member.id:
        raise MemberError("a coordinator cannot revoke themselves; ask another coordinator")
    if not await run_in_threadpool(store(request).revoke, target, member.id):
        raise MemberNotFound(target)
    return _back(request)


async def issue_token(request: Request) -> Response:
    member = await require_member(request, None)
    label = (await _form(request)).get("label", "")
    _, token = await run_in_threadpool(store(request).issue_api_token, member.id, label)
    return await _members_page(request, member, new_token=token)


async def revoke_token(request: Request) -> Response:
    member = await require_member(request, None)
    try:
        token_id = UUID(request.path_params["token_id"])
    except ValueError:
        raise MemberNotFound(request.path_params["token_id"]) from None
    if not await run_in_threadpool(store(request).revoke_api_token, member.id, token_id):
        raise MemberNotFound(token_id)
    return _back(request)


async def revoke_passkey(request: Request) -> Response:
    member = await require_member(request, None)
    raw = request.path_params["credential_id"]
    try:
        credential_id = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise MemberNotFound(raw) from None
    if not await run_in_threadpool(store(request).revoke_passkey, member.id, credential_id):
        raise MemberNotFound(raw)
    return _back(request)
