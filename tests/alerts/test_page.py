"""The console's alerts page on a 390 px phone, signed in with a passkey: add an alert
through the page (CSRF token), see it listed, remove it; in English and Spanish."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from courtwatch.cli.members import invite
from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import client, join, live_server, phone, port, settings

# The members' live server: http://localhost:<port>, a secure context for passkeys.
__all__ = ["client", "live_server", "port", "settings"]


async def test_signed_out_the_page_sends_you_to_sign_in(client: httpx.AsyncClient) -> None:
    answer = await client.get("/console/alerts?lang=es", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?lang=es"


@pytest.mark.parametrize(
    "lang,heading,add,level",
    [("en", "Alerts", "Add", "Verified"), ("es", "Alertas", "Agregar", "Verificado")],
)
async def test_a_member_adds_and_removes_an_alert_on_a_phone(
    live_server: ServerThread,
    browser: Any,
    services: Services,
    lang: str,
    heading: str,
    add: str,
    level: str,
) -> None:
    link = invite(services.members, services.settings.public_url, ["responder"])
    context, page = await phone(browser, lang)
    try:
        await join(page, link, "Río 7")
        await page.goto(f"{live_server.url}/console/alerts?lang={lang}")
        assert await page.text_content("h1") == heading
        assert (await page.text_content("#subscribe-button") or "").strip() == add
        await page.select_option("select[name=courthouses]", ["NYC", "SFR"])
        await page.uncheck("input[name=kinds][value=call_in]")
        await page.select_option("select[name=min_status]", "verified")
        await page.fill("input[name=quiet_start]", "22:00")
        await page.fill("input[name=quiet_end]", "07:00")
        await page.click("#subscribe-button")
        await page.wait_for_selector(".subscription", timeout=10_000)
        text = await page.text_content(".subscription")
        # Named as a person knows them, not by code only.
        assert text is not None and level in text and "22:00" in text
        assert "New York" in text and "San Francisco" in text
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        member = services.members.members()[0]
        [saved] = services.alerts.subscriptions(member.id)
        assert sorted(saved.spec.courthouses) == ["NYC", "SFR"]
        assert saved.spec.kinds == ("courthouse_arrest", "sighting")
        await page.click(".remove-subscription")
        await page.wait_for_selector(".subscription", state="detached", timeout=10_000)
        assert services.alerts.subscriptions(member.id) == []
    finally:
        await context.close()
