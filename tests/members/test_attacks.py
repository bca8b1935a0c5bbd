"""Attacks on members' sign-in, sessions and roles, each refused, each its own test.

Against the real thing: uvicorn, PostgreSQL, and Chromium's virtual authenticator
producing real attestations and assertions."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from courtwatch.cli.members import invite
from courtwatch.members import INVITE_LIFETIME
from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import as_member, csrf_of, join, phone, session_cookie, sign_in
from tests.members.test_passkeys_browser import submit_sighting


def rows(services: Services, table: str) -> int:
    with psycopg.connect(services.database.url) as conn:
        found = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert found is not None
    return int(found[0])


async def joined(
    browser: Any, services: Services, name: str, *roles: str
) -> tuple[Any, Any, dict[str, str]]:
    """A member signed in in its own browser; and the cookie + CSRF headers of its session."""
    context, page = await phone(browser)
    await join(page, invite(services.members, services.settings.public_url, list(roles)), name)
    headers = {
        "Cookie": f"courtwatch_session={await session_cookie(page)}",
        "X-CSRF-Token": await csrf_of(page),
    }
    return context, page, headers


async def test_a_session_request_without_the_csrf_token_is_refused(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, _page, headers = await joined(browser, services, "Ana", "responder", "coordinator")
    report = await submit_sighting(client)
    cookie_only = {"Cookie": headers["Cookie"]}

    no_token = await client.post(f"/api/reports/{report}/verify", headers=cookie_only)
    wrong_token = await client.post(
        f"/api/reports/{report}/verify", headers={**cookie_only, "X-CSRF-Token": "x" * 43}
    )
    invite_form = await client.post(
        "/console/members/invite", data={"roles": "coordinator"}, headers=cookie_only
    )
    sign_out = await client.post("/signout", data={}, headers=cookie_only)

    assert no_token.status_code == wrong_token.status_code == 403
    assert invite_form.status_code == sign_out.status_code == 403
    assert (await client.get(f"/api/reports/{report}")).json()["status"] == "unverified"
    assert rows(services, "courtwatch_member_invites") == 1  # only the one Ana used
    # The session survived the forged sign-out, and works with its token.
    assert (await client.post(f"/api/reports/{report}/verify", headers=headers)).status_code == 200
    # A form post with the hidden field works too (no header).
    form = await client.post(
        "/console/members/invite",
        data={"roles": "lawyer", "csrf_token": headers["X-CSRF-Token"]},
        headers=cookie_only,
    )
    assert form.status_code == 200 and "/invite/" in form.text
    await context.close()


async def test_a_responder_cannot_use_coordinator_endpoints(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, page, headers = await joined(browser, services, "Rosa", "responder")
    (rosa,) = services.members.members()
    victim = services.members.create_member("Other", ["responder"])
    token_headers = as_member(services, "Script", "responder")
    csrf = headers["X-CSRF-Token"]

    for who in (headers, token_headers):
        attempts = [
            await client.post(
                "/console/members/invite",
                data={"roles": "coordinator", "csrf_token": csrf},
                headers=who,
            ),
            await client.post(
                f"/console/members/{rosa.id}/roles",
                data={"roles": "coordinator", "csrf_token": csrf},
                headers=who,
            ),
            await client.post(
                f"/console/members/{victim.id}/revoke", data={"csrf_token": csrf}, headers=who
            ),
            await client.post(
                "/api/courthouses",
                json={"code": "X", "name": "X", "kind": "criminal", "lat": 40, "lon": -74},
                headers=who,
            ),
            await client.post("/api/log/checkpoints", headers=who),
        ]
        assert [a.status_code for a in attempts] == [403] * 5, [a.text for a in attempts]
    assert services.members.member(rosa.id).roles == {"responder"}
    assert not services.members.member(victim.id).revoked
    assert rows(services, "courtwatch_member_invites") == 1
    # The members page shows her own passkeys and tokens, not the member list.
    await page.reload()
    assert await page.locator(".member-list").count() == 0
    await context.close()


async def test_an_invite_cannot_be_used_twice(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    link = invite(services.members, services.settings.public_url, ["coordinator"])
    first, page = await phone(browser)
    await join(page, link, "First")

    second, other = await phone(browser)
    answer = await other.goto(link)
    assert answer is not None and answer.status == 410
    assert await other.locator("#join").count() == 0
    token = link.rsplit("/", 1)[1]
    options = await client.post(
        f"/api/members/invites/{token}/options", json={"display_name": "Second"}
    )
    assert options.status_code == 410
    assert [m.display_name for m in services.members.members()] == ["First"]
    await first.close()
    await second.close()


async def test_an_invite_used_concurrently_makes_one_member(
    live_server: ServerThread, browser: Any, services: Services
) -> None:
    """Two phones open the same link and both get registration options; one joins."""
    link = invite(services.members, services.settings.public_url, ["responder"])
    one, page_one = await phone(browser)
    two, page_two = await phone(browser)
    for page in (page_one, page_two):
        await page.goto(link)
    for page, name in ((page_one, "One"), (page_two, "Two")):
        await page.fill("#display_name", name)
    await page_one.click("#join-button")
    await page_one.wait_for_url("**/console/members**")
    await page_two.click("#join-button")
    await page_two.wait_for_selector("#members-status:not(:empty)")
    assert "/invite/" in page_two.url
    assert [m.display_name for m in services.members.members()] == ["One"]
    await one.close()
    await two.close()


async def test_an_expired_invite_is_refused(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    issued = datetime.now(UTC)
    services.members.clock = lambda: issued
    link = invite(services.members, services.settings.public_url, ["responder"])
    token = link.rsplit("/", 1)[1]

    services.members.clock = lambda: issued + INVITE_LIFETIME - timedelta(seconds=1)
    assert (await client.get(f"/invite/{token}")).status_code == 200
    services.members.clock = lambda: issued + INVITE_LIFETIME + timedelta(seconds=1)
    page = await client.get(f"/invite/{token}")
    options = await client.post(
        f"/api/members/invites/{token}/options", json={"display_name": "Late"}
    )
    assert page.status_code == options.status_code == 410
    assert rows(services, "courtwatch_webauthn_challenges") == 0
    assert services.members.members() == []


async def test_a_revoked_members_session_cookie_and_a_forged_cookie_are_refused(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, page, headers = await joined(browser, services, "Luz", "responder")
    (luz,) = services.members.members()
    report = await submit_sighting(client)
    assert (await client.get("/api/members/me", headers=headers)).json()["display_name"] == "Luz"

    assert services.members.revoke(luz.id, by=None)
    stolen = await client.post(f"/api/reports/{report}/verify", headers=headers)
    me = await client.get("/api/members/me", headers=headers)
    forged = {
        "Cookie": f"courtwatch_session={secrets.token_urlsafe(32)}",
        "X-CSRF-Token": headers["X-CSRF-Token"],
    }
    forged_answer = await client.post(f"/api/reports/{report}/verify", headers=forged)
    assert stolen.status_code == me.status_code == forged_answer.status_code == 401
    assert (await client.get(f"/api/reports/{report}")).json()["status"] == "unverified"
    # Signing in again with the revoked member's passkey is refused too.
    await page.goto(live_server.url + "/signin")
    await page.click("#signin-button")
    await page.wait_for_selector("#members-status:not(:empty)")
    assert "/signin" in page.url
    await context.close()


async def test_a_session_expires_after_the_idle_time(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, _page, headers = await joined(browser, services, "Idle", "responder")
    now = datetime.now(UTC)
    services.members.clock = lambda: now + services.members.session_idle - timedelta(minutes=1)
    assert (await client.get("/api/members/me", headers=headers)).status_code == 200
    # Activity restarted the idle time: 12 h after that request it has ended.
    services.members.clock = lambda: now + 2 * services.members.session_idle
    assert (await client.get("/api/members/me", headers=headers)).status_code == 401
    await context.close()


async def capture_assertion(page: Any, base_url: str, *, deliver: bool) -> dict[str, Any]:
    """Sign in, keeping a copy of the assertion sent (and, unless deliver, not sending it)."""
    seen: list[dict[str, Any]] = []

    async def keep(route: Any) -> None:
        seen.append(json.loads(route.request.post_data))
        if deliver:
            await route.continue_()
        else:
            await route.abort()

    await page.context.clear_cookies()  # signed out, the passkey stays on the phone
    await page.route("**/api/members/signin", keep)
    await page.goto(base_url + "/signin")
    await page.click("#signin-button")
    if deliver:
        await page.wait_for_url("**/console/members**")
    else:
        await page.wait_for_selector("#members-status:not(:empty)")
    await page.unroute("**/api/members/signin")
    return seen[0]


async def test_a_replayed_assertion_is_refused(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, page, _ = await joined(browser, services, "Sol", "responder")
    used = await capture_assertion(page, live_server.url, deliver=True)
    sessions = rows(services, "courtwatch_member_sessions")

    replayed = await client.post("/api/members/signin", json=used)
    assert replayed.status_code == 400
    assert "used or expired" in replayed.json()["error"]
    assert "set-cookie" not in replayed.headers
    assert rows(services, "courtwatch_member_sessions") == sessions
    await context.close()


async def test_an_older_assertion_with_a_lower_sign_count_is_refused(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    """An assertion made earlier but kept back (its challenge still unused) is refused
    once the passkey has been used since: the authenticator's counter went past it."""
    context, page, _ = await joined(browser, services, "Mar", "responder")
    kept_back = await capture_assertion(page, live_server.url, deliver=False)
    await sign_in(page, live_server.url)
    sessions = rows(services, "courtwatch_member_sessions")

    late = await client.post("/api/members/signin", json=kept_back)
    assert late.status_code == 400, late.text
    assert "counter did not move forward" in late.json()["error"]
    assert rows(services, "courtwatch_member_sessions") == sessions
    await context.close()


