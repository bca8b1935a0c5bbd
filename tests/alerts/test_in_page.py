"""In-page alerts on the open console: a report arriving while the tab is in the
background counts in the title and shows a system notification; coming back clears it."""

from __future__ import annotations

from typing import Any

import httpx

from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import client, live_server, port, settings
from tests.web.console.helpers import submit
from tests.web.console.test_console_browser import signed_in_console

__all__ = ["client", "live_server", "port", "settings"]

# Headless Chromium keeps a background tab "visible"; the page is told it is
# hidden, as a phone's browser would after switching apps, and what it shows is
# recorded from the Notification constructor.
HIDE = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__hidden });
  window.__hidden = true;
  window.__shown = [];
  window.Notification = class { constructor(title, options) { window.__shown.push({ title, body: options.body }); } };
  window.Notification.permission = "granted";
}"""
SHOW = (
    """() => { window.__hidden = false; document.dispatchEvent(new Event("visibilitychange")); }"""
)


async def test_reports_arriving_in_the_background_count_in_the_title_and_notify(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, page = await signed_in_console(browser, live_server, services)
    try:
        title = await page.title()
        await page.evaluate(HIDE)
        first = (await submit(client))["id"]
        await page.wait_for_selector(f"#r-{first}", timeout=5_000)
        second = (await submit(client, kind="courthouse_arrest", agents_count=2))["id"]
        await page.wait_for_selector(f"#r-{second}", timeout=5_000)
        assert await page.title() == f"(2) {title}"
        shown = await page.evaluate("window.__shown")
        assert shown == [
            {"title": "Agents or vehicles seen at NYC", "body": "Unverified"},
            {"title": "Arrest at a courthouse at NYC", "body": "Unverified"},
        ]
        await page.evaluate(SHOW)
        assert await page.title() == title
        third = (await submit(client))["id"]  # in view: no count, no notification
        await page.wait_for_selector(f"#r-{third}", timeout=5_000)
        assert await page.title() == title
        assert len(await page.evaluate("window.__shown")) == 2
    finally:
        await context.close()
