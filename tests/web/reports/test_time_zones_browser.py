"""A phone in Los Angeles at 22:50 fills in the form (issue 9), in headless Chromium.

The phone's zone is set through CDP (``Emulation.setTimezoneOverride``) and its
clock is fixed with Playwright's clock, at a phone's 390 x 844. Set
COURTWATCH_SCREENSHOTS to a folder to keep screenshots of the form.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from courtwatch.services import Services
from tests.conftest import ServerThread

# 22:50 on a Thursday in Los Angeles (PST, -08:00): 01:50 the next day in New York.
PHONE_NOW = datetime(2026, 11, 20, 6, 50, tzinfo=UTC)
PHONE = {"width": 390, "height": 844}


async def phone_in_los_angeles(browser: Any, url: str) -> Any:
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Emulation.setTimezoneOverride", {"timezoneId": "America/Los_Angeles"})
    await page.clock.set_fixed_time(PHONE_NOW)
    await page.goto(url)
    # zones.js is loaded after the page's load event (the form's after-load
    # list): wait until it has named the phone's zone, or a loaded machine
    # reads the server's prefill before the script replaces it.
    await page.wait_for_function(
        "document.querySelector('#observed_at-zone').textContent.includes('Los_Angeles')"
    )
    return page


async def stored_observed_at(client: httpx.AsyncClient, services: Services, client_key: str) -> str:
    report_id = services.app.report_id_for(client_key)
    response = await client.get(f"/api/reports/{report_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["observed_at"])


def screenshot_path(name: str) -> Path | None:
    folder = os.environ.get("COURTWATCH_SCREENSHOTS")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) / name


async def test_a_phone_in_los_angeles_prefills_and_stores_los_angeles_time(
    browser: Any, live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    page = await phone_in_los_angeles(browser, f"{live_server.url}/new/courthouse_arrest")
    # No courthouse yet: the phone's own time, named, not New York's 01:50.
    assert await page.input_value("#observed_at") == "2026-11-19T22:50"
    assert await page.text_content("#observed_at-zone") == "Pacific time (America/Los_Angeles)"

    await page.select_option("#courthouse_code", "NLA")
    assert await page.input_value("#observed_at") == "2026-11-19T22:50"
    assert await page.is_hidden("#zone-notice")
    assert await page.input_value("input[name=phone_utc_offset]") == "-480"

    await page.fill("#observed_at", "2026-11-19T22:45")
    client_key = await page.input_value("input[name=client_key]")
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=/edit|key|token/i")
    assert await stored_observed_at(client, services, client_key) == "2026-11-19T22:45:00-08:00"
    await page.context.close()


@pytest.mark.parametrize(
    ("lang", "notice"),
    [
        (
            "en",
            "Your phone is on Pacific time (America/Los_Angeles); this courthouse is on "
            "Eastern time (America/New_York): enter the courthouse's local time.",
        ),
        (
            "es",
            "Su teléfono está en hora del Pacífico (America/Los_Angeles); este tribunal está "
            "en hora del Este (America/New_York): escriba la hora local del tribunal.",
        ),
    ],
)
async def test_a_courthouse_in_another_zone_follows_its_zone_and_says_so(
    browser: Any,
    live_server: ServerThread,
    client: httpx.AsyncClient,
    services: Services,
    lang: str,
    notice: str,
) -> None:
    page = await phone_in_los_angeles(browser, f"{live_server.url}/new/sighting?lang={lang}")
    await page.select_option("#courthouse_code", "NYC")
    assert await page.input_value("#observed_at") == "2026-11-20T01:50"
    assert (await page.text_content("#observed_at-zone") or "").endswith("(America/New_York)")
    assert await page.is_visible("#zone-notice")
    assert await page.text_content("#zone-notice") == notice

    if path := screenshot_path(f"timezone-form-{lang}.png"):
        await page.locator("#observed_at").scroll_into_view_if_needed()
        await page.evaluate("document.getElementById('courthouse_code').scrollIntoView()")
        await page.screenshot(path=str(path))

    # Left alone, the pre-fill is the moment the form was opened.
    client_key = await page.input_value("input[name=client_key]")
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=/edit|key|token|clave/i")
    assert await stored_observed_at(client, services, client_key) == "2026-11-20T01:50:00-05:00"
    await page.context.close()
