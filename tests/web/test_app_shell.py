"""Issue 12: the watcher's phone app opens with no signal and remembers the phone's reports.

Chromium at 390x844 with a persistent profile (a phone that is switched off and
on again keeps its storage): visit once, lose signal, reload, queue a report,
close the browser, open it again, still queued, signal back, stored once; then
"Remove everything" leaves nothing about reports in IndexedDB, the caches or
localStorage. Screenshots go to $COURTWATCH_SCREENSHOTS when set.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CHROMIUM_ARGS, ServerThread, wait_until
from tests.web.reports.test_client_evidence import PHONE, screenshot_path

OUTBOX_SYNC = "courtwatch-outbox"  # the tag outbox.js registers, service-worker.js handles
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Recorder:
    """Every request the server received (method, path, query): what left the phone."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, str]] = []
        self.state = app.state  # the fixtures and the app share it

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            query = scope.get("query_string", b"").decode("latin-1")
            self.seen.append((scope.get("method", "WS"), scope["path"], query))
        await self.app(scope, receive, send)

    def posts(self, prefix: str) -> int:
        return sum(1 for m, p, _ in self.seen if m == "POST" and p.startswith(prefix))


@pytest.fixture
def recorder(web_app: Any) -> Recorder:
    return Recorder(web_app)


@pytest.fixture
def live_server(recorder: Recorder) -> Any:
    with ServerThread(recorder) as server:
        yield server


class Signal:
    """A TCP relay between the phone and the server: cutting it is losing signal.

    DevTools' offline switch covers pages and, through Playwright, the service
    worker; but Chromium fires a Background Sync on its own (at start-up, by the
    operating system's idea of the network), before any switch applies. Cutting
    the relay makes "no signal" true for every part of the browser.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.up = True
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    def cut(self) -> None:
        self.up = False
        for writer in list(self.writers):
            writer.close()

    def restore(self) -> None:
        self.up = True

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def signal(live_server: ServerThread) -> AsyncIterator[Signal]:
    relay = Signal(live_server.port)
    await relay.start()
    yield relay
    await relay.stop()


class Phone:
    """A Chromium profile on disk, launched and closed like a phone's browser."""

    def __init__(self, playwright: Any, chromium: str, profile: Path) -> None:
        self.playwright, self.chromium, self.profile = playwright, chromium, profile
        self.context: Any = None
        self.sessions: list[Any] = []

    async def start(self, *, offline: bool = False, locale: str = "en-US") -> Any:
        self.context = await self.playwright.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=self.chromium,
            args=CHROMIUM_ARGS,
            locale=locale,
            # From the first moment: a worker woken at start-up must not find signal.
            offline=offline,
            **PHONE,
        )
        if offline:
            await self.go_offline()
        return self.context.pages[0] if self.context.pages else await self.context.new_page()

    async def _network(self, offline: bool) -> None:
        # Playwright's switch covers every page and the service worker; the CDP
        # call is what a phone's DevTools would do, per page.
        await self.context.set_offline(offline)
        conditions = {
            "offline": offline,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        }
        if offline:
            for page in self.context.pages:
                cdp = await self.context.new_cdp_session(page)
                await cdp.send("Network.enable")
                self.sessions.append(cdp)
        for cdp in self.sessions:
            with contextlib.suppress(Exception):  # its page may have been closed
                await cdp.send("Network.emulateNetworkConditions", conditions)

    async def go_offline(self) -> None:
        await self._network(True)

    async def go_online(self) -> None:
        await self._network(False)

    async def stop(self) -> None:
        self.sessions = []
        if self.context is not None:
            await self.context.close()
            self.context = None


@pytest.fixture
async def phone_profile(chromium_path: str, tmp_path: Path) -> AsyncIterator[Phone]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        phone = Phone(playwright, chromium_path, tmp_path / "profile")
        try:
            yield phone
        finally:
            await phone.stop()


async def pending(page: Any) -> int:
    return int(await page.evaluate("window.courtwatchOutbox.pending()"))


