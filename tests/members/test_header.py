"""The header says who is signed in (web/members/header.py), in English and Spanish.

A signed-in member saw "Team sign-in" on every page. No browser here: a real
session is opened through the member store (an invite used with a passkey's
bytes, as the ceremony would store them) and its cookie sent by httpx.
"""

from __future__ import annotations

import os
import uuid

import httpx

from courtwatch.services import Services
from web.members.header import PRIVATE

# Pages every watcher opens, each extending base.html; the form is also gzipped.
PAGES = ("/", "/new/sighting", "/new/call_in", "/mine", "/summaries")


def signed_in(services: Services, name: str, *roles: str) -> tuple[str, uuid.UUID]:
    """A member who joined with an invite: the session's cookie value and the member's id."""
    invite = services.members.invite(list(roles))
    member_id = uuid.uuid4()
    session = services.members.join(invite.token, member_id, name, os.urandom(16), b"key", 0)
    return session.id, member_id


def cookie(session_id: str) -> dict[str, str]:
    # http://localhost: no __Host- prefix (web/members/auth.py, cookie_name).
    return {"Cookie": f"courtwatch_session={session_id}"}


async def test_a_signed_in_member_sees_their_name_and_the_console_not_team_sign_in(
    client: httpx.AsyncClient, services: Services
) -> None:
    session_id, _ = signed_in(services, "Ana <b>Ruiz</b>", "responder")
    for lang, console, sign_in in (("en", "Console", "Team sign-in"), ("es", "Consola", "Equipo")):
        for path in PAGES:
            answer = await client.get(f"{path}?lang={lang}", headers=cookie(session_id))
            assert answer.status_code == 200, (path, answer.status_code)
            html = answer.text
            # The name is escaped like any text; the link opens the console.
            assert (
                f'<a class="nav-member" href="/console?lang={lang}">'
                f"{console} · Ana &lt;b&gt;Ruiz&lt;/b&gt;</a>" in html
            ), path
            assert sign_in not in html.split("</header>")[0], path
            # A page naming a member is kept by no cache (nor the service worker).
            assert answer.headers["cache-control"] == PRIVATE, path

        anonymous = await client.get(f"/?lang={lang}")
        assert f'<a href="/console/members?lang={lang}">{sign_in}</a>' in anonymous.text
        assert "nav-member" not in anonymous.text
        assert "private" not in anonymous.headers.get("cache-control", "")

    # The console refuses a member with no role left (403): the link goes where
    # they may go, the members page.
    session_id, member_id = signed_in(services, "Cleo", "lawyer")
    services.members.set_roles(member_id, [], None)
    html = (await client.get("/?lang=es", headers=cookie(session_id))).text
    assert '<a class="nav-member" href="/console/members?lang=es">Cleo</a>' in html


async def test_after_sign_out_or_with_a_forged_cookie_the_header_says_team_sign_in(
    client: httpx.AsyncClient, services: Services
) -> None:
    session_id, _ = signed_in(services, "Bea", "coordinator")
    assert "Console · Bea" in (await client.get("/?lang=en", headers=cookie(session_id))).text
    services.members.end_session(session_id)
    for value in (session_id, "x" * 43, "x" * 5000, "%00", ""):
        answer = await client.get("/new/sighting?lang=en", headers=cookie(value))
        assert answer.status_code == 200
        assert "Team sign-in" in answer.text and "nav-member" not in answer.text


async def test_the_json_api_does_not_keep_a_session_alive(
    client: httpx.AsyncClient, services: Services
) -> None:
    """The public map polls /api/map/reports from a background tab: looking the
    session up there for a header the API never shows kept the member's idle
    clock running. A page still restarts it."""
    from datetime import UTC, datetime, timedelta

    from tests.members.test_store_and_cli import session_row

    store = services.members
    now = datetime.now(UTC)
    store.clock = lambda: now
    session_id, _ = signed_in(services, "Idle", "responder")
    opened = session_row(services, session_id)
    store.clock = lambda: now + timedelta(minutes=5)  # past the once-a-minute touch
    for path in ("/api/map/reports", "/api/courthouses", "/api/log/checkpoints/latest"):
        answer = await client.get(path, headers=cookie(session_id))
        assert answer.status_code < 500, path
    assert session_row(services, session_id) == opened
    page = await client.get("/", headers=cookie(session_id))
    assert "nav-member" in page.text
    assert session_row(services, session_id) != opened  # a page does count as activity
