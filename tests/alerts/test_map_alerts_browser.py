"""In-page alerts on the public live map (issue 13, "the console and the map, when
open"): a signed-in member with the map open in a background tab gets a system
notification and a count in the title for a report matching their subscription,
and nothing for one that does not; an anonymous visitor's map is the same page,
loads no alert script and makes no alert request."""

from __future__ import annotations

from typing import Any

import httpx

from courtwatch.cli.members import invite
from courtwatch.services import Services
from tests.conftest import ServerThread, wait_until
from tests.members.conftest import client, csrf_of, join, live_server, phone, port, settings
from tests.web.console.helpers import submit

__all__ = ["client", "live_server", "port", "settings"]

# Headless Chromium keeps a tab "visible": the page is told it is hidden, as a
# phone's browser would after switching apps. The real Notification (permission
# granted to the context) is wrapped to record what it was asked to show.
HIDE_AND_RECORD = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  window.__shown = [];
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) { super(title, options); window.__shown.push({ title, body: options.body }); }
  };
}"""


async def _live(page: Any) -> None:
    async def live() -> bool:
        return bool(await page.evaluate("window.courtwatchMap && courtwatchMap.status()") == "live")

    await wait_until(live, timeout=15)


async def test_a_member_with_the_map_open_is_alerted_of_a_matching_report_only(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    link = invite(services.members, services.settings.public_url, ["responder"])
    context, page = await phone(browser)
    await context.grant_permissions(["notifications"], origin=live_server.url)
    await join(page, link, "Río 7")
    made = await page.evaluate(
        """async (csrf) => (await fetch("/api/alerts/subscriptions", {method: "POST",
             headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
             body: JSON.stringify({courthouses: ["NYC"], kinds: ["sighting"]})})).status""",
        await csrf_of(page),
    )
    assert made == 201

    anonymous = await browser.new_context(viewport={"width": 390, "height": 844})
    public_page = await anonymous.new_page()
    asked: list[str] = []
    public_page.on("request", lambda r: asked.append(r.url) if "alerts" in r.url.lower() else None)
    await public_page.goto(live_server.url + "/map")
    await page.goto(live_server.url + "/map")
    await _live(public_page)
    await _live(page)

    async def loaded() -> bool:
        return bool(await page.evaluate("typeof window.courtwatchAlerts === 'object'"))

    await wait_until(loaded, timeout=10)
    title = await page.title()
    await page.evaluate(HIDE_AND_RECORD)

    elsewhere = (await submit(client, courthouse_code="BOS"))["id"]
    matching = (await submit(client))["id"]  # a sighting at NYC

    async def both_answered() -> bool:
        answered = await page.evaluate("courtwatchAlerts.answered()")
        return {f"{elsewhere}/unverified", f"{matching}/unverified"} <= set(answered)

    await wait_until(both_answered, timeout=15)
    assert await page.title() == f"(1) {title}"
    strip = page.locator("#cw-my-alerts")
    assert await strip.text_content() == "Your alerts (1): Agents or vehicles seen at NYC"
    assert await strip.get_attribute("href") == f"/reports/{matching}?lang=en"
    assert await page.evaluate("window.__shown") == [
        {
            "title": "Agents or vehicles seen at NYC",
            "body": "Status: Unverified. Reports in this incident: 1.",
        }
    ]

    # The anonymous map saw both reports and asked for nothing about alerts.
    async def public_has_both() -> bool:
        feed = public_page.locator(f'#cw-feed [data-report-id="{matching}"]')
        return bool(await feed.count())

    await wait_until(public_has_both, timeout=10)
    assert asked == []
    assert await public_page.evaluate("typeof window.courtwatchAlerts") == "undefined"
    assert await public_page.locator("script[src*='alerts']").count() == 0

    # The page is the same bytes with and without a session (nothing for a cache
    # to keep about who was signed in); the alerts themselves need the session.
    session = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in await context.cookies())}
    signed_in = await client.get("/map", headers=session)
    assert signed_in.text == (await client.get("/map")).text
    assert "private" not in signed_in.headers.get("cache-control", "")
    answer = await client.get(f"/api/alerts/in-page/{matching}")
    assert answer.status_code == 401
    mine = await client.get(f"/api/alerts/in-page/{matching}?lang=es", headers=session)
    assert mine.headers["cache-control"] == "no-store"
    assert [a["title"] for a in mine.json()["alerts"]] == ["Agentes o vehículos vistos en NYC"]
    assert mine.json()["processed"] is True
    # Not the member's: nothing; hostile values: refused, never a 5xx.
    other = await client.get(f"/api/alerts/in-page/{elsewhere}", headers=session)
    assert other.json() == {"processed": True, "label": "Your alerts ({n})", "alerts": []}
    for path, status in (
        ("/api/alerts/in-page/not-an-id", 404),
        (f"/api/alerts/in-page/{matching}?status=%00", 422),
        (f"/api/alerts/in-page/{matching}?status=" + "9" * 5000, 422),
        (f"/api/alerts/in-page/{matching}?status=verified", 200),
    ):
        assert (await client.get(path, headers=session)).status_code == status, path
    # A report not folded up to that status yet: the page asks again.
    ahead = await client.get(f"/api/alerts/in-page/{matching}?status=verified", headers=session)
    assert ahead.json()["processed"] is False
