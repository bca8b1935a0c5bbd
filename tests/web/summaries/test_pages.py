"""The weekly summary page on a phone: charts drawn, heatmap local, downloads that match."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from courtwatch import demo
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from tests.conftest import ServerThread
from tests.projections.trends.conftest import NOW

PHONE = {"width": 390, "height": 844}
PHONE_TOP = {"width": 390, "height": 1500}
WEEK = "/summaries/week/2026-W47"


def history_projected(services: Services) -> None:
    """A month of demo reports, processed by the trend projection the server runs."""
    demo.generate(services.app, reports=600, now=NOW, days=30, zone=services.settings.zone, seed=3)
    target = event_log.head(services.database)
    deadline = time.monotonic() + 60
    while runner.position_of(services.database, runner.TREND_SPEC) < target:
        assert time.monotonic() < deadline, "the trend projection did not catch up"
        time.sleep(0.1)


async def test_the_weekly_summary_reads_on_a_phone_with_its_charts(
    services: Services, live_server: ServerThread, browser: Any, tmp_path: Path
) -> None:
    history_projected(services)
    page = await browser.new_page(viewport=PHONE, device_scale_factor=2)
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url)
            if urlsplit(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:")
            else None)  # fmt: skip
    response = await page.goto(live_server.url + WEEK, wait_until="networkidle")
    assert response is not None and response.ok
    charts = page.locator("svg.chart")
    assert await charts.count() >= 4
    for i in range(await charts.count()):
        chart = charts.nth(i)
        await chart.scroll_into_view_if_needed()
        assert await chart.is_visible()
        box = await chart.bounding_box()
        assert box is not None and box["width"] <= PHONE["width"] and box["height"] > 60
    assert await page.locator("svg.chart rect").count() > 10  # bars, not empty frames
    assert await page.locator(".heatmap .leaflet-container").count() == 1
    assert await page.locator(".heatmap canvas.leaflet-heatmap-layer").count() == 1
    # The heat sits on the live map's state outlines (js/summary-outlines.js).
    await page.wait_for_selector(".heatmap [data-outlines]", state="attached")
    await page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "week-phone.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    # What a coordinator sees first on a phone: the headline figures and the first charts.
    await page.screenshot(
        path=str(tmp_path / "week-phone-top.png"), clip={"x": 0, "y": 0, **PHONE_TOP}
    )
    assert elsewhere == []  # no CDN, no font service, no tile server


async def test_downloads_are_the_figures_on_the_page(
    database: Database, services: Services, client: httpx.AsyncClient
) -> None:
    history_projected(services)
    as_json = (await client.get(WEEK + ".json")).json()
    assert as_json["key"] == "2026-W47" and as_json["zone"] == "America/New_York"
    assert as_json["covers"]["position"] == event_log.head(database)
    rows = list(csv.DictReader(io.StringIO((await client.get(WEEK + ".csv")).text)))
    arrests = next(r for r in rows if r["section"] == "totals" and r["item"] == "courthouse_arrest")
    assert int(arrests["value"]) == as_json["figures"]["totals"]["courthouse_arrest"]["n"]
    busiest = as_json["figures"]["courthouses"][0]["code"]
    one = (await client.get(f"{WEEK}.json?courthouse={busiest}")).json()
    assert one["courthouse"] == busiest
    assert (
        one["figures"]["totals"]["courthouse_arrest"]["n"]
        == (as_json["figures"]["courthouses"][0]["courthouse_arrest"])
    )
    # The bytes are canonical: sorted keys, no spaces, so a digest can be cited.
    raw = (await client.get(WEEK + ".json")).text
    assert raw == json.dumps(
        json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert (await client.get("/summaries/week/2026-W99")).status_code == 404
    # A courthouse's page: the last 12 weeks, charted and tabled, in plain words (EN and ES).
    for lang, words in (("en", "≈ 1 per"), ("es", "≈ 1 cada")):
        html = (await client.get(WEEK, params={"courthouse": busiest, "lang": lang})).text
        weeks_part = html[
            html.index('<section class="weeks"') : html.index(
                "</section>", html.index('<section class="weeks"')
            )
        ]
        assert weeks_part.count("<desc>") == 2
        assert weeks_part.count('<tr><th scope="row">') == 12
        assert (
            words in weeks_part and "/summaries/weeks.csv?from=2026-08-31&amp;to=2026-11-22" in html
        )
        assert "/summaries/reports.geojson?from=2026-11-16&amp;to=2026-11-22" in html
    assert "semana del 16 nov 2026" in html.lower()
    index = await client.get("/summaries")
    assert index.status_code == 200 and "/summaries/week/" in index.text
