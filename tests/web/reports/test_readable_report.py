"""Issue 12, "The report page a person can read": names not codes, local times, before → after."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import ServerThread
from tests.web.reports.test_client_evidence import PHONE, screenshot_path
from web.i18n import translator
from web.reports.readable import Formatter, history_rows, local_time

NEW_YORK = ZoneInfo("America/New_York")


async def submitted(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"kind": "courthouse_arrest", "courthouse_code": "NYC", "agents_count": 2, **fields}
    answer = await client.post(
        "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_the_page_names_the_courthouse_and_shows_its_local_time_and_each_change(
    client: httpx.AsyncClient, lang: str
) -> None:
    observed = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    report = await submitted(client, observed_at=observed.isoformat())
    amended = await client.post(
        f"/api/reports/{report['id']}/amend",
        json={"token": report["author_token"], "changes": {"agents_count": 3}},
    )
    assert amended.status_code == 200, amended.text
    outcome = await client.post(
        f"/api/reports/{report['id']}/outcome",
        json={"token": report["author_token"], "outcome": {"outcome": "detained"}},
    )
    assert outcome.status_code == 200, outcome.text

    page = (await client.get(f"/reports/{report['id']}?lang={lang}")).text
    words = text_of(page)
    assert "New York Immigration Court (NYC) · New York, NY" in words
    local = observed.astimezone(NEW_YORK)
    assert f"{local:%Y-%m-%d %H:%M} {local.tzname()}" in words
    assert observed.isoformat() not in words  # no raw UTC timestamp shown as text
    assert ("Eastern time" if lang == "en" else "hora del Este") in words
    agents = "How many agents" if lang == "en" else "Cuántos agentes"
    assert re.search(rf"{agents} : 2 → 3", words), words
    detained = "Detained" if lang == "en" else "Detenido"
    assert re.search(rf"{'Outcome' if lang == 'en' else 'Resultado'} : .+ → {detained}", words)
    # Every link to another page of courtwatch keeps the reader's language.
    for href in re.findall(r'href="(/[^"]*)"', page):
        if href.startswith(("/static/", "/manifest", "/.well-known/", "/api/")):
            continue  # files and data, not pages
        assert f"lang={lang}" in href or href.endswith(".zip"), href


def test_history_rows_survive_odd_stored_data() -> None:
    fmt = Formatter(translator("en"), {"outcome": "outcome"}, NEW_YORK, lambda code: None)
    rows = history_rows(
        [
            {"version": 1, "event": "Submitted", "timestamp": "0001-01-01T00:00:00+00:00"},
            {"version": 2, "event": "Amended", "timestamp": "garbage", "data": {"changes": None}},
            {"event": "OutcomeRecorded", "data": {"outcome": {"outcome": "\u0000x"}}},
            {"version": 4, "event": "Ended", "timestamp": "9999-12-31T23:59:59+00:00", "data": {}},
        ],
        fmt,
    )
    assert [r.version for r in rows] == [1, 2, 0, 4]
    assert rows[2].changes[0].after == "outcome.\u0000x"  # shown as stored, never raised
    assert local_time("9999-12-31T23:59:59-12:00", NEW_YORK) == "9999-12-31T23:59:59-12:00"
    assert local_time("2026-11-23", NEW_YORK) == "2026-11-23"


async def test_screenshots_of_the_readable_report(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, tmp_path: Path
) -> None:
    report = await submitted(
        client, observed_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat()
    )
    await client.post(
        f"/api/reports/{report['id']}/amend",
        json={"token": report["author_token"], "changes": {"agents_count": 4, "place": "hallway"}},
    )
    for locale, lang in (("en-US", "en"), ("es-US", "es")):
        context = await browser.new_context(**PHONE, locale=locale)
        page = await context.new_page()
        await page.goto(f"{live_server.url}/reports/{report['id']}?lang={lang}")
        assert await page.locator("#place").inner_text() != "NYC"
        # Nothing runs past a phone's screen (the facts' <dd> indents and the
        # citation's hashes did, to 406 px), and the citation speaks the page's language.
        assert (
            await page.evaluate("document.documentElement.scrollWidth")
            <= PHONE["viewport"]["width"]
        )
        title = await page.locator("#citation-title").inner_text()
        assert title == ("Cite this record" if lang == "en" else "Cómo citar este registro")
        await page.locator("table.history").scroll_into_view_if_needed()
        await page.screenshot(path=screenshot_path(tmp_path, f"report-{lang}"), full_page=True)
        await context.close()
