"""Issue 12, "a page-weight budget checked by a test": bytes and generous times, throttled.

The measurement is bench/page_weight.py's (400 kbps, 400 ms round trip, 390x844).
The byte budgets are what fails first when someone adds a heavy file or stops
compressing; the time budgets are loose on purpose (two shared cores): the
figures to quote are the benchmark's, in the README.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from bench.page_weight import PAGES, cold_and_warm
from courtwatch.domain.vocabulary import Kind
from tests.conftest import ServerThread, wait_until
from tests.web.live.test_routes import sighting, submit

# Bytes on the network for the first visit (gzip on the static files). The
# form was 28,582 B (1.54 s) with its helpers, a second stylesheet and the page
# policy on every file; ~21,100 B (1.26 s) without.
COLD_BYTES = {"home": 20_000, "form": 24_000, "map": 200_000}
# What a cold page waited on before it was usable: the page, site.css, store.js,
# pwa.js, outbox.js (the form waited on 8 when it took 1.54 s).
COLD_WAITED_ON = {"home": 5, "form": 5}
# The targets are 1.5 s / 1.5 s / 4 s; here with slack for a busy machine.
COLD_MS = {"home": 3_000, "form": 3_500, "map": 8_000}
# Warm, the map draws the view saved on the phone while the fresh one is on its
# way: the page's own round trip (~0.5 s here) and its scripts, nothing else.
# The figure, no slack (the fastest of three warm loads, so one slow moment
# of a shared machine does not decide it): two round trips again (~1.1 s) fail.
WARM_MS = {"map": 1_000}


@pytest.fixture
async def seeded(live_server: ServerThread, client: httpx.AsyncClient) -> str:
    for code in ("NYC", "BOS"):
        await submit(client, sighting(courthouse_code=code))

    async def on_the_map() -> bool:
        return len((await client.get("/api/map/reports")).json()["reports"]) >= 2

    await wait_until(on_the_map, timeout=20)
    return live_server.url


@pytest.mark.parametrize("name", list(PAGES))
async def test_each_page_fits_its_budget_on_a_bad_connection(
    seeded: str, browser: Any, name: str
) -> None:
    path, ready = PAGES[name]
    cold, warm = await cold_and_warm(browser, seeded, path, ready, warm_loads=3)
    assert cold.bytes <= COLD_BYTES[name], (name, cold)
    if name in COLD_WAITED_ON:
        assert cold.waited_on <= COLD_WAITED_ON[name], (name, cold)
    assert cold.ms <= COLD_MS[name], (name, cold)
    # Warm: every script, style and outline comes from the cache (content-hashed,
    # immutable): only the page itself and its data cross the network.
    static_requests_allowed = {"home": 1, "form": 1, "map": 3}[name]
    assert warm.requests <= static_requests_allowed, (name, warm)
    if name == "map":  # home and form are mostly their own HTML, sent fresh each time
        assert warm.bytes < cold.bytes / 2, (name, cold, warm)
    if name == "map":
        # What the first marker waited on: the page alone, not the reports' round trip.
        assert warm.waited_on == 1, (name, warm)
    if name in WARM_MS:
        assert warm.ms <= WARM_MS[name], (name, warm)


class _FirstViewFiles(HTMLParser):
    """The files a page makes the browser fetch before it is usable: its
    stylesheets and its scripts with a src (deferred ones run before the
    outbox, and share the line with it)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and named.get("src"):
            self.urls.append(str(named["src"]))
        if tag == "link" and named.get("rel") == "stylesheet" and named.get("href"):
            self.urls.append(str(named["href"]))


async def _wire_bytes(client: httpx.AsyncClient, url: str) -> int:
    async with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as answer:
        assert answer.status_code == 200, url
        return len(b"".join([chunk async for chunk in answer.aiter_raw()]))


# Every form, before it is usable: the page and 4 files, 16,400 (call-in) to
# 19,700 (arrest) bytes of gzipped bodies, ~0.4 s at 400 kbps on top of two
# round trips. The sighting form fetched 7 files and 22,900 bytes at 1.54 s.
FORM_FIRST_VIEW_FILES = 4
FORM_FIRST_VIEW_BYTES = 21_000


async def test_every_form_fetches_few_files_before_it_is_usable(
    client: httpx.AsyncClient,
) -> None:
    """No browser: what each of the four forms asks for with its first view.

    The courthouse search and the zone hints are fetched after the load event
    (listed in the page's "after-load" block, see pwa.js), so they are not here.
    """
    for kind in Kind:
        page = f"/new/{kind.value}?lang=es"
        files = _FirstViewFiles()
        files.feed((await client.get(page)).text)
        assert len(files.urls) <= FORM_FIRST_VIEW_FILES, (kind, files.urls)
        total = await _wire_bytes(client, page)
        for url in files.urls:
            total += await _wire_bytes(client, url)
        assert total <= FORM_FIRST_VIEW_BYTES, (kind, total, files.urls)
        assert not any("places" in url or "zones" in url for url in files.urls), files.urls
