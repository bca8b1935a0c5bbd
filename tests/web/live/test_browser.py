"""A rapid-response team's map: new reports appear by themselves, from this server only."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ServerThread


async def marker_count(page: Any) -> int:
    return int(
        await page.evaluate("window.courtwatchMap ? window.courtwatchMap.markerCount() : -1")
    )


async def test_a_new_report_appears_on_an_open_map_within_two_seconds(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(live_server.url)
            or r.url.startswith(live_server.url.replace("http", "ws"))
            else foreign.append(r.url)
        ),
    )
    await page.goto(live_server.url + "/map")
    for _ in range(200):  # the page connects and paints (nothing yet)
        if await page.evaluate("window.courtwatchMap && window.courtwatchMap.status()") == "live":
            break
        await asyncio.sleep(0.025)
    before = await marker_count(page)
    assert before == 0

    started = asyncio.get_running_loop().time()
    response = await client.post(
        "/api/reports",
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={
            "kind": "courthouse_arrest",
            "courthouse_code": "NYC",
            "agency": "ice_ero",
            "observed_at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
        },
    )
    assert response.status_code == 201
    while await marker_count(page) < 1:
        assert asyncio.get_running_loop().time() - started < 2.0, "no marker within 2 s"
        await asyncio.sleep(0.02)
    elapsed = asyncio.get_running_loop().time() - started

    await page.screenshot(path=str(tmp_path / "live-map.png"))
    assert await page.evaluate("window.courtwatchMap.position()") == response.json()["position"]
    assert foreign == [], f"the page asked other hosts: {foreign}"
    assert elapsed < 2.0


async def test_the_filter_panel_fits_a_phone_screen(
    live_server: ServerThread, browser: Any
) -> None:
    # The courthouse select's longest name made the panel 540 px wide at 390 px:
    # every select and fieldset was cut off on the right ("Periodo", "Tribunal").
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(live_server.url + "/map?lang=es")
    await page.click("#cw-filters > summary")
    await page.wait_for_function("document.querySelectorAll('#cw-courthouse option').length > 50")
    panel = await page.evaluate(
        """() => {
          const form = document.getElementById('cw-filter-form');
          const box = form.getBoundingClientRect();
          const controls = [...form.querySelectorAll('select, fieldset')]
            .map(e => e.getBoundingClientRect().right);
          return {left: box.left, right: box.right, scroll: form.scrollWidth,
                  client: form.clientWidth, controls: Math.max(...controls)};
        }"""
    )
    assert panel["left"] >= 0 and panel["right"] <= 390, panel
    assert panel["scroll"] <= panel["client"], panel
    assert panel["controls"] <= panel["right"], panel
