"""Bytes and times of the watcher's pages on a phone's bad connection, cold and warm.

Run: .venv/bin/python bench/page_weight.py [--rounds 3]

Chromium at 390x844 with CDP network throttling (400 kbps down and up, 400 ms
round trip), as issue 12 measured. For each page: the bytes that crossed the
network and the time until the page is usable (home and form: the outbox script
ran; map: the first marker is drawn), first with an empty cache (cold), then
again in the same browser (warm). The floor is the same number of bytes as one
static file, fetched from a bare HTTP server under the same throttling in the
same run: no page can beat it, so "ratio" says how much the page costs beyond
its own weight (round trips, script work, the websocket).

tests/web/test_page_weight.py runs the same measurement with generous budgets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# 400 kbps each way and a 400 ms round trip (CDP takes bytes per second).
THROTTLE = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 / 8,
    "uploadThroughput": 400_000 / 8,
}
PAGES: dict[str, tuple[str, str]] = {
    "home": ("/?lang=en", "!!window.courtwatchOutbox"),
    "form": ("/new/sighting?lang=en", "!!window.courtwatchOutbox && !!document.forms[0]"),
    "map": ("/map?lang=en", "!!window.courtwatchMap && window.courtwatchMap.markerCount() > 0"),
}
# The other three forms: measured by the benchmark only (the test checks what
# every form fetches before it is usable without a browser).
OTHER_FORMS: dict[str, tuple[str, str]] = {
    name: (f"/new/{kind}?lang=en", PAGES["form"][1])
    for name, kind in (
        ("arrest", "courthouse_arrest"),
        ("call_in", "call_in"),
        ("shift", "watch_shift"),
    )
}


@dataclass
class Load:
    ms: float
    bytes: int
    requests: int  # how many went to the network (not answered by a cache)
    # Of those, how many had finished when the page became ready: what it waited on.
    waited_on: int = 0


async def _throttled(context: Any, page: Any) -> Any:
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", THROTTLE)
    return cdp


async def load(context: Any, url: str, ready: str, timeout: float = 60.0) -> Load:
    """Open ``url`` in a new tab of ``context``, throttled; wait until ``ready`` is true."""
    page = await context.new_page()
    cdp = await _throttled(context, page)
    sizes: dict[str, int] = {}
    cached: set[str] = set()

    def finished(event: dict[str, Any]) -> None:
        sizes[event["requestId"]] = int(event.get("encodedDataLength", 0))

    def response(event: dict[str, Any]) -> None:
        answer = event.get("response", {})
        if answer.get("fromDiskCache") or answer.get("fromServiceWorker"):
            cached.add(event["requestId"])

    cdp.on("Network.loadingFinished", finished)
    cdp.on("Network.responseReceived", response)
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    started = time.perf_counter()
    await page.goto(url, wait_until="commit", timeout=timeout * 1000)
    deadline = started + timeout
    # page.evaluate goes through CDP, not the throttled network, and is allowed
    # by the page's CSP (wait_for_function would use eval()).
    while not await page.evaluate(
        f"(() => {{ try {{ return {ready}; }} catch (e) {{ return false; }} }})()"
    ):
        if time.perf_counter() > deadline:
            raise AssertionError(f"{url} was not ready in {timeout} s")
        await asyncio.sleep(0.01)
    elapsed = (time.perf_counter() - started) * 1000
    waited_on = len([k for k in sizes if k not in cached])
    network = {k: v for k, v in sizes.items() if k not in cached}
    await page.close()
    return Load(ms=elapsed, bytes=sum(network.values()), requests=len(network), waited_on=waited_on)


async def cold_and_warm(
    browser: Any, base: str, path: str, ready: str, warm_loads: int = 1
) -> tuple[Load, Load]:
    """A first visit with an empty cache, then another in the same browser.

    With ``warm_loads`` > 1, the fastest of that many warm visits: on a shared
    machine one slow scheduling moment should not decide a budget.
    """
    context = await browser.new_context(**PHONE)
    try:
        cold = await load(context, base + path, ready)
        warm = [await load(context, base + path, ready) for _ in range(warm_loads)]
    finally:
        await context.close()
    return cold, min(warm, key=lambda x: x.ms)


class _Floor(BaseHTTPRequestHandler):
    blob = os.urandom(4 * 1024 * 1024)  # random bytes: nothing to compress

    def do_GET(self) -> None:
        if self.path == "/":  # a blank page to fetch from (same origin)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        tail = self.path.rsplit("/", 1)[-1]
        if not tail.isascii() or not tail.isdigit():
            self.send_error(404)
            return
        size = int(tail)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(self.blob[:size])

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def floor_server() -> Iterator[str]:
    """A bare HTTP server that answers /N with N bytes of one file."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Floor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def floor(browser: Any, floor_url: str, size: int) -> float:
    """Milliseconds to fetch ``size`` bytes as one static file, throttled the same way."""
    context = await browser.new_context(**PHONE)
    try:
        page = await context.new_page()
        await page.goto(floor_url + "/")
        await _throttled(context, page)
        started = time.perf_counter()
        await page.evaluate("(u) => fetch(u).then((r) => r.arrayBuffer())", f"{floor_url}/{size}")
        return (time.perf_counter() - started) * 1000
    finally:
        await context.close()


def _seed(base: str) -> None:
    """Three reports, so the map has markers to draw; waits until the map serves them."""
    import uuid
    from datetime import UTC, datetime, timedelta

    import httpx

    courts = ["NYC", "BOS", "CHI"]
    observed_at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    with httpx.Client(base_url=base, timeout=30) as client:
        for code in courts:
            body = {"kind": "sighting", "courthouse_code": code, "agents_count": 2}
            body["observed_at"] = observed_at
            key = {"Idempotency-Key": uuid.uuid4().hex}
            client.post("/api/reports", json=body, headers=key).raise_for_status()
        deadline = time.monotonic() + 30
        while len(client.get("/api/map/reports").json()["reports"]) < len(courts):
            if time.monotonic() > deadline:
                raise RuntimeError("the map did not show the seeded reports")
            time.sleep(0.1)


async def run(base: str, rounds: int) -> None:
    from playwright.async_api import async_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with floor_server() as floor_url:
            print("400 kbps / 400 ms RTT, 390x844; median of", rounds, "rounds")
            print(
                f"{'page':7s} {'':5s} {'bytes':>9s} {'reqs':>5s} {'ms':>8s} {'floor ms':>9s} {'ratio':>6s}"
            )
            for name, (path, ready) in {**PAGES, **OTHER_FORMS}.items():
                results: dict[str, list[Load]] = {"cold": [], "warm": []}
                for _ in range(rounds):
                    cold, warm = await cold_and_warm(browser, base, path, ready)
                    results["cold"].append(cold)
                    results["warm"].append(warm)
                for label, loads in results.items():
                    ms = statistics.median(x.ms for x in loads)
                    size = int(statistics.median(x.bytes for x in loads))
                    reqs = int(statistics.median(x.requests for x in loads))
                    floor_ms = await floor(browser, floor_url, max(size, 1))
                    print(
                        f"{name:7s} {label:5s} {size:9d} {reqs:5d} {ms:8.0f} {floor_ms:9.0f} "
                        f"{ms / floor_ms:6.2f}"
                    )
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from bench._common import fresh_database, product_process

    db = fresh_database("bench_weight")
    with product_process(db) as url:
        _seed(url)
        asyncio.run(run(url, args.rounds))


if __name__ == "__main__":
    main()
