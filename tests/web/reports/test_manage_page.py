"""The watcher's own-report page, reached with the edit key in the URL fragment:
end a watch shift and record an outcome from a phone, with JavaScript and
without; the key never reaches the server in a URL or a Referer, and every
answer holding it is never cached."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.conftest import PHONE
from tests.web.console.helpers import count_events


async def submit(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post(
        "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


async def running_shift(client: httpx.AsyncClient) -> dict[str, Any]:
    return await submit(
        client, {"kind": "watch_shift", "courthouse_code": "NYC", "observed_at": ago(90)}
    )


async def arrest(client: httpx.AsyncClient) -> dict[str, Any]:
    return await submit(
        client,
        {"kind": "courthouse_arrest", "courthouse_code": "NYC", "observed_at": ago(30)},
    )


def watch_requests(page: Any) -> list[tuple[str, str]]:
    """Every request the page makes: (url, referer)."""
    seen: list[tuple[str, str]] = []
    page.on("request", lambda r: seen.append((r.url, r.headers.get("referer", ""))))
    return seen


async def test_with_javascript_the_key_in_the_fragment_ends_a_shift_and_records_an_outcome(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any
) -> None:
    shift = await running_shift(client)
    report = await arrest(client)
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    requests = watch_requests(page)

    await page.goto(f"{live_server.url}/reports/{shift['id']}/manage#key={shift['author_token']}")
    await page.wait_for_selector("#shift-running")
    assert "#key=" not in page.url  # wiped from the address bar and this history entry
    assert await page.text_content("#the-key") == shift["author_token"]
    await page.click("#end-button")  # pre-filled with now, in the courthouse's time
    await page.wait_for_selector("#shift-ended")
    assert await page.text_content("#manage-message") == "Saved."
    ended = (await client.get(f"/api/reports/{shift['id']}")).json()
    assert ended["details"]["ended_at"] and ended["history"][-1]["event"] == "Ended"

    await page.goto(f"{live_server.url}/reports/{report['id']}/manage#key={report['author_token']}")
    await page.wait_for_selector("#outcome-form")
    await page.select_option("#outcome-outcome", "detained")
    await page.select_option("#outcome-taken_to", "ice_field_office")
    await page.click("#outcome-button")
    await page.wait_for_selector("#manage-message")
    recorded = (await client.get(f"/api/reports/{report['id']}")).json()
    assert recorded["details"]["outcome"] == "detained"
    assert recorded["details"]["taken_to"] == "ice_field_office"
    # The page shows the change as before -> after.
    row = await page.text_content("tr[data-event=OutcomeRecorded]")
    assert row is not None and "→" in row

    for key in (shift["author_token"], report["author_token"]):
        assert not [url for url, referer in requests if key in url or key in referer]
    await context.close()


async def test_without_javascript_the_pasted_key_ends_a_shift_and_records_an_outcome(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any
) -> None:
    shift = await running_shift(client)
    report = await arrest(client)
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    requests = watch_requests(page)

    await page.goto(f"{live_server.url}/reports/{shift['id']}/manage?lang=es")
    await page.fill("#key", shift["author_token"])
    await page.click("#open-button")
    await page.wait_for_selector("#shift-running")
    await page.click("#end-button")  # pre-filled with now, in the courthouse's time
    await page.wait_for_selector("#shift-ended")
    assert await page.text_content("#manage-message") == "Guardado."
    assert (await client.get(f"/api/reports/{shift['id']}")).json()["details"]["ended_at"]

    await page.goto(f"{live_server.url}/reports/{report['id']}/manage")
    await page.fill("#key", "not-the-key-" + "x" * 30)
    await page.click("#open-button")
    await page.wait_for_selector("#wrong-key")
    await page.fill("#key", report["author_token"])
    await page.click("#open-button")
    await page.select_option("#outcome-outcome", "released")
    await page.click("#outcome-button")
    await page.wait_for_selector("#manage-message")
    assert (await client.get(f"/api/reports/{report['id']}")).json()["details"]["outcome"] == (
        "released"
    )
    for key in (shift["author_token"], report["author_token"]):
        assert not [url for url, referer in requests if key in url or key in referer]
    await context.close()


async def test_every_answer_that_holds_the_key_is_never_cached_and_a_wrong_key_changes_nothing(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    shift = await running_shift(client)
    page = await client.get(f"/reports/{shift['id']}/manage")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    opened = await client.post(
        f"/reports/{shift['id']}/manage", data={"key": shift["author_token"]}
    )
    assert opened.status_code == 200 and opened.headers["cache-control"] == "no-store"
    assert shift["author_token"] in opened.text
    assert opened.headers["referrer-policy"] == "no-referrer"
    before = count_events(services)
    wrong = await client.post(
        f"/reports/{shift['id']}/manage",
        data={"key": "x" * 43, "action": "end", "ended_at": "2026-01-01T10:00"},
    )
    assert wrong.status_code == 403 and wrong.headers["cache-control"] == "no-store"
    # A shift cannot end before it started, nor twice.
    early = await client.post(
        f"/reports/{shift['id']}/manage",
        data={"key": shift["author_token"], "action": "end", "ended_at": "2001-01-01T10:00"},
    )
    assert early.status_code == 422
    assert count_events(services) == before
    # The saved box after a form submit links to the manage page, key in the fragment.
    form = await client.post(
        "/new/sighting",
        data={
            "courthouse_code": "NYC",
            "observed_at": ago(5),
            "client_key": uuid.uuid4().hex,
        },
    )
    assert form.status_code == 201
    assert "/manage?lang=en#key=" in form.text
