"""The console, the manage page and the report history at 390x844 in English and
Spanish: nothing wider than the phone, no Content-Security-Policy violation, and
a screenshot of each (into $COURTWATCH_SCREENSHOTS when set)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from courtwatch.cli.members import invite
from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import join, phone
from tests.members.tokens import member_token
from tests.web.console.helpers import submit
from tests.web.reports.test_client_evidence import CSP_WATCH, screenshot_path

WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


async def fits_and_obeys_csp(page: Any, selector: str | None = None) -> None:
    if selector is None:
        width = await page.evaluate("document.documentElement.scrollWidth")
    else:
        # The report page's own layout is another change's; this one owns its history.
        width = (await page.locator(selector).bounding_box())["x"] + (
            await page.locator(selector).bounding_box()
        )["width"]
    assert width <= 390, await page.evaluate(WIDEST)
    assert await page.evaluate("window.__cspViolations") == []


@pytest.mark.parametrize("lang", ["en", "es"])
async def test_console_manage_and_history_screens(
    live_server: ServerThread,
    client: httpx.AsyncClient,
    browser: Any,
    services: Services,
    tmp_path: Path,
    lang: str,
) -> None:
    context, page = await phone(browser, lang)
    await context.add_init_script(CSP_WATCH)
    await join(page, invite(services.members, services.settings.public_url, ["responder"]), "Río 7")
    other = {"Authorization": f"Bearer {member_token(services, 'Ana', 'responder')}"}
    arrest = await submit(client, kind="courthouse_arrest", agents_count=4)
    sighting = await submit(client, agents_count=2)
    await client.post(f"/api/reports/{sighting['id']}/claim", headers=other)
    await client.post(
        f"/api/reports/{arrest['id']}/dispute", headers=other, json={"reason": "unconfirmed_rumour"}
    )

    await page.goto(f"{live_server.url}/console?lang={lang}")
    await page.wait_for_selector("#live-state.on")
    await page.wait_for_selector(f"#r-{sighting['id']} .qi-going-names:text('Ana')")
    await fits_and_obeys_csp(page)
    await page.screenshot(path=screenshot_path(tmp_path, f"console-{lang}"), full_page=True)

    await client.post(
        f"/api/reports/{arrest['id']}/amend",
        json={"token": arrest["author_token"], "changes": {"agents_count": 6, "agency": "ice_ero"}},
    )
    await client.post(f"/api/reports/{arrest['id']}/on-scene", headers=other)
    await page.goto(f"{live_server.url}/reports/{arrest['id']}?lang={lang}")
    await fits_and_obeys_csp(page, "table.history")
    await page.locator("table.history").screenshot(
        path=screenshot_path(tmp_path, f"report-history-member-{lang}")
    )

    anonymous = await browser.new_context(viewport={"width": 390, "height": 844}, locale=lang)
    await anonymous.add_init_script(CSP_WATCH)
    watcher = await anonymous.new_page()
    await watcher.goto(f"{live_server.url}/reports/{arrest['id']}?lang={lang}")
    await fits_and_obeys_csp(watcher, "table.history")
    await watcher.locator("table.history").screenshot(
        path=screenshot_path(tmp_path, f"report-history-public-{lang}")
    )
    await watcher.goto(
        f"{live_server.url}/reports/{arrest['id']}/manage?lang={lang}#key={arrest['author_token']}"
    )
    await watcher.wait_for_selector("#outcome-form")
    await fits_and_obeys_csp(watcher)
    await watcher.screenshot(path=screenshot_path(tmp_path, f"manage-{lang}"), full_page=True)
    await watcher.goto(f"{live_server.url}/reports/{arrest['id']}/manage?lang={lang}")
    await watcher.screenshot(path=screenshot_path(tmp_path, f"manage-key-{lang}"))
    await anonymous.close()
    await context.close()
