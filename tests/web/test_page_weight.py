"""Issue 12, "a page-weight budget checked by a test": bytes and generous times, throttled.

The measurement is bench/page_weight.py's (400 kbps, 400 ms round trip, 390x844).
The byte budgets are what fails first when someone adds a heavy file or stops
compressing; the time budgets are loose on purpose (two shared cores): the
figures to quote are the benchmark's, in the README.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bench.page_weight import PAGES, cold_and_warm
from tests.conftest import ServerThread, wait_until
from tests.web.live.test_routes import sighting, submit

# Bytes on the network for the first visit (gzip on the static files).
COLD_BYTES = {"home": 25_000, "form": 32_000, "map": 200_000}
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
