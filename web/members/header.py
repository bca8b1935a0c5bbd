"""The page header knows who is signed in: "Console · Ana" instead of "Team sign-in".

A member signed in on this browser used to see "Team sign-in" on every page and
could not tell whether the session was still open. Every page extends
base.html, but only some handlers look the member up, so:

- ``SignedInHeader`` (middleware) looks up the session of a GET that carries a
  session cookie, before the page's handler runs. The handler's own
  ``current_member`` / ``require_member`` then reuse that lookup (request.state).
- ``signed_in_context`` (a context processor of THE Jinja environment) hands the
  member to base.html, and marks the request as naming a member.
- A page that names a member is sent ``Cache-Control: private, no-store`` (one
  that already says no-store keeps its header): no
  browser cache or service worker keeps it (service-worker.js keeps nothing
  private), so a seized phone's cache does not say who is on the team. The
  copies the worker keeps for offline use are fetched without cookies.

Requests without the cookie (every watcher) cost nothing more.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.members.auth import current_member, has_session_cookie, looked_up_member

log = logging.getLogger(__name__)

# Static files, the worker's script and the JSON API never show a header. The API
# matters most: the public map polls /api/map/reports, and looking the session up
# there would keep a signed-in member's idle session alive from a background tab.
_NO_HEADER = ("/static/", "/sw.js", "/manifest.webmanifest", "/healthz", "/api/")
_NAMED = "header_names_member"
PRIVATE = "private, no-store"


def signed_in_context(request: Request) -> dict[str, Any]:
    """``signed_in``: the member for base.html's header, or None."""
    member = looked_up_member(request)
    if member is not None:
        setattr(request.state, _NAMED, True)
    return {"signed_in": member}


class SignedInHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope["path"].startswith(_NO_HEADER)
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if has_session_cookie(request):
            try:
                await current_member(request)
            except Exception:  # the header is no reason to fail a page
                # Nothing is cached on failure: a handler that needs the member
                # looks again, and its error goes through web/errors.py.
                log.warning("could not look up the session for the page header", exc_info=True)

        async def private_if_named(message: Message) -> None:
            if message["type"] == "http.response.start" and getattr(request.state, _NAMED, False):
                headers = MutableHeaders(scope=message)
                if "no-store" not in headers.get("cache-control", "").lower():
                    headers["cache-control"] = PRIVATE
            await send(message)

        await self.app(scope, receive, private_if_named)
