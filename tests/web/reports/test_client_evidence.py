"""What a watcher sees in the browser after a submit, and what the answers carry.

Issue 9, "Reports lost" and "Hosts and caches": the offline outbox keeps a report
until courtwatch itself says it stored it; every message after a submit is at the
top of a phone's screen with the focus; answers holding an author token are not
cached; no inline script runs without the server's nonce or hash; permalinks use
the configured public origin whatever the Host header says.

Screenshots go to $COURTWATCH_SCREENSHOTS when set (a folder outside the repo).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest

from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from tests.conftest import ServerThread, wait_until

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
UUID_URL = re.compile(r"/reports/([0-9a-f-]{36})")
PUBLIC = "https://courtwatch.example.org"

CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    return Settings(
        database_url=database.url, data_dir=tmp_path / "data", public_url_setting=PUBLIC
    )


@pytest.fixture
async def phone(browser: Any, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    locale = getattr(request, "param", "en-US")
    # These tests put a middlebox between the page and the server (page.route),
    # which cannot see a service worker's requests: here the page alone sends
    # its outbox. The worker's Background Sync has its own tests (tests/web/test_app_shell.py).
    context = await browser.new_context(**PHONE, locale=locale, service_workers="block")
    await context.add_init_script(CSP_WATCH)
    yield context
    await context.close()


def screenshot_path(tmp_path: Path, name: str) -> str:
    folder = Path(os.environ.get("COURTWATCH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"{name}.png")


async def on_screen_and_focused(page: Any, selector: str) -> None:
    """The message is within the first screenful and has the focus (or holds it)."""
    box = await page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    assert 0 <= box["y"] < 300, f"{selector} is at y={box['y']}, not at the top of the screen"
    focused = await page.evaluate(
        "(s) => { const m = document.querySelector(s); const a = document.activeElement;"
        " return !!m && !!a && (m === a || m.contains(a)); }",
        selector,
    )
    assert focused, f"{selector} does not have the focus"


async def fill_sighting(page: Any, *, lat: str = "", courthouse: str = "BOS") -> None:
    if courthouse:
        await page.locator("#courthouse_code").select_option(courthouse)
    if lat:
        await page.locator("#lat").fill(lat)
        await page.locator("#lon").fill("-74")


async def submit(page: Any) -> None:
    await page.locator("form.report-form button[type=submit]").click()


async def pending(page: Any) -> int:
    return int(await page.evaluate("window.courtwatchOutbox.pending()"))


# 1. The outbox ---------------------------------------------------------------


async def test_a_proxy_error_or_a_captive_portal_page_keeps_the_report_on_the_phone(
    live_server: ServerThread, phone: Any, tmp_path: Path
) -> None:
    page = await phone.new_page()
    await page.goto(live_server.url + "/new/sighting?lang=en")
    await fill_sighting(page)
    answers = [
        (502, "text/html", "<h1>502 Bad Gateway</h1>"),
        (200, "text/html", "<html><body>Welcome to Airport Wi-Fi. Log in.</body></html>"),
        (503, "application/json", '{"error": "upstream down"}'),
        (200, "application/json", '{"ok": true}'),  # JSON, but not courtwatch's "stored"
    ]
    sent: list[int] = []

    async def middlebox(route: Any) -> None:
        if route.request.method != "POST" or not answers:
            await route.continue_()
            return
        status, content_type, body = answers.pop(0)
        sent.append(status)
        await route.fulfill(status=status, content_type=content_type, body=body)

    await page.route("**/new/sighting*", middlebox)
    first_key = await page.locator("input[name=client_key]").input_value()
    await submit(page)  # the proxy answers 502
    await page.locator("#outbox-notice").wait_for()
    assert await pending(page) == 1
    await on_screen_and_focused(page, "#outbox-notice")
    for _ in range(3):  # the portal's 200 page, a 503, a stranger's JSON 200
        await page.evaluate("window.courtwatchOutbox.flush()")
        assert await pending(page) == 1
    assert sent == [502, 200, 503, 200]
    assert "Saved on this phone: 1 report" in await page.locator("#outbox-notice").inner_text()

    await page.evaluate("window.courtwatchOutbox.flush()")  # the real server at last
    assert await pending(page) == 0
    # The next report typed into this form is a new report, not a resend of this one.
    assert await page.locator("input[name=client_key]").input_value() != first_key
    saved = page.locator("#messages .saved").first
    await on_screen_and_focused(page, "#messages .saved")
    href = await saved.locator("a.permalink").get_attribute("href")
    report_id = UUID_URL.search(href or "").group(1)  # type: ignore[union-attr]
    token = await saved.locator("code.author-token").inner_text()
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        assert (await client.get(f"/api/reports/{report_id}")).status_code == 200
        # The key shown is the report's real edit key.
        amended = await client.post(
            f"/api/reports/{report_id}/amend",
            json={"token": token, "changes": {"agents_count": 2}},
        )
        assert amended.status_code == 200, amended.text
    await page.screenshot(path=screenshot_path(tmp_path, "queued-report-sent-en"))


@pytest.mark.parametrize("phone", ["es-US"], indirect=True)
async def test_a_refused_queued_report_stays_with_its_reason_and_can_be_corrected_and_resent(
    live_server: ServerThread, phone: Any, tmp_path: Path
) -> None:
    page = await phone.new_page()
    await page.goto(live_server.url + "/new/sighting")
    await fill_sighting(page, courthouse="", lat="123")  # no such latitude
    await phone.set_offline(True)
    await submit(page)
    await page.locator("#outbox-notice").wait_for()
    assert await pending(page) == 1
    await phone.set_offline(False)
    await page.evaluate("window.courtwatchOutbox.flush()")  # courtwatch answers 422

    assert await pending(page) == 1, "a refused report must stay on the phone"
    assert await page.evaluate("window.courtwatchOutbox.rejected()") == 1
    notice = await page.locator("#outbox-notice").inner_text()
    assert "no fue aceptado" in notice
    assert "Latitud" in notice and "Debe ser 90 o menos." in notice
    assert "Input should" not in notice and "sent" not in notice.lower()
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=screenshot_path(tmp_path, "queued-refused-es"))

    await page.get_by_role("button", name="Corregir y enviar de nuevo").click()
    assert await page.locator("#lat").input_value() == "123"
    assert await page.locator("#lat").get_attribute("aria-invalid") == "true"
    await page.locator("#lat").fill("40.7")
    await submit(page)
    await page.locator("#permalink").wait_for()
    assert await pending(page) == 0
    await on_screen_and_focused(page, "#messages .saved")


# 2. Messages on screen, with focus, in the reader's language ----------------


@pytest.mark.parametrize("phone", ["en-US", "es-US"], indirect=True)
async def test_after_a_submit_the_saved_message_is_at_the_top_and_the_address_is_the_reports(
    live_server: ServerThread, phone: Any, tmp_path: Path
) -> None:
    page = await phone.new_page()
    await page.goto(live_server.url + "/new/courthouse_arrest")
    lang = await page.evaluate("document.documentElement.lang")
    await page.locator("#courthouse_code").select_option("NYC")
    await page.locator("#agents_count").fill("3")
    # A watcher scrolls down to the button, as on a phone.
    await page.locator("form.report-form button[type=submit]").scroll_into_view_if_needed()
    await submit(page)
    await page.locator("#permalink").wait_for()
    await on_screen_and_focused(page, "#messages .saved")
    token = await page.locator("#author-token").inner_text()
    assert len(token) >= 40
    assert (await page.locator("#permalink").inner_text()).startswith(PUBLIC + "/reports/")
    assert re.search(r"/reports/[0-9a-f-]{36}\?lang=" + lang + "$", page.url), page.url
    assert token not in page.url
    assert await page.evaluate("window.__cspViolations") == []
    await page.screenshot(path=screenshot_path(tmp_path, f"saved-{lang}"))


@pytest.mark.parametrize("phone", ["en-US", "es-US"], indirect=True)
async def test_a_validation_error_is_at_the_top_focused_and_translated(
    live_server: ServerThread, phone: Any, tmp_path: Path
) -> None:
    page = await phone.new_page()
    await page.goto(live_server.url + "/new/sighting")
    lang = await page.evaluate("document.documentElement.lang")
    await fill_sighting(page, courthouse="", lat="123")
    await page.locator("form.report-form button[type=submit]").scroll_into_view_if_needed()
    await submit(page)
    await page.locator("#messages .error-summary").wait_for()
    await on_screen_and_focused(page, "#messages .error-summary")
    summary = await page.locator("#messages .error-summary").inner_text()
    expected = {"en": "Must be 90 or less.", "es": "Debe ser 90 o menos."}[lang]
    assert expected in summary
    assert expected in await page.locator("#lat-error").inner_text()
    assert "Input should" not in await page.locator("main").inner_text()
    assert await page.locator("#lat").input_value() == "123"
    assert await pending(page) == 0  # refused while online: the watcher is right here
    await page.screenshot(path=screenshot_path(tmp_path, f"validation-error-{lang}"))


@pytest.mark.parametrize("phone", ["en-US", "es-US"], indirect=True)
async def test_a_report_saved_on_the_phone_says_so_at_the_top(
    live_server: ServerThread, phone: Any, tmp_path: Path
) -> None:
    page = await phone.new_page()
    await page.goto(live_server.url + "/new/sighting")
    lang = await page.evaluate("document.documentElement.lang")
    await fill_sighting(page)
    await page.locator("form.report-form button[type=submit]").scroll_into_view_if_needed()
    await phone.set_offline(True)
    await submit(page)
    await page.locator("#outbox-notice").wait_for()
    await on_screen_and_focused(page, "#outbox-notice")
    expected = {"en": "Saved on this phone: 1", "es": "Guardado en este teléfono: 1"}[lang]
    assert expected in await page.locator("#outbox-notice").inner_text()
    await page.screenshot(path=screenshot_path(tmp_path, f"queued-offline-{lang}"))
    await phone.set_offline(False)


async def test_without_javascript_the_form_answers_in_spanish_with_the_message_first(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/new/sighting?lang=es",
        data={
            "client_key": uuid.uuid4().hex,
            "lat": "123",
            "lon": "-74",
            "observed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert answer.status_code == 422
    main = answer.text.split("<main>", 1)[1]
    assert "Debe ser 90 o menos." in main
    assert "Input should" not in main
    # The summary comes before the form's heading, and asks for the focus.
    assert main.index('class="error-summary"') < main.index("<h1>")
    assert "autofocus" in main.split('class="error-summary"', 1)[1].split(">", 1)[0]


# 3. No caching of author tokens ---------------------------------------------


async def test_answers_that_hold_an_author_token_are_not_stored_by_any_cache(
    client: httpx.AsyncClient,
) -> None:
    now = datetime.now(UTC).isoformat()
    api = await client.post(
        "/api/reports",
        json={"kind": "sighting", "courthouse_code": "BOS", "observed_at": now},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert api.status_code == 201 and "author_token" in api.json()
    local = datetime.now(ZoneInfo("America/New_York")).strftime("%Y-%m-%dT%H:%M")
    form = {"client_key": uuid.uuid4().hex, "courthouse_code": "BOS", "observed_at": local}
    page = await client.post("/new/sighting", data=form)
    assert page.status_code == 201 and 'id="author-token"' in page.text
    outbox = await client.post("/new/sighting", data=form, headers={"Accept": "application/json"})
    assert outbox.status_code == 200 and outbox.json()["author_token"]
    for answer in (api, page, outbox):
        assert answer.headers["cache-control"] == "no-store"


# 4. No inline script without the server's say-so -----------------------------


def script_src(answer: httpx.Response) -> str:
    policy = answer.headers["content-security-policy"]
    return next(d for d in policy.split(";") if d.strip().startswith("script-src"))


async def test_no_page_allows_inline_script_wholesale(client: httpx.AsyncClient) -> None:
    today = datetime.now(UTC).date().isoformat()
    paths = ["/", "/new/sighting", "/map", "/summaries", f"/summaries/day/{today}", "/nope"]
    nonces = set()
    for path in paths:
        answer = await client.get(path)
        assert answer.status_code < 500, path
        source = script_src(answer)
        assert "'unsafe-inline'" not in source and "*" not in source, (path, source)
        nonces.add(re.search(r"'nonce-([^']+)'", source).group(1))  # type: ignore[union-attr]
    assert len(nonces) == len(paths), "a nonce is never reused"


async def test_the_map_the_form_and_the_trends_run_in_chromium_with_no_csp_violation(
    live_server: ServerThread, phone: Any
) -> None:
    page = await phone.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    # live-map.js (a file) runs and asks for the reports; folium's inline set-up ran.
    async with page.expect_response("**/api/map/reports*"):
        await page.goto(live_server.url + "/map?lang=es")
    await page.locator(".leaflet-container").wait_for()
    await wait_until(lambda: page.evaluate("document.querySelectorAll('.leaflet-pane').length > 0"))
    assert await page.evaluate("window.__cspViolations") == []

    await page.goto(live_server.url + "/new/sighting?lang=en")
    assert await page.evaluate("typeof window.courtwatchOutbox") == "object"
    assert await page.evaluate("window.__cspViolations") == []

    today = datetime.now(UTC).date().isoformat()
    await page.goto(live_server.url + f"/summaries/day/{today}?lang=en")
    await page.locator(".leaflet-container").first.wait_for()
    assert await page.evaluate("window.__cspViolations") == []
    assert not [e for e in errors if "Content Security Policy" in e], errors


async def test_an_injected_inline_script_does_not_run(
    live_server: ServerThread, phone: Any
) -> None:
    page = await phone.new_page()

    async def inject(route: Any) -> None:
        answer = await route.fetch()
        body = (await answer.text()).replace(
            "</main>", "<script>window.injected = 1</script></main>"
        )
        await route.fulfill(response=answer, body=body)

    await page.route("**/new/sighting*", inject)
    await page.goto(live_server.url + "/new/sighting?lang=en")
    assert await page.evaluate("typeof window.courtwatchOutbox") == "object"
    assert await page.evaluate("window.injected") is None
    assert any("script-src" in v for v in await page.evaluate("window.__cspViolations"))


# 5. Permalinks from the configured origin ------------------------------------


async def test_permalinks_use_the_configured_public_origin_not_the_host_header(
    client: httpx.AsyncClient,
) -> None:
    submitted = await client.post(
        "/api/reports",
        json={
            "kind": "sighting",
            "courthouse_code": "BOS",
            "observed_at": datetime.now(UTC).isoformat(),
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    report_id = submitted.json()["id"]
    page = await client.get(f"/reports/{report_id}", headers={"Host": "evil.example"})
    assert page.status_code == 200
    assert f"{PUBLIC}/reports/{report_id}" in page.text
    assert "evil.example" not in page.text

    local = datetime.now(ZoneInfo("America/New_York")).strftime("%Y-%m-%dT%H:%M")
    form = {"client_key": uuid.uuid4().hex, "courthouse_code": "BOS", "observed_at": local}
    saved = await client.post("/new/sighting", data=form, headers={"Host": "evil.example"})
    assert saved.status_code == 201
    assert f">{PUBLIC}/reports/" in saved.text and "evil.example" not in saved.text
    outbox = await client.post(
        "/new/sighting",
        data=form,
        headers={"Host": "evil.example", "Accept": "application/json"},
    )
    assert outbox.json()["permalink"] == f"{PUBLIC}{outbox.json()['url']}"


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "https://x.org/path",
        "https://x.org?q=1",
        "https://x.org\r\nSet-Cookie: a=b",
        "https://x.org\x00",
        "https://\ud800.org",
        "http://x.org:99999",
        "http://x.org:" + "9" * 5000,
        "ftp://x.org",
        " https://x.org",
    ],
)
def test_a_public_url_that_is_not_a_plain_origin_stops_startup(raw: str) -> None:
    from courtwatch.infrastructure.config import ConfigError

    with pytest.raises(ConfigError, match="COURTWATCH_PUBLIC_URL"):
        Settings.from_env({"COURTWATCH_PUBLIC_URL": raw})


def test_the_public_url_defaults_to_this_machine_and_drops_a_trailing_slash() -> None:
    assert Settings.from_env({}).public_url == "http://localhost:8000"
    assert Settings.from_env({"COURTWATCH_PORT": "9001"}).public_url == "http://localhost:9001"
    configured = Settings.from_env({"COURTWATCH_PUBLIC_URL": "https://cw.example.org/"})
    assert configured.public_url == "https://cw.example.org"


# Hostile values in what the form endpoint now answers -------------------------

HOSTILE = [
    {"lat": "9" * 5000, "lon": "-74"},
    {"lat": "1e309", "lon": "nan"},
    {"courthouse_code": "BOS\x00", "agents_count": "-1"},
    {"courthouse_code": "\ud800", "observed_at": "0001-01-01T00:00"},
    {"observed_at": "9999-12-31T23:59", "place": "<script>alert(1)</script>"},
    {"observed_at": "\r\n\x1b[31m", "agency": "'; DROP TABLE events; --"},
    {"client_key": "x" * 5000},
    {"client_key": ""},
]


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
async def test_hostile_form_values_get_a_translated_4xx_never_a_5xx_or_raw_text(
    client: httpx.AsyncClient, accept: str
) -> None:
    base = {"client_key": uuid.uuid4().hex, "observed_at": "2026-01-01T10:00"}
    for values in HOSTILE:
        body = {**base, **values}
        # A lone surrogate cannot be UTF-8: send the bytes a broken client would.
        encoded = "&".join(
            f"{k}={quote(v, safe='', errors='surrogatepass')}" for k, v in body.items()
        )
        answer = await client.post(
            "/new/sighting?lang=es",
            content=encoded.encode(),
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert 400 <= answer.status_code < 500, (values, answer.status_code)
        assert "Input should" not in answer.text and "<script>alert" not in answer.text
        if accept == "application/json":
            for field in answer.json().get("fields", []):
                assert "Input should" not in field["reason"], field