async def stored_reports(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    answer = await client.get("/api/map/reports")
    return list(answer.json()["reports"])


REPORT_DATA = """async () => {
  const dbs = (await indexedDB.databases()).map((d) => d.name);
  let outbox = [], mine = [];
  if (dbs.includes("courtwatch")) {
    outbox = await courtwatchStore.outbox.all();
    mine = await courtwatchStore.mine.all();
  }
  const cacheNames = await caches.keys();
  const cached = [];
  for (const name of cacheNames) {
    for (const r of await (await caches.open(name)).keys()) cached.push(r.url);
  }
  const registrations = await navigator.serviceWorker.getRegistrations();
  return { dbs, outbox: outbox.length, mine: mine.length, cacheNames, cached,
           local: localStorage.length, workers: registrations.length };
}"""


async def test_offline_reload_queue_restart_and_send_once(
    signal: Signal,
    recorder: Recorder,
    client: httpx.AsyncClient,
    phone_profile: Phone,
    tmp_path: Path,
) -> None:
    base = signal.url
    page = await phone_profile.start()
    await page.goto(base + "/?lang=en")
    assert await page.evaluate("window.courtwatchApp.ready()") is True
    kept = await page.evaluate(REPORT_DATA)
    for path in ("/?lang=en", "/new/sighting?lang=en", "/new/call_in?lang=en", "/mine?lang=en"):
        assert base + path in kept["cached"], (path, kept["cached"])
    assert base + "/api/courthouses" in kept["cached"]
    # Nothing carrying an edit key, and no report's page, is ever kept.
    assert not [u for u in kept["cached"] if "/reports/" in u or "token" in u]

    # No signal. The form the watcher never opened while online still opens
    # (and its ?courthouse= is not the server's doing: the page came from the phone).
    await phone_profile.go_offline()
    signal.cut()
    requests_before = len(recorder.seen)
    await page.reload()
    await page.goto(base + "/new/sighting?lang=en&courthouse=BOS")
    assert await page.locator("h1").inner_text() == "Agents or vehicles seen"
    assert len(recorder.seen) == requests_before, recorder.seen[requests_before:]
    key_in_cache = await page.evaluate(
        "async () => (await (await caches.match('/new/sighting?lang=en', {ignoreVary: true})).text())"
        '.match(/name="client_key" value="([0-9a-f]+)"/)[1]'
    )
    # The kept page's client key is never the one a report is sent with.
    key_in_form = await page.locator("input[name=client_key]").input_value()
    assert key_in_form != key_in_cache
    await page.locator("#courthouse_code").select_option("NYC")
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#outbox-notice").wait_for()
    assert await pending(page) == 1
    await page.screenshot(path=screenshot_path(tmp_path, "offline-queued-en"))

    # The phone is switched off and on again, still with no signal.
    await phone_profile.stop()
    page = await phone_profile.start(offline=True)
    await page.goto(base + "/?lang=en")
    assert await pending(page) == 1, await page.evaluate(REPORT_DATA)
    assert "1 report" in await page.locator("#outbox-notice").inner_text()
    assert recorder.posts("/new/") == 0
    assert await stored_reports(client) == []

    # Signal returns: the report is sent, once, and listed under My reports.
    signal.restore()
    await phone_profile.go_online()
    await page.evaluate("window.dispatchEvent(new Event('online'))")

    async def sent() -> bool:
        return await pending(page) == 0

    await wait_until(sent, timeout=15)
    await page.locator("#messages .saved").first.wait_for()

    async def on_the_map() -> bool:
        return len(await stored_reports(client)) >= 1

    await wait_until(on_the_map, timeout=10)
    await page.evaluate("window.courtwatchOutbox.flush()")  # a second pass sends nothing
    reports = await stored_reports(client)
    assert len(reports) == 1 and reports[0]["courthouse_code"] == "NYC"

    await page.goto(base + "/mine?lang=en")
    await page.evaluate("window.courtwatchMine.ready")
    link = page.locator("#mine-list a.manage-link")
    assert await link.count() == 1
    href = await link.get_attribute("href") or ""
    match = re.fullmatch(r"/reports/([0-9a-f-]{36})/manage\?lang=en#key=([A-Za-z0-9_-]{43})", href)
    assert match and match[1] == reports[0]["id"], href
    # The key listed is the report's real edit key.
    amended = await client.post(
        f"/api/reports/{match[1]}/amend", json={"token": match[2], "changes": {"agents_count": 3}}
    )
    assert amended.status_code == 200, amended.text
    await page.screenshot(path=screenshot_path(tmp_path, "mine-en"))


@pytest.mark.parametrize("locale,lang", [("en-US", "en"), ("es-US", "es")])
async def test_remove_everything_leaves_no_report_data_on_the_phone(
    live_server: ServerThread, phone_profile: Phone, tmp_path: Path, locale: str, lang: str
) -> None:
    base = live_server.url
    page = await phone_profile.start(locale=locale)
    await page.goto(f"{base}/new/sighting?lang={lang}")
    assert await page.evaluate("window.courtwatchApp.ready()") is True
    await page.locator("#courthouse_code").select_option("BOS")
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#messages .saved").first.wait_for()
    # The map's filters and anything else a page left in localStorage go too.
    await page.evaluate("localStorage.setItem('courtwatch.map.filters', '{}')")
    before = await page.evaluate(REPORT_DATA)
    assert before["mine"] == 1 and before["cacheNames"] and before["workers"] == 1

    # Two taps from any page: "My reports", then "Remove everything".
    await page.locator("#nav-mine").click()
    await page.wait_for_url(re.compile(r"/mine"))
    await page.evaluate("window.courtwatchMine.ready")
    await page.screenshot(path=screenshot_path(tmp_path, f"mine-before-wipe-{lang}"))
    await page.locator("#wipe-button").click()
    await page.locator("#wiped").wait_for()
    after = await page.evaluate(REPORT_DATA)
    assert after == {
        "dbs": [],
        "outbox": 0,
        "mine": 0,
        "cacheNames": [],
        "cached": [],
        "local": 0,
        "workers": 0,
    }, after
    await page.screenshot(path=screenshot_path(tmp_path, f"mine-wiped-{lang}"))
    # Still nothing after the page has been used a little more.
    await page.reload()
    await asyncio.sleep(0)  # (nothing to wait for: the check below reads the stores)
    later = await page.evaluate(REPORT_DATA)
    assert later["outbox"] == 0 and later["mine"] == 0 and later["local"] == 0


async def test_unsent_reports_are_asked_about_before_they_are_removed(
    live_server: ServerThread, phone_profile: Phone, tmp_path: Path
) -> None:
    base = live_server.url
    page = await phone_profile.start()
    await page.goto(base + "/new/sighting?lang=en")
    assert await page.evaluate("window.courtwatchApp.ready()") is True
    await phone_profile.go_offline()
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#outbox-notice").wait_for()
    await page.goto(base + "/mine?lang=en")
    await page.evaluate("window.courtwatchMine.ready")
    assert "1 report" in await page.locator("#mine-waiting").inner_text()
    await page.locator("#wipe-button").click()
    await page.locator("#wipe-yes").wait_for()
    assert "1 report" in await page.locator("#wipe-confirm-text").inner_text()
    assert (await page.evaluate(REPORT_DATA))["outbox"] == 1  # nothing removed yet
    await page.locator("#wipe-yes").click()
    await page.locator("#wiped").wait_for()
    assert (await page.evaluate(REPORT_DATA))["outbox"] == 0


async def test_the_worker_and_manifest_are_served_and_keep_no_secret(
    client: httpx.AsyncClient,
) -> None:
    worker = await client.get("/sw.js?lang=es")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    assert '"/new/sighting?lang=es"' in worker.text
    hostile = await client.get("/sw.js", params={"lang": "</script><x>\x00"})
    assert hostile.status_code == 200 and '"lang": "en"' in hostile.text
    manifest = await client.get("/manifest.webmanifest?lang=es")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    document = manifest.json()
    assert document["start_url"] == "/?lang=es" and document["display"] == "standalone"
    for icon in document["icons"]:
        image = await client.get(icon["src"])
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    mine = await client.get("/mine?lang=es")
    assert "Borrar todo de este teléfono" in mine.text


@pytest.mark.parametrize("locale,lang", [("en-US", "en"), ("es-US", "es")])
async def test_screenshots_of_the_pages_this_issue_changed(
    live_server: ServerThread, browser: Any, tmp_path: Path, locale: str, lang: str
) -> None:
    context = await browser.new_context(**PHONE, locale=locale)
    page = await context.new_page()
    for name, path in (
        ("home", "/"),
        ("form-sighting", "/new/sighting"),
        ("form-call-in", "/new/call_in"),
        ("mine-empty", "/mine"),
    ):
        await page.goto(f"{live_server.url}{path}?lang={lang}")
        # What a person must see first: the page's heading or buttons, in their language.
        assert await page.locator("html").get_attribute("lang") == lang
        await page.screenshot(path=screenshot_path(tmp_path, f"{name}-{lang}"))
    await context.close()


async def test_background_sync_sends_the_outbox_with_no_page_open(
    signal: Signal, recorder: Recorder, client: httpx.AsyncClient, phone_profile: Phone
) -> None:
    base = signal.url
    page = await phone_profile.start()
    await page.goto(base + "/new/sighting?lang=en")
    assert await page.evaluate("window.courtwatchApp.ready()") is True
    # DevTools, from a tab that is not courtwatch's: the worker's registration
    # (ServiceWorker domain) and what Chromium's sync scheduler does with it
    # (BackgroundService domain, as in the Application panel).
    blank = await phone_profile.context.new_page()
    devtools = await blank.context.new_cdp_session(blank)
    registrations: list[dict[str, Any]] = []
    syncs: list[dict[str, Any]] = []
    devtools.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    devtools.on(
        "BackgroundService.backgroundServiceEventReceived",
        lambda e: syncs.append(e["backgroundServiceEvent"]),
    )
    await devtools.send("ServiceWorker.enable")
    await devtools.send("BackgroundService.startObserving", {"service": "backgroundSync"})
    await devtools.send(
        "BackgroundService.setRecording", {"shouldRecord": True, "service": "backgroundSync"}
    )

    # No signal (the operating system still says online, as a phone with one
    # bar does): the form queues the report and asks for a sync; Chromium
    # fires it at once, the worker cannot send, and the sync fails, to be
    # retried minutes later.
    signal.cut()
    await page.locator("#courthouse_code").select_option("BOS")
    await page.locator("form.report-form button[type=submit]").click()
    await page.locator("#outbox-notice").wait_for()

    def named(name: str) -> list[dict[str, Any]]:
        return [e for e in syncs if e["eventName"] == name and e["instanceId"] == OUTBOX_SYNC]

    async def browser_sync_failed() -> bool:
        return bool(named("sync event failed"))

    await wait_until(browser_sync_failed, timeout=15)
    retry = {m["key"]: m["value"] for m in named("sync event failed")[0]["eventMetadata"]}
    assert int(retry["Next Attempt Delay (ms)"]) >= 60_000, retry
    # No courtwatch page is open any more: only the worker is left to send.
    await page.close()
    assert recorder.posts("/new/sighting") == 0

    # Signal returns; the browser fires the sync event (DevTools' "Sync"
    # button: the same SyncEvent, to the worker's own handler).
    signal.restore()
    ours = [r for r in registrations if r["scopeURL"] == base + "/" and not r["isDeleted"]]
    assert ours, registrations
    dispatched = len(named("Dispatched sync event"))
    await devtools.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": base,
            "registrationId": ours[-1]["registrationId"],
            "tag": OUTBOX_SYNC,
            "lastChance": False,
        },
    )

    async def stored() -> bool:
        return len(await stored_reports(client)) == 1

    await wait_until(stored, timeout=15)
    assert len(named("Dispatched sync event")) == dispatched + 1
    # Sent once, stored once: the browser's own retry is minutes away.
    assert recorder.posts("/new/sighting") == 1
    assert len(await stored_reports(client)) == 1
    await blank.goto(base + "/mine?lang=en")
    await blank.evaluate("window.courtwatchMine.ready")
    assert await blank.locator("#mine-list li").count() == 1
    assert (await blank.evaluate(REPORT_DATA))["outbox"] == 0
