"""Issue 12, "The live map on a phone": the first view fits the data, a feed entry opens
its popup, everything in the reader's language, and a way back to Report and Trends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerThread
from tests.web.live.test_routes import sighting, submit
from tests.web.reports.test_client_evidence import PHONE, screenshot_path

MAP = "(() => { const c = JSON.parse(document.getElementById('courtwatch-config').textContent); return window[c.mapVar]; })()"


async def markers(page: Any) -> int:
    return int(
        await page.evaluate("window.courtwatchMap ? window.courtwatchMap.markerCount() : -1")
    )


@pytest.mark.parametrize("locale,lang", [("en-US", "en"), ("es-US", "es")])
async def test_the_map_on_a_phone_fits_the_data_and_a_feed_entry_opens_its_popup(
    live_server: ServerThread,
    client: httpx.AsyncClient,
    browser: Any,
    tmp_path: Path,
    locale: str,
    lang: str,
) -> None:
    await submit(client, sighting(courthouse_code="NYC", agents_count=3))
    await submit(client, sighting(courthouse_code="BOS"))
    context = await browser.new_context(**PHONE, locale=locale)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/map?lang={lang}")
    for _ in range(400):
        if await markers(page) >= 2:
            break
        await asyncio.sleep(0.025)
    assert await markers(page) >= 2

    # The first view holds both reports (a narrow screen centred on the country would not).
    async def fitted() -> bool:
        return bool(
            await page.evaluate(
                f"(() => {{ const b = {MAP}.getBounds();"
                " return b.contains([40.71, -74.0]) && b.contains([42.36, -71.06]); })()"
            )
        )

    for _ in range(200):
        if await fitted():
            break
        await asyncio.sleep(0.025)
    assert await fitted()

    # Zoomed in on two states: their county lines, and only theirs, are fetched.
    async def counties() -> list[str]:
        return sorted(await page.evaluate("window.courtwatchCounties ? courtwatchCounties() : []"))

    for _ in range(400):
        if {"25", "36"} <= set(await counties()):
            break
        await asyncio.sleep(0.025)
    loaded = await counties()
    assert {"25", "36"} <= set(loaded), loaded
    assert "06" not in loaded and "48" not in loaded  # not California, not Texas

    nav = page.locator(".cw-nav a")
    assert [await a.get_attribute("href") for a in await nav.all()] == [
        f"/?lang={lang}",
        f"/summaries?lang={lang}",
    ]
    await page.screenshot(path=screenshot_path(tmp_path, f"map-{lang}"))

    # Tap the feed open, then tap the New York entry: its popup opens, on screen.
    await page.locator("#cw-feed summary").click()
    entry = page.locator("#cw-feed-list button", has_text="New York").first
    title = await entry.locator(".cw-feed-title").inner_text()
    kind = "Agents or vehicles seen" if lang == "en" else "Agentes o vehículos vistos"
    agents = "3 agents" if lang == "en" else "3 agentes"
    assert title.startswith(kind) and title.endswith(agents), title
    await entry.click()
    popup = page.locator(".leaflet-popup")
    await popup.wait_for()
    assert await popup.locator(".cw-popup-title").inner_text() == title
    link = await popup.locator("a.cw-popup-link").get_attribute("href")
    assert link is not None and link.endswith(f"?lang={lang}")
    box = await popup.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844
    await page.screenshot(path=screenshot_path(tmp_path, f"map-popup-{lang}"))
    await context.close()
