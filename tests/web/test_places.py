"""Issue 12, "Picking a place quickly": search as you type, nearest to me, the last one used.

The phone's location must never leave the phone: every request the page makes
(URL, headers and body) is checked for the coordinates Chromium was given.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest

from tests.conftest import ServerThread
from tests.web.reports.test_client_evidence import PHONE, screenshot_path

# A point in lower Manhattan, with digits that appear nowhere else on the page.
LATITUDE, LONGITUDE = 40.713_347, -74.004_281


@pytest.fixture
async def phone(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    locale = getattr(request, "param", "en-US")
    context = await browser.new_context(
        **PHONE,
        locale=locale,
        geolocation={"latitude": LATITUDE, "longitude": LONGITUDE, "accuracy": 5},
        permissions=["geolocation"],
        service_workers="block",  # every request is the page's own, seen below
    )
    yield context
    await context.close()


def carries_coordinates(text: str) -> bool:
    """The latitude or longitude at any precision of 2+ decimals, in any encoding used."""
    decoded = unquote_plus(text)
    return bool(re.search(r"40[.,]71|74[.,]00|4071\d{2,}|7400\d{2,}", decoded))


async def test_nearest_to_me_chooses_here_and_the_location_never_leaves_the_phone(
    live_server: ServerThread, phone: Any, tmp_path: Path
) -> None:
    page = await phone.new_page()
    sent: list[str] = []

    def record(request: Any) -> None:
        sent.append(" ".join([request.url, str(request.headers), request.post_data or ""]))

    page.on("request", record)
    await page.goto(live_server.url + "/new/sighting?lang=en")
    await page.locator("#nearest").click()
    first = page.locator(".place-choice").first
    await first.wait_for()
    assert "New York" in await first.inner_text()
    await page.screenshot(path=screenshot_path(tmp_path, "place-nearest-en"))
    await first.click()
    assert await page.locator("#courthouse_code").input_value() in {"NYC", "NYB", "NYV", "NYD"}
    # The pin fields stay empty: the location is not in the form.
    assert await page.locator("#lat").input_value() == ""
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#messages .saved").first.wait_for()
    posts = [s for s in sent if "/new/sighting" in s and "courthouse_code=" in s]
    assert len(posts) == 1
    assert sent
    assert not [s for s in sent if carries_coordinates(s.replace(live_server.url, ""))]
    stored = await page.evaluate(
        "async () => JSON.stringify([Object.entries(localStorage),"
        " await courtwatchStore.mine.all(), await courtwatchStore.outbox.all()])"
    )
    assert not carries_coordinates(re.sub(r'"sent_at":\d+', "", stored)), stored


@pytest.mark.parametrize(
    "typed,expected",
    [("bost", "BOS"), ("nueva york", "NYC"), ("NYC", "NYC"), ("tribunal chicago", "CHI")],
)
async def test_typing_part_of_a_name_city_or_code_finds_the_courthouse(
    live_server: ServerThread, phone: Any, typed: str, expected: str
) -> None:
    page = await phone.new_page()
    await page.goto(live_server.url + "/new/courthouse_arrest?lang=es")
    # places.js is loaded after the page's load event: until it runs, typing
    # shows no choices (it searches what was typed once it arrives).
    await page.wait_for_function("window.courtwatchPlaces !== undefined")
    await page.locator("#courthouse-search").fill(typed)
    codes = [await b.get_attribute("data-code") for b in await page.locator(".place-choice").all()]
    assert expected in codes, (typed, codes)
    await page.locator("#courthouse-search").press("Enter")
    assert await page.locator("#courthouse_code").input_value() == codes[0]


async def test_the_last_courthouse_is_remembered_on_the_phone(
    live_server: ServerThread, phone: Any, tmp_path: Path
) -> None:
    page = await phone.new_page()
    await page.goto(live_server.url + "/new/sighting?lang=es")
    await page.locator("#courthouse-search").fill("boston")
    await page.locator(".place-choice").first.click()
    await page.goto(live_server.url + "/new/courthouse_arrest?lang=es")
    assert await page.locator("#courthouse_code").input_value() == "BOS"
    assert "Último usado" in await page.locator("#place-status").inner_text()
    # The zone shown follows the remembered courthouse (zones.js heard the change).
    assert "Este" in await page.locator("#observed_at-zone").inner_text()
    await page.screenshot(path=screenshot_path(tmp_path, "place-remembered-es"))


async def test_a_call_in_picks_an_ice_office_not_a_courthouse(client: httpx.AsyncClient) -> None:
    form = (await client.get("/new/call_in?lang=en")).text
    assert 'id="courthouse_code"' not in form
    assert form.index('id="office"') < form.index('id="letter_date"')
    assert 'id="courthouse_code"' in (await client.get("/new/sighting")).text
