"""The live map inside the installed app: kept by the service worker, warm and offline.

The worker serves the kept map page before the network answers
(stale-while-revalidate); the page draws the view it saved, says it is saved,
and replaces it once the server answers. What must hold: with no signal the
map still opens and says its data may be out of date; when signal returns the
new state comes by itself; a Spanish reader is never handed the kept English
page while the network works; a deploy that changes the map page makes a new
worker version, so no phone keeps serving a page that names old scripts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerThread, wait_until
from tests.web.live.test_routes import sighting, submit
from tests.web.reports.test_client_evidence import screenshot_path
from tests.web.test_app_shell import Phone, phone_profile  # noqa: F401 (a fixture)

OFFLINE_WORDS = {"en": "no connection", "es": "sin conexión"}


async def on_the_map(client: httpx.AsyncClient, count: int) -> None:
    async def shown() -> bool:
        return len((await client.get("/api/map/reports")).json()["reports"]) >= count

    await wait_until(shown, timeout=20)


async def until(page: Any, script: str, timeout: float = 15) -> None:
    async def holds() -> bool:
        return bool(
            await page.evaluate(
                f"(() => {{ try {{ return {script}; }} catch (e) {{ return false; }} }})()"
            )
        )

    await wait_until(holds, timeout=timeout)


async def installed(phone: Phone, base: str, lang: str) -> Any:
    page = await phone.start(locale=f"{lang}-US")
    await page.goto(f"{base}/?lang={lang}")
    assert await page.evaluate("window.courtwatchApp.ready()") is True
    return page


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_the_kept_map_opens_offline_and_catches_up_when_signal_returns(
    live_server: ServerThread,
    client: httpx.AsyncClient,
    phone_profile: Phone,  # noqa: F811
    tmp_path: Path,
    lang: str,
) -> None:
    base = live_server.url
    await submit(client, sighting(courthouse_code="NYC"))
    await on_the_map(client, 1)
    page = await installed(phone_profile, base, lang)
    await page.goto(f"{base}/map?lang={lang}")  # the worker keeps the page
    await until(page, "window.courtwatchMap.status() === 'live'")
    # Warm: the kept page and the saved view, then the fresh one.
    await page.goto(f"{base}/map?lang={lang}")
    await until(page, "window.courtwatchMap.markerCount() === 1")
    await until(page, "window.courtwatchMap.showingSaved() === false")
    assert await page.locator("html").get_attribute("lang") == lang
    await page.screenshot(path=screenshot_path(tmp_path, f"map-warm-{lang}"))

    # No signal: the page still opens, from the phone, and says what it shows.
    await phone_profile.go_offline()
    await page.reload()
    await until(page, "window.courtwatchMap.markerCount() === 1")
    assert await page.locator("html").get_attribute("lang") == lang
    notice = page.locator("#cw-notice")
    await notice.filter(has_text=OFFLINE_WORDS[lang]).wait_for()
    assert await page.evaluate("window.courtwatchMap.showingSaved()") is True
    assert await page.evaluate("window.courtwatchMap.status()") != "live"
    await page.screenshot(path=screenshot_path(tmp_path, f"map-offline-{lang}"))

    # Meanwhile the world moves on; signal returns; the map catches up by itself.
    second = await submit(client, sighting(courthouse_code="BOS"))
    await on_the_map(client, 2)
    await phone_profile.go_online()
    await until(page, "window.courtwatchMap.markerCount() === 2", timeout=30)
    await until(page, "window.courtwatchMap.showingSaved() === false", timeout=30)
    await until(page, "window.courtwatchMap.status() === 'live'", timeout=30)
    assert await notice.is_hidden()
    assert await page.evaluate("window.courtwatchMap.position()") >= second["position"]


async def test_a_kept_map_in_one_language_is_not_served_for_another_while_online(
    live_server: ServerThread,
    phone_profile: Phone,  # noqa: F811
) -> None:
    base = live_server.url
    page = await installed(phone_profile, base, "en")
    await page.goto(f"{base}/map?lang=en")
    await until(page, "window.courtwatchMap.status() === 'live'")
    await page.goto(f"{base}/map?lang=es")
    assert await page.locator("html").get_attribute("lang") == "es"
    assert "Tendencias" in await page.locator(".cw-nav").inner_text()


async def test_a_new_map_page_makes_a_new_worker_version(
    live_server: ServerThread, client: httpx.AsyncClient, web_app: Any
) -> None:
    def version(script: str) -> str:
        match = re.search(r'"version": "([0-9a-f]{12})"', script)
        assert match, script[:200]
        return match[1]

    before = version((await client.get("/sw.js?lang=en")).text)
    assert version((await client.get("/sw.js?lang=en")).text) == before  # stable
    pages = dict(web_app.state.map_pages)
    web_app.state.map_pages = {
        **pages,
        "en": pages["en"].replace("live-map.", "live-map.deployed-"),
    }
    assert version((await client.get("/sw.js?lang=en")).text) != before
