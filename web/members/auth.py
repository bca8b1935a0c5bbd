"""Who is asking: a member's session cookie or bearer token, roles and CSRF.

The interface the rest of the web package uses:

- ``await current_member(request)``: the member, or None (anonymous);
- ``await require_member(request, role)``: the member, or NotSignedIn (401) /
  NotAuthorised (403) / CsrfRefused (403), mapped in web/errors.py;
- ``csrf_token(request)``: the token a template puts in its forms;
- ``await member_for_websocket(websocket)``: the member of the session cookie
  (the caller checks the Origin header too).

A bearer token (``Authorization: Bearer ...``) wins over a cookie and needs no
CSRF token: a page of another site cannot make a browser send that header. A
session cookie (SameSite=Strict) on an unsafe method needs this session's CSRF
token, in the ``X-CSRF-Token`` header (fetch) or the ``csrf_token`` field (forms).
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from courtwatch.members import Member, MemberStore, Session
from web.errors import CsrfRefused, NotAuthorised, NotSignedIn

CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Longer values are not ours: refuse them without hashing megabytes.
MAX_SECRET_LENGTH = 200


@dataclass(frozen=True)
class Authenticated:
    member: Member
    by_cookie: bool
    csrf: str  # "" for bearer tokens


def store(connection: HTTPConnection) -> MemberStore:
    return connection.app.state.services.members  # type: ignore[no-any-return]


def _public_url(connection: HTTPConnection) -> str:
    return connection.app.state.services.settings.public_url  # type: ignore[no-any-return]


def cookie_is_secure(public_url: str) -> bool:
    """Secure everywhere but a plain-http origin on this machine (development, tests)."""
    parts = urlsplit(public_url)
    return not (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1"))


def cookie_name(public_url: str) -> str:
    # __Host- makes the browser refuse the cookie unless Secure, Path=/ and no Domain.
    return "__Host-courtwatch_session" if cookie_is_secure(public_url) else "courtwatch_session"


def _session_cookie(connection: HTTPConnection) -> str | None:
    value = connection.cookies.get(cookie_name(_public_url(connection)))
    if not value or len(value) > MAX_SECRET_LENGTH:
        return None
    return value


def _bearer(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_SECRET_LENGTH:
        return ""  # an Authorization header that cannot be ours
    return token


async def _authenticate(request: HTTPConnection) -> Authenticated | None:
    cached: Authenticated | bool | None = getattr(request.state, "member_auth", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    found: Authenticated | None = None
    bearer = _bearer(request)
    if bearer is not None:
        member = (
            await run_in_threadpool(store(request).member_for_api_token, bearer) if bearer else None
        )
        found = Authenticated(member, False, "") if member else None
    elif (session_id := _session_cookie(request)) is not None:
        live = await run_in_threadpool(store(request).session, session_id)
        found = Authenticated(live[0], True, live[1]) if live else None
    request.state.member_auth = found
    return found


async def current_member(request: Request) -> Member | None:
    """The member making this request (session cookie or bearer token), or None."""
    found = await _authenticate(request)
    return found.member if found else None


def has_session_cookie(request: HTTPConnection) -> bool:
    """Whether the request carries something that may be a session (not checked)."""
    return _session_cookie(request) is not None


def looked_up_member(request: HTTPConnection) -> Member | None:
    """The member this request was already found to be, without a lookup (None if
    none was made or none was found): for a template, which cannot wait."""
    found: Authenticated | bool | None = getattr(request.state, "member_auth", None)
    return found.member if isinstance(found, Authenticated) else None


# A member's form (the no-JS alerts form is the largest): its fields, no file.
# Starlette keeps the first parse of a form, so these are the limits every
# handler behind require_member gets; the defaults (1,000 fields, files) let a
# padded form through the handlers' own smaller limits. No form behind
# require_member takes a file (the report form's photos come without one).
MEMBER_FORM_FIELDS = 200


async def _sent_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form(max_files=0, max_fields=MEMBER_FORM_FIELDS)
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def require_member(request: Request, role: str | None) -> Member:
    """The member making this request, holding ``role`` (None: any member).

    Raises NotSignedIn (401) without a live session or token, CsrfRefused (403)
    for a cookie-authenticated unsafe request without this session's CSRF token,
    and NotAuthorised (403) when the member lacks the role.
    """
    found = await _authenticate(request)
    if found is None:
        raise NotSignedIn(
            f"sign in, or send the bearer token of a member with the role {role}"
            if role
            else "sign in, or send a member's bearer token"
        )
    if found.by_cookie and request.method not in SAFE_METHODS:
        sent = await _sent_csrf(request)
        if not sent or not hmac.compare_digest(sent.encode(), found.csrf.encode()):
            raise CsrfRefused("this request needs the page's CSRF token (X-CSRF-Token)")
    if role is not None and not found.member.may(role):
        raise NotAuthorised(f"this needs a member with the role {role}")
    return found.member


def csrf_token(request: Request) -> str:
    """This session's CSRF token for a template's forms ("" when not signed in by cookie).

    Call after ``current_member`` or ``require_member`` in the same request.
    """
    found: Authenticated | bool | None = getattr(request.state, "member_auth", None)
    return found.csrf if isinstance(found, Authenticated) else ""


async def member_for_websocket(websocket: WebSocket, *, touch: bool = True) -> Member | None:
    """The member of the session cookie sent with a websocket handshake.

    Cookie only (browsers cannot set headers on a websocket). SameSite=Strict
    keeps the cookie off cross-site handshakes, but the caller must still
    refuse a foreign Origin. ``touch=False`` checks without counting it as
    the member's activity (a heartbeat is not the member doing anything).
    """
    session_id = _session_cookie(websocket)
    if session_id is None:
        return None
    live = await run_in_threadpool(
        functools.partial(store(websocket).session, session_id, touch=touch)
    )
    return live[0] if live else None


def start_session(response: Response, request: Request, session: Session) -> None:
    """Hand the browser its session cookie."""
    public_url = _public_url(request)
    response.set_cookie(
        cookie_name(public_url),
        session.id,
        path="/",
        secure=cookie_is_secure(public_url),
        httponly=True,
        samesite="strict",
    )


def end_session_cookie(response: Response, request: Request) -> None:
    public_url = _public_url(request)
    response.delete_cookie(
        cookie_name(public_url),
        path="/",
        secure=cookie_is_secure(public_url),
        httponly=True,
        samesite="strict",
    )


def session_id(request: Request) -> str | None:
    return _session_cookie(request)
