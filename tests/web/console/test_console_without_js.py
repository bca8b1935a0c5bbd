"""The console works without JavaScript: the queue is server-rendered, filters
are a GET form, and every action is a plain form POST with the CSRF field."""

from __future__ import annotations

from typing import Any

import httpx

from courtwatch.cli.members import invite
from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import PHONE, join, phone
from tests.web.console.helpers import submit


async def test_filters_and_every_action_as_plain_forms_without_javascript(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, page = await phone(browser)
    await join(page, invite(services.members, services.settings.public_url, ["responder"]), "Ana")
    no_js = await browser.new_context(
        viewport=PHONE, java_script_enabled=False, storage_state=await context.storage_state()
    )
    page = await no_js.new_page()
    sighting = (await submit(client))["id"]
    arrest = (await submit(client, kind="courthouse_arrest", courthouse_code="BOS"))["id"]

    # The queue is read from the live map view: wait until it has both reports.
    for _ in range(200):
        await page.goto(f"{live_server.url}/console?kind=courthouse_arrest")
        if await page.locator(f"#r-{arrest}").count() == 1:
            break
    assert await page.locator(f"#r-{arrest}").count() == 1
    assert await page.locator(f"#r-{sighting}").count() == 0
    await page.goto(f"{live_server.url}/console?courthouse=NYC")
    assert await page.locator(f"#r-{sighting}").count() == 1
    assert await page.locator(f"#r-{arrest}").count() == 0

    await page.goto(f"{live_server.url}/console")
    await page.click(f"#r-{sighting} form[data-action=claim] button")
    await page.wait_for_url("**/console?lang=en#r-*")
    assert "Ana" in (await page.text_content(f"#r-{sighting} .qi-going-names") or "")
    await page.click(f"#r-{sighting} form[data-action=on-scene] button")
    await page.wait_for_selector(f"#r-{sighting} .qi-status.status-corroborated")
    # A dispute needs a reason: the browser will not send the form without one.
    await page.click(f"#r-{arrest} form[data-action=dispute] button")
    assert (await client.get(f"/api/reports/{arrest}")).json()["status"] == "unverified"
    await page.select_option(f"#r-{arrest} select[name=reason]", "wrong_place_or_time")
    await page.click(f"#r-{arrest} form[data-action=dispute] button")
    await page.wait_for_selector(f"#r-{arrest} .qi-status.status-disputed")
    await page.select_option(f"#r-{arrest} select[name=outcome]", "released")
    await page.click(f"#r-{arrest} form[data-action=outcome]:not([hidden]) button")
    await page.wait_for_url("**/console?lang=en#r-*")
    await page.click(f"#r-{arrest} form[data-action=verify] button")
    await page.wait_for_url("**/console?lang=en#r-*")
    assert await page.locator(f"#r-{arrest}").count() == 0  # verified: out of the queue
    await page.click(f"#r-{sighting} form[data-action=resolve] button")
    await page.wait_for_url("**/console?lang=en#r-*")
    assert await page.locator(f"#r-{sighting}").count() == 0  # resolved: out of the queue

    history = (await client.get(f"/api/reports/{arrest}")).json()["history"]
    assert [h["event"] for h in history] == ["Submitted", "Disputed", "OutcomeRecorded", "Verified"]
    assert history[1]["data"]["verifier"] == "Ana"
    assert history[1]["data"]["reason"] == "wrong_place_or_time"
    assert set(history[1]["data"]) == {"verifier", "verifier_id", "reason"}
    events = [h["event"] for h in (await client.get(f"/api/reports/{sighting}")).json()["history"]]
    assert events == ["Submitted", "Claimed", "ConfirmedOnScene", "Resolved"]
    await no_js.close()
    await context.close()
