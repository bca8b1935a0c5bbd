"""Chromium at 390x844: a watcher with no signal types sealed notes; they arrive
once when signal returns; a lawyer reads them, a responder cannot. The sealed
pages fit a phone in English and Spanish. Screenshots go to tmp_path, or to
COURTWATCH_SHOTS_DIR when set (for review)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from courtwatch.members import MemberRole
from courtwatch.services import Services
from tests.conftest import ServerThread, wait_until
from tests.members.tokens import member_token
from tests.sealed.conftest import bearer, count, markers

PHONE = {"width": 390, "height": 844}
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
UNTRANSLATED = (
    r"/\b(sealed|sealed_field|sealed_action|field)\.[a-z_.]+\b/.test(document.body.innerText)"
)


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("COURTWATCH_SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def check(page: Any, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert await page.evaluate(NO_OVERFLOW), f"{name} scrolls sideways at 390 px"
    assert not await page.evaluate(UNTRANSLATED), f"{name} shows an untranslated key"


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_sealed_notes_typed_offline_arrive_once_and_only_a_lawyer_reads_them(
    live_server: ServerThread,
    browser: Any,
    client: httpx.AsyncClient,
    services: Services,
    tmp_path: Path,
    lang: str,
) -> None:
    folder = shots(tmp_path)
    values = markers()
    context = await browser.new_context(viewport=PHONE, locale=lang)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/new/courthouse_arrest?lang={lang}")
    await page.locator("#courthouse_code").select_option("NYC")
    await page.locator("#sealed-section summary").click()
    for name, value in values.items():
        await page.locator(f'[name="sealed.{name}"]').fill(value)
    await check(page, folder, f"form-sealed-section-{lang}")

    await context.set_offline(True)
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#outbox-notice").wait_for()
    assert await page.evaluate("window.courtwatchOutbox.pending()") == 1
    assert count(services, "courtwatch_events") == 0
    await context.set_offline(False)
    await page.evaluate("window.courtwatchOutbox.flush()")

    async def sent() -> bool:
        return int(await page.evaluate("window.courtwatchOutbox.pending()")) == 0

    await wait_until(sent, timeout=15)
    await page.evaluate("window.courtwatchOutbox.flush()")  # a second flush sends nothing more
    with services.database.connect() as conn:
        rows = conn.execute("SELECT report_id FROM sealed_envelopes").fetchall()
    assert len(rows) == 1
    report_id = str(rows[0][0])
    assert count(services, "courtwatch_events") == 2  # Submitted, DetailsSealed: once

    lawyer_token = member_token(services, "Lawyer Ana", MemberRole.LAWYER)
    responder_token = member_token(services, "Río", MemberRole.RESPONDER)
    coordinator_token = member_token(services, "Coordinadora Cy", MemberRole.COORDINATOR)
    lawyer = await browser.new_context(
        viewport=PHONE, locale=lang, extra_http_headers=bearer(lawyer_token)
    )
    lawyer_page = await lawyer.new_page()
    answer = await lawyer_page.goto(f"{live_server.url}/reports/{report_id}/sealed?lang={lang}")
    assert answer is not None and answer.status == 200
    shown = await lawyer_page.locator("#sealed-fields").inner_text()
    for value in values.values():
        for line in value.split("\n"):
            assert line in shown
    await check(lawyer_page, folder, f"sealed-read-{lang}")

    responder = await browser.new_context(
        viewport=PHONE, locale=lang, extra_http_headers=bearer(responder_token)
    )
    refused = await (await responder.new_page()).goto(
        f"{live_server.url}/reports/{report_id}/sealed?lang={lang}"
    )
    assert refused is not None and refused.status == 403
    assert values["person_name"] not in await refused.text()

    coordinator = await browser.new_context(
        viewport=PHONE, locale=lang, extra_http_headers=bearer(coordinator_token)
    )
    reads_page = await coordinator.new_page()
    await reads_page.goto(f"{live_server.url}/console/sealed/reads?lang={lang}")
    listing = await reads_page.locator("#sealed-reads").inner_text()
    assert "Lawyer Ana" in listing and re.search(r"\d{4}-\d{2}-\d{2}", listing)
    await check(reads_page, folder, f"sealed-reads-{lang}")
    # The public page: the history names the sealed event, and shows no value.
    await page.goto(f"{live_server.url}/reports/{report_id}?lang={lang}")
    history = await page.locator("table.history").inner_text()
    assert ("Sealed details attached" if lang == "en" else "Datos sellados adjuntos") in history
    assert values["person_name"] not in await page.content()
    await check(page, folder, f"report-public-history-{lang}")
    for ctx in (context, lawyer, responder, coordinator):
        await ctx.close()
