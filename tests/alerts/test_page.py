"""The console's alerts page on a 390 px phone, signed in with a passkey: add an alert
through the page's form with JavaScript off (CSRF token), see it listed, remove it;
then, with JavaScript, draw a circle on the map; in English and Spanish."""

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
    # The same session in a browser with JavaScript off: the form must still work.
    plain = await browser.new_context(
        viewport={"width": 390, "height": 844},
        locale=lang,
        java_script_enabled=False,
        storage_state=None,
    )
    try:
        await join(page, link, "Río 7")
        await plain.add_cookies(await context.cookies())
        no_js = await plain.new_page()
        await no_js.goto(f"{live_server.url}/console/alerts?lang={lang}")
        assert await no_js.text_content("h1") == heading
        assert (await no_js.text_content("#subscribe-button") or "").strip() == add
        assert not await no_js.is_visible("#area-picker")  # the map needs JavaScript
        await no_js.select_option("select[name=courthouses]", ["NYC", "SFR"])
        await no_js.uncheck("input[name=kinds][value=call_in]")
        await no_js.select_option("select[name=min_status]", "verified")
        await no_js.fill("input[name=quiet_start]", "22:00")
        await no_js.fill("input[name=quiet_end]", "07:00")
        await no_js.click("#subscribe-button")
        await no_js.wait_for_selector(".subscription", timeout=10_000)
        text = await no_js.text_content(".subscription")
        # Named as a person knows them, not by code only.
        assert text is not None and level in text and "22:00" in text
        assert "New York" in text and "San Francisco" in text
        assert await no_js.evaluate("document.documentElement.scrollWidth") <= 390
        member = services.members.members()[0]
        [saved] = services.alerts.subscriptions(member.id)
        assert sorted(saved.spec.courthouses) == ["NYC", "SFR"]
        assert saved.spec.kinds == ("courthouse_arrest", "sighting")
        await no_js.click(".remove-subscription")
        await no_js.wait_for_selector(".subscription", state="detached", timeout=10_000)
        assert services.alerts.subscriptions(member.id) == []

        if lang != "en":
            return  # the map once is enough: the language was checked above
        # With JavaScript: tap the map's centre for a circle of 3 km, no courthouse.
        await page.goto(f"{live_server.url}/console/alerts?lang={lang}")
        await page.check("input[name=area_mode][value=circle]")
        await page.fill("#area-radius", "3")
        await page.click("#area-map", position={"x": 150, "y": 150})
        assert await page.input_value("#area-value")
        await page.click("#subscribe-button")
        await page.wait_for_selector(".subscription", timeout=10_000)
        [circle] = services.alerts.subscriptions(member.id)
        assert circle.spec.courthouses == () and circle.spec.area is not None
        assert circle.spec.area.radius_m == 3000  # type: ignore[union-attr]
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        await plain.close()
        await context.close()