async def test_a_ceremony_from_another_origin_is_refused(
    live_server: ServerThread, services: Services
) -> None:
    token = invite(services.members, services.settings.public_url, ["responder"]).rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=live_server.url) as bare:
        for origin in ({"Origin": "https://evil.example"}, {}):
            assert (
                await bare.post("/api/members/signin/options", headers=origin)
            ).status_code == 403
            refused = await bare.post(
                f"/api/members/invites/{token}/options", json={"display_name": "X"}, headers=origin
            )
            assert refused.status_code == 403
    assert rows(services, "courtwatch_webauthn_challenges") == 0


async def test_a_revoked_members_bearer_token_is_refused(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    headers = as_member(services, "Bot", "responder")
    (bot,) = services.members.members()
    report = await submit_sighting(client)
    assert (await client.get("/api/members/me", headers=headers)).status_code == 200

    assert services.members.revoke(bot.id, by=None)
    verify = await client.post(f"/api/reports/{report}/verify", headers=headers)
    me = await client.get("/api/members/me", headers=headers)
    assert verify.status_code == me.status_code == 401
    assert (await client.get(f"/api/reports/{report}")).json()["status"] == "unverified"


async def test_a_revoked_api_token_is_refused_and_others_keep_working(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    member = services.members.create_member("Two tokens", ["responder"])
    first, first_token = services.members.issue_api_token(member.id, "laptop")
    _, second_token = services.members.issue_api_token(member.id, "phone")
    assert services.members.revoke_api_token(member.id, first.id)
    one = await client.get("/api/members/me", headers={"Authorization": f"Bearer {first_token}"})
    two = await client.get("/api/members/me", headers={"Authorization": f"Bearer {second_token}"})
    assert (one.status_code, two.status_code) == (401, 200)


HOSTILE_NAMES = [
    "\x00",
    "Ana\x00",
    "a\u0007b",
    "line\nbreak",
    "\u202eevil",  # right-to-left override
    "x" * 10_000,
    "y" * 61,
    "",
    "   ",
    7,
    None,
    ["Ana"],
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[repr(n)[:20] for n in HOSTILE_NAMES])
async def test_hostile_display_names_are_refused_and_nothing_is_stored(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services, name: object
) -> None:
    token = invite(services.members, services.settings.public_url, ["responder"]).rsplit("/", 1)[1]
    options = await client.post(
        f"/api/members/invites/{token}/options", json={"display_name": name}
    )
    joined_answer = await client.post(
        f"/api/members/invites/{token}", json={"display_name": name, "credential": {}}
    )
    assert 400 <= options.status_code < 500 and 400 <= joined_answer.status_code < 500
    assert options.status_code == 422, options.text
    assert rows(services, "courtwatch_webauthn_challenges") == 0
    assert rows(services, "courtwatch_members") == 0
    assert services.members.usable_invite(token) == {"responder"}  # not used up


async def test_a_lone_surrogate_in_a_display_name_is_refused(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    token = invite(services.members, services.settings.public_url, ["responder"]).rsplit("/", 1)[1]
    answer = await client.post(
        f"/api/members/invites/{token}/options",
        content=b'{"display_name": "a\\ud800b"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert (
        rows(services, "courtwatch_members")
        == rows(services, "courtwatch_webauthn_challenges")
        == 0
    )


async def test_hostile_forms_and_paths_answer_4xx(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    coordinator = as_member(services, "Coord", "coordinator")
    answers = [
        await client.post("/console/members/invite", data={"roles": "admin"}, headers=coordinator),
        await client.post("/console/members/invite", data={"roles": "a\x00"}, headers=coordinator),
        await client.post(f"/console/members/{uuid.uuid4()}/revoke", headers=coordinator),
        await client.post(
            "/console/members/not-a-uuid/roles", data={"roles": "lawyer"}, headers=coordinator
        ),
        await client.post(
            "/console/members/me/tokens", data={"label": "x\x00"}, headers=coordinator
        ),
        await client.post(
            "/console/members/me/tokens", data={"label": "x" * 5000}, headers=coordinator
        ),
        await client.post("/console/members/me/passkeys/%00%ff/revoke", headers=coordinator),
        await client.get("/invite/" + "a" * 5000),
        await client.get("/invite/%00"),
        await client.post(
            "/api/members/signin", json={"credential": {"id": "\x00", "response": [[[]]]}}
        ),
        await client.post("/api/members/signin", json={"credential": "9" * 4000}),
    ]
    codes = [a.status_code for a in answers]
    assert all(400 <= c < 500 for c in codes), codes
    assert rows(services, "courtwatch_member_invites") == 0
    assert rows(services, "courtwatch_member_api_tokens") == 1


async def test_an_assertion_sent_after_its_challenge_expired_is_refused(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, page, _ = await joined(browser, services, "Late", "responder")
    kept_back = await capture_assertion(page, live_server.url, deliver=False)
    later = datetime.now(UTC) + timedelta(minutes=6)
    services.members.clock = lambda: later
    answer = await client.post("/api/members/signin", json=kept_back)
    assert answer.status_code == 400 and "used or expired" in answer.json()["error"]
    await context.close()


async def test_one_assertion_sent_twice_at_once_opens_one_session(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, page, _ = await joined(browser, services, "Twice", "responder")
    kept_back = await capture_assertion(page, live_server.url, deliver=False)
    sessions = rows(services, "courtwatch_member_sessions")
    answers = await asyncio.gather(
        *(client.post("/api/members/signin", json=kept_back) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]
    assert rows(services, "courtwatch_member_sessions") == sessions + 1
    await context.close()


async def test_a_coordinator_lists_open_invites_and_cancels_a_leaked_one(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    coordinator = as_member(services, "Chief", "coordinator")
    leaked = services.members.invite(["coordinator"]).token
    kept = services.members.invite(["responder"]).token
    page = (await client.get("/console/members", headers=coordinator)).text
    assert leaked not in page and kept not in page  # the links are never shown again
    (leaked_id,) = [i.id for i in services.members.open_invites() if "coordinator" in i.roles]
    assert f'data-invite-id="{leaked_id}"' in page
    # Not a coordinator: refused, nothing cancelled.
    responder = as_member(services, "Resp", "responder")
    url = f"/console/members/invites/{leaked_id}/cancel"
    assert (await client.post(url, headers=responder)).status_code == 403
    assert (await client.get(f"/invite/{leaked}")).status_code == 200
    cancelled = await client.post(url, headers=coordinator)
    assert cancelled.status_code in (200, 303), cancelled.text
    assert (await client.get(f"/invite/{leaked}")).status_code == 410
    assert (await client.get(f"/invite/{kept}")).status_code == 200
    assert (await client.post(url, headers=coordinator)).status_code == 404  # once
    for hostile in ("%00", "x" * 5000, "ABCDEF0123456789", "%ff%fe"):
        answer = await client.post(
            f"/console/members/invites/{hostile}/cancel", headers=coordinator
        )
        assert answer.status_code == 404, hostile
    page = (await client.get("/console/members", headers=coordinator)).text
    assert f'data-invite-id="{leaked_id}"' not in page


async def test_sign_in_options_stop_adding_challenges_at_the_ceiling(
    live_server: ServerThread, services: Services
) -> None:
    """/api/members/signin/options needs no session: a flood of it must not
    grow the challenge table without bound. Past the ceiling: 503 with
    Retry-After (until the oldest expires), nothing stored; expired ones go."""
    services.members.most_live_challenges = 20
    origin = {"Origin": live_server.url}
    async with httpx.AsyncClient(base_url=live_server.url) as bare:

        async def options() -> httpx.Response:
            return await bare.post("/api/members/signin/options", headers=origin)

        answers = [await options() for _ in range(30)]
    assert [a.status_code for a in answers] == [200] * 20 + [503] * 10
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 300
    assert rows(services, "courtwatch_webauthn_challenges") == 20
    # Five minutes on, the old ones have expired: room again.
    later = datetime.now(UTC) + timedelta(minutes=5, seconds=1)
    services.members.clock = lambda: later
    async with httpx.AsyncClient(base_url=live_server.url) as bare:
        again = await bare.post("/api/members/signin/options", headers=origin)
    assert again.status_code == 200, again.text
    assert rows(services, "courtwatch_webauthn_challenges") == 1
