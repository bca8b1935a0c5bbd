"""A member's areas on the alerts page (issue 13: "a circle or a drawn polygon on the
map"): each is drawn on the map, and "Change" lets the member drag a circle's
centre and edge or a polygon's corner; saving replaces the stored subscription.
A change the guard refuses (courtwatch/alerts/model.py) changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from courtwatch.cli.members import invite
from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import client, csrf_of, join, live_server, phone, port, settings

__all__ = ["client", "live_server", "port", "settings"]

CIRCLE = {"lat": 40.7, "lon": -74.0, "radius_m": 2000}
SQUARE = [
    {"lat": 42.35, "lon": -71.08},
    {"lat": 42.35, "lon": -71.04},
    {"lat": 42.37, "lon": -71.04},
    {"lat": 42.37, "lon": -71.08},
]
API = """async ([method, path, csrf, body]) => {
  const answer = await fetch(path, {method, headers: {"Content-Type": "application/json",
    "X-CSRF-Token": csrf}, body: body === null ? undefined : JSON.stringify(body)});
  return [answer.status, await answer.json()];
}"""


async def _drag(page: Any, selector: str, dx: float, dy: float) -> None:
    await page.locator("#area-map").scroll_into_view_if_needed()
    box = await page.locator(selector).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + dx / 2, y + dy / 2, steps=3)
    await page.mouse.move(x + dx, y + dy, steps=3)
    await page.mouse.up()


async def _subscriptions(page: Any, csrf: str) -> dict[str, Any]:
    status, body = await page.evaluate(API, ["GET", "/api/alerts/subscriptions", csrf, None])
    assert status == 200
    return {s["label"]: s for s in body["subscriptions"]}


async def _change(page: Any, base: str, subscription_id: str) -> None:
    await page.click(f'li[data-subscription-id="{subscription_id}"] a.edit-subscription')
    await page.wait_for_selector(f'form[data-editing="{subscription_id}"]')
    await page.wait_for_selector(".area-handle")


async def _save(page: Any) -> None:
    await page.click("#subscribe-button")
    await page.wait_for_selector("form#subscribe:not([data-editing])")


async def test_a_member_drags_their_circle_and_a_corner_and_the_stored_areas_change(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    link = invite(services.members, services.settings.public_url, ["responder"])
    context, page = await phone(browser)
    await join(page, link, "Río 7")
    base = f"{live_server.url}/console/alerts?lang=en"
    await page.goto(base)
    csrf = await csrf_of(page)
    for label, area in (("Home", CIRCLE), ("Work", {"polygon": SQUARE})):
        body = {"label": label, "area": area, "kinds": ["courthouse_arrest"]}
        status, _ = await page.evaluate(API, ["POST", "/api/alerts/subscriptions", csrf, body])
        assert status == 201
    before = await _subscriptions(page, csrf)
    home, work = before["Home"]["id"], before["Work"]["id"]

    await page.goto(base)
    assert await page.locator("path.your-area").count() == 2  # both drawn, in grey

    # The circle: drag its centre east, then its edge outwards.
    await _change(page, base, home)
    assert await page.locator("path.your-area").count() == 1  # the other one
    assert await page.is_checked("input[name=area_mode][value=circle]")
    await _drag(page, ".area-handle-centre", 60, 0)
    await _drag(page, ".area-handle-edge", 40, 0)
    await _save(page)
    changed = (await _subscriptions(page, csrf))["Home"]
    assert changed["area"]["lon"] > CIRCLE["lon"] + 0.001
    assert abs(changed["area"]["lat"] - CIRCLE["lat"]) < 0.01
    assert changed["area"]["radius_m"] > CIRCLE["radius_m"]
    # The rest of the subscription is as it was.
    assert changed["kinds"] == ["courthouse_arrest"] and changed["channel"] == "push"

    # The polygon: drag its first corner south-west; still four corners.
    await _change(page, base, work)
    await _drag(page, ".area-handle-corner >> nth=0", -30, 30)
    await _save(page)
    corners = (await _subscriptions(page, csrf))["Work"]["area"]["polygon"]
    assert len(corners) == 4 and corners[1:] == SQUARE[1:]
    assert corners[0]["lat"] < SQUARE[0]["lat"] and corners[0]["lon"] < SQUARE[0]["lon"]

    # Without JavaScript the same link and form change the other fields; the
    # area (a hidden field, the map needs a script) is kept as it was.
    plain = await browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    await plain.add_cookies(await context.cookies())
    no_js = await plain.new_page()
    await no_js.goto(base)
    await no_js.click(f'li[data-subscription-id="{home}"] a.edit-subscription')
    assert await no_js.input_value("input[name=label]") == "Home"
    await no_js.select_option("select[name=min_status]", "verified")
    await no_js.click("#subscribe-button")
    await no_js.wait_for_selector("form#subscribe:not([data-editing])")
    kept = (await _subscriptions(page, csrf))["Home"]
    assert kept["min_status"] == "verified" and kept["area"] == changed["area"]

    # The same form without JavaScript: a polygon the guard refuses (101
    # corners) answers 422 with the reason, still editing, and changes nothing.
    session = {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in await context.cookies())}
    too_many = [{"lat": 40 + i / 1000, "lon": -74 + (i % 2) / 1000} for i in range(101)]
    refused = await client.post(
        f"/console/alerts/{work}?lang=es",
        headers=session,
        data={"csrf_token": csrf, "label": "Work", "area": json.dumps({"polygon": too_many})},
    )
    assert refused.status_code == 422
    assert "No funcionó" in refused.text and f'data-editing="{work}"' in refused.text
    assert (await _subscriptions(page, csrf))["Work"]["area"]["polygon"] == corners
    # An id that is not one of the member's, or no id at all: not found, nothing stored.
    for path in (f"/console/alerts/{uuid.uuid4()}", "/console/alerts/%00"):
        answer = await client.post(path, headers=session, data={"csrf_token": csrf, "label": "x"})
        assert answer.status_code == 404, path
    assert sorted(await _subscriptions(page, csrf)) == ["Home", "Work"]
