"""A member's whole path in Chromium at 390x844 with a virtual authenticator:
invite (CLI) -> register a passkey -> sign out -> sign in -> verify with the session
and CSRF token -> revoked by a coordinator -> the session stops working at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import expect

from courtwatch.cli.members import invite
from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import as_member, join, phone, sign_in


async def submit_sighting(client: httpx.AsyncClient) -> str:
    answer = await client.post(
        "/api/reports",
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={
            "kind": "sighting",
            "courthouse_code": "NYC",
            "observed_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        },
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


VERIFY_FROM_PAGE = """async (reportId) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const answer = await fetch(`/api/reports/${reportId}/verify`, {
    method: "POST", headers: {"X-CSRF-Token": csrf}});
  return answer.status;
}"""


async def test_invite_register_sign_out_sign_in_verify_and_revocation_takes_effect_at_once(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    link = invite(services.members, services.settings.public_url, ["responder"])
    assert link.startswith(live_server.url + "/invite/")
    context, page = await phone(browser)

    await join(page, link, "Río 7")
    assert await page.text_content("#me") == "Río 7"
    (cookie,) = await context.cookies()
    assert cookie["name"] == "courtwatch_session"  # __Host- and Secure off http://localhost only
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] == -1
    assert not await page.evaluate("document.cookie")  # no script can read it
    assert len(services.members.passkeys(services.members.members()[0].id)) == 1

    await page.click("#signout")
    await page.wait_for_url("**/signin**")
    assert await page.is_visible("#signin-button")
    assert (await client.get("/api/members/me")).status_code == 401

    await sign_in(page, live_server.url)
    assert await page.text_content("#me") == "Río 7"

    report = await submit_sighting(client)
    assert await page.evaluate(VERIFY_FROM_PAGE, report) == 200
    verified = (await client.get(f"/api/reports/{report}")).json()
    assert verified["status"] == "verified"
    (member,) = services.members.members()
    assert verified["history"][-1]["data"] == {"verifier": "Río 7", "verifier_id": str(member.id)}
    coordinator = as_member(services, "Coord", "coordinator")
    revoked = await client.post(f"/console/members/{member.id}/revoke", headers=coordinator)
    assert revoked.status_code == 303

    # The very next request with the same cookie is refused, and the page is gone.
    another = await submit_sighting(client)
    assert await page.evaluate(VERIFY_FROM_PAGE, another) == 401
    assert (await client.get(f"/api/reports/{another}")).json()["status"] == "unverified"
    await page.goto(live_server.url + "/console/members")
    assert "/signin" in page.url
    await context.close()


async def test_a_member_adds_a_second_passkey_signs_in_with_it_and_revokes_the_first(
    live_server: ServerThread, browser: Any, services: Services
) -> None:
    link = invite(services.members, services.settings.public_url, ["lawyer"])
    context, page = await phone(browser)
    await join(page, link, "Lee")
    (lee,) = services.members.members()
    (first,) = services.members.passkeys(lee.id)

    # The first phone is lost; a second authenticator (a security key) is added.
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    authenticators = await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    await page.click("#add-passkey")
    await expect(page.locator("#passkeys form")).to_have_count(2)
    assert len(services.members.passkeys(lee.id)) == 2

    # Revoke the first passkey from the list: this session was opened with it
    # (at the invite), so it ends too; the second one still signs in.
    await page.locator("#passkeys form").first.locator("button").click()
    await page.wait_for_url("**/signin**")
    remaining = services.members.passkeys(lee.id)
    assert [p.credential_id for p in remaining] != [first.credential_id] and len(remaining) == 1
    await sign_in(page, live_server.url)
    await expect(page.locator("#passkeys form")).to_have_count(1)
    assert await page.text_content("#me") == "Lee"
    assert authenticators["authenticatorId"]
    await context.close()
