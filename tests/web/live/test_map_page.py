"""The live map page reaches no host but the app's own, and keeps itself current.

The static checks read the rendered HTML and the vendored files. The browser test
drives Debian's Chromium against a stand-in server that speaks the live protocol
(docs/map-page.md) and records every request the page makes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import folium
import pytest

from web.live.map_page import LABELS, STATIC_DIR, render_map_page

TILE_URL = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/map-page.png")
SCREENSHOT_PHONE = Path("/tmp/map-page-phone.png")


class _Refs(HTMLParser):
    """Every src/href attribute and every inline-style url() in a document."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)
            if name == "style" and value:
                self.urls.extend(_css_urls(value))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls.extend(_css_urls(data))


def _css_urls(css: str) -> list[str]:
    return [m.strip("'\" ") for m in re.findall(r"url\(([^)]*)\)", css)]


def _refs(page: str) -> list[str]:
    parser = _Refs()
    parser.feed(page)
    return parser.urls


def _config(page: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="courtwatch-config">(.*?)</script>', page, re.DOTALL
    )
    assert match, "config block missing"
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def _static_file(url: str) -> Path:
    path = urlsplit(url).path
    assert path.startswith("/static/"), url
    # A content-hashed name (web/static_assets.py) is the file without its hash.
    relative = re.sub(r"\.[0-9a-f]{12}(\.[A-Za-z0-9]+)$", r"\1", path.removeprefix("/static/"))
    return STATIC_DIR / relative


@pytest.fixture(scope="module", params=[None, TILE_URL], ids=["outlines-only", "with-tiles"])
def page_html(request: pytest.FixtureRequest) -> str:
    return render_map_page(tile_url=request.param, tile_attribution="Tiles: our own server")


def test_page_names_no_other_host(page_html: str) -> None:
    for url in _refs(page_html):
        assert url.startswith(("/", "#", "data:")), url
        assert not url.startswith("//"), url
    # Beyond attributes: the only absolute URL allowed anywhere is the tile
    # template (in folium's script) and its origin (in the CSP).
    rest = page_html.replace(TILE_URL, "").replace("https://*.tiles.example.org", "")
    assert "http://" not in rest
    assert "https://" not in rest
    assert not re.search(r"""(?:src|href)\s*=\s*["']?//|url\(\s*["']?//""", rest)
    for endpoint in _config(page_html)["endpoints"].values():
        assert endpoint.startswith("/") and not endpoint.startswith("//")


def test_tiles_only_when_configured() -> None:
    without = render_map_page(tile_url=None, tile_attribution="")
    with_tiles = render_map_page(tile_url=TILE_URL, tile_attribution="Tiles: ours")
    assert "L.tileLayer" not in without
    assert TILE_URL in with_tiles and "L.tileLayer" in with_tiles
    assert "img-src 'self' data: https://*.tiles.example.org" in with_tiles
    assert _config(without)["hasTiles"] is False
    assert _config(with_tiles)["hasTiles"] is True


def test_every_static_file_the_page_uses_exists(page_html: str) -> None:
    config = _config(page_html)
    used = [u for u in _refs(page_html) if u.startswith("/static/")]
    used += [u for u in config["basemap"].values() if isinstance(u, str)]
    assert any(_static_file(u).name == "leaflet.js" for u in used)
    assert any(_static_file(u).name == "live-map.js" for u in used)
    for url in used:
        assert _static_file(url).is_file(), url


def test_vendored_css_urls_resolve() -> None:
    css_files = [*STATIC_DIR.joinpath("vendor").rglob("*.css"), STATIC_DIR / "css" / "map.css"]
    assert css_files
    for css in css_files:
        for ref in _css_urls(css.read_text()):
            if ref.startswith(("data:", "#")):
                continue  # inline data, or IE's "#default#VML" behaviour
            assert not ref.startswith(("http:", "https:", "//")), (css, ref)
            assert (css.parent / ref).resolve().is_file(), (css, ref)


def test_provenance_lists_every_vendored_file_with_its_hash() -> None:
    vendor = STATIC_DIR / "vendor"
    rows = re.findall(
        r"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|$",
        (vendor / "PROVENANCE.md").read_text(),
        re.MULTILINE,
    )
    listed = {name: (int(size), digest) for name, size, digest in rows}
    on_disk = {
        p.relative_to(vendor).as_posix()
        for p in vendor.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md"
    }
    assert set(listed) == on_disk
    for name, (size, digest) in listed.items():
        data = (vendor / name).read_bytes()
        assert len(data) == size, name
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_folium_class_defaults_are_left_alone() -> None:
    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    render_map_page(tile_url=None, tile_attribution="")
    assert (folium.Map.default_js, folium.Map.default_css) == before


def test_page_is_accessible_in_spanish() -> None:
    page = render_map_page(tile_url=None, tile_attribution="", lang="es-MX")
    assert '<html lang="es">' in page
    for key in ("filters", "kind_courthouse_arrest", "window_7d", "all_courthouses"):
        assert LABELS["es"][key] in page
    assert _config(page)["labels"] == LABELS["es"]
    assert "user-scalable=no" not in page  # people must be able to zoom the controls
    for control in ("cw-window", "cw-courthouse"):
        assert f'for="{control}"' in page


def test_changed_since_verified_is_labelled_in_both_languages() -> None:
    assert LABELS["en"]["status_amended_after_verdict"] == "Changed since verified"
    assert LABELS["es"]["status_amended_after_verdict"] == "Modificado tras verificarse"
    assert "corroborated" not in LABELS["en"]["stale"]


def test_tile_url_must_be_a_template_we_can_allow() -> None:
    # A bare provider name would make folium fetch someone else's tiles.
    with pytest.raises(ValueError):
        render_map_page(tile_url="OpenStreetMap", tile_attribution="x")
    with pytest.raises(ValueError):
        render_map_page(
            tile_url="https://tiles.{s}.example.org/{z}/{x}/{y}.png", tile_attribution="x"
        )
    with pytest.raises(ValueError):
        render_map_page(tile_url="/tiles/{z}/{x}/{y}.png", tile_attribution=" ")
    page = render_map_page(tile_url="/tiles/{z}/{x}/{-y}.png", tile_attribution="ours")
    assert "img-src 'self' data:;" in page  # our own host: nothing to add


# ---------------------------------------------------------------- browser test


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _report(
    rid: str, kind: str, status: str, lat: float, lon: float, *, hours_ago: float, **extra: Any
) -> dict[str, Any]:
    now = datetime.now(UTC)
    report = {
        "id": rid,
        "kind": kind,
        "status": status,
        "courthouse_code": "NYC",
        "courthouse_name": "26 Federal Plaza",
        "lat": lat,
        "lon": lon,
        "observed_at": _iso(now - timedelta(hours=hours_ago)),
        "updated_at": _iso(now - timedelta(hours=hours_ago / 2)),
        "last_event": "Submitted",
        "stale_at": None,
        "title": f"{kind} {rid}",
        "url": f"/reports/{rid}",
    }
    report.update(extra)
    return report


FIRST_PAINT = [
    _report("A", "courthouse_arrest", "verified", 40.7143, -74.0037, hours_ago=1),
    # Twenty anonymous corroborations (old rows that once said "corroborated"
    # are now read from their verdict, as unverified): that keeps nothing bright
    # (issue 9). Only a member's word does.
    _report(
        "D",
        "sighting",
        "unverified",
        39.7392,
        -104.9903,
        hours_ago=8,
        stale_at=_iso(datetime.now(UTC) - timedelta(hours=2)),
        corroborations=20,
    ),
    _report(
        "B",
        "sighting",
        "unverified",
        34.0537,
        -118.2428,
        hours_ago=8,
        stale_at=_iso(datetime.now(UTC) - timedelta(hours=2)),
    ),
    _report("C", "call_in", "amended_after_verdict", 41.8781, -87.6298, hours_ago=3),
    _report("W", "watch_shift", "disputed", 29.7604, -95.3698, hours_ago=5),
]
FIRST_POSITION = 100
DELTA = _report("E", "courthouse_arrest", "unverified", 47.6062, -122.3321, hours_ago=0.1)
A_DISPUTED = {**FIRST_PAINT[0], "status": "disputed", "last_event": "Disputed"}
SNAPSHOT_POSITION = 105


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = zlib.compress(b"\x00\xe4\xe9\xdc")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")
    )


class StandIn:
    """A tiny server for the page: static files, the two APIs and /ws/live."""

    def __init__(self) -> None:
        self.port = 0
        self.report_queries: list[dict[str, str]] = []
        self.ws_since: list[str | None] = []
        self.close_first = threading.Event()

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, JSONResponse, Response
        from starlette.routing import Mount, Route, WebSocketRoute
        from starlette.websockets import WebSocket, WebSocketDisconnect

        from web.static_assets import StaticAssets

        async def page(request: Request) -> HTMLResponse:
            return HTMLResponse(render_map_page(tile_url=None, tile_attribution=""))

        async def page_with_tiles(request: Request) -> HTMLResponse:
            tiles = f"http://127.0.0.1:{self.port}/tiles/{{z}}/{{x}}/{{y}}.png"
            return HTMLResponse(render_map_page(tile_url=tiles, tile_attribution="test tiles"))

        async def tile(request: Request) -> Response:
            return Response(_tiny_png(), media_type="image/png")

        async def reports(request: Request) -> JSONResponse:
            self.report_queries.append(dict(request.query_params))
            body = {"position": FIRST_POSITION, "reports": FIRST_PAINT, "truncated": False}
            return JSONResponse(body)

        async def courthouses(request: Request) -> JSONResponse:
            return JSONResponse(
                [
                    {"code": "NYC", "name": "26 Federal Plaza", "city": "New York", "state": "NY"},
                    {"code": "CHI", "name": "Chicago Immigration Court", "state": "IL"},
                ]
            )

        async def live(ws: WebSocket) -> None:
            await ws.accept()
            self.ws_since.append(ws.query_params.get("since"))
            if len(self.ws_since) == 1:
                since = int(ws.query_params["since"])
                await ws.send_json({"type": "resume", "position": since})
                await ws.send_json({"type": "delta", "position": since + 1, "report": DELTA})
                # Replays the client must ignore: positions not after the last applied.
                ghost = _report("F", "sighting", "verified", 45.0, -93.0, hours_ago=1)
                await ws.send_json({"type": "delta", "position": since + 1, "report": ghost})
                await ws.send_json({"type": "delta", "position": since, "report": ghost})
                await ws.send_json({"type": "heartbeat", "position": since + 3})
                while not self.close_first.is_set():
                    await asyncio.sleep(0.02)
                await ws.close()
                return
            # Later connections: pretend `since` is too old and send a snapshot.
            # A is newer here than in the first-paint answer, which the client
            # fetches again after a snapshot; the newer state must win.
            snapshot = [A_DISPUTED, *FIRST_PAINT[1:], DELTA]
            await ws.send_json(
                {"type": "snapshot", "position": SNAPSHOT_POSITION, "reports": snapshot}
            )
            try:
                while True:
                    await ws.receive_text()
            except WebSocketDisconnect:
                pass

        return Starlette(
            routes=[
                Route("/", page),
                Route("/with-tiles", page_with_tiles),
                Route("/tiles/{z}/{x}/{y}.png", tile),
                Route("/api/map/reports", reports),
                Route("/api/courthouses", courthouses),
                WebSocketRoute("/ws/live", live),
                Mount("/static", StaticAssets(), name="static"),
            ]
        )


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    import uvicorn

    server_state = StandIn()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server_state.port = sock.getsockname()[1]
    config = uvicorn.Config(server_state.app(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "stand-in server did not start"
        time.sleep(0.02)
    yield server_state
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _playwright_or_skip() -> None:
    # Chromium itself is checked by the shared `chromium_path` fixture
    # (tests/conftest.py): skipped when missing, a failure under CI=true.
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "the playwright package is missing: under CI=true the browser test must run"
            )
        pytest.skip("the playwright package is not installed; browser test skipped")


def _wait_for(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll a JS expression until it is truthy.

    Playwright's wait_for_function evaluates its predicate with eval(), which the
    page's Content-Security-Policy rightly refuses; page.evaluate goes through
    the DevTools protocol and is not affected.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.05)


CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


def test_live_map_in_chromium(stand_in: StandIn, chromium_path: str) -> None:
    _playwright_or_skip()
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{stand_in.port}"
    requested: list[str] = []
    problems: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
            page = context.new_page()
            page.add_init_script(CSP_WATCH)
            page.on("request", lambda r: requested.append(r.url))
            page.on("websocket", lambda ws: requested.append(ws.url))
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on(
                "console",
                lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
            )

            page.goto(base + "/")
            # First paint (5 reports) plus the pushed delta; the two replays are ignored.
            _wait_for(
                page,
                "window.courtwatchMap && courtwatchMap.markerCount() === 6"
                " && courtwatchMap.status() === 'live'",
            )
            assert page.evaluate("courtwatchMap.position()") == FIRST_POSITION + 1
            assert page.locator('[data-report-id="E"].cw-marker').count() == 1
            assert page.locator('[data-report-id="F"]').count() == 0
            # B is a sighting past its stale_at and never corroborated: faded, not gone.
            assert page.locator('[data-report-id="B"].cw-marker.cw-faded').count() == 1
            # Corroborated by twenty anonymous keys, never verified: it fades too,
            # and is drawn as unverified, never as anything confirmed.
            assert page.locator('[data-report-id="D"].cw-marker.cw-faded').count() == 1
            assert page.locator('[data-report-id="D"].cw-status-unverified').count() == 1
            # Changed since verified: its own marker and its own legend entry.
            assert page.locator('[data-report-id="C"].cw-status-amended_after_verdict').count() == 1
            legend = page.locator("#cw-legend-list li").all_text_contents()
            assert "Changed since verified" in legend and "Verified" in legend
            # "Corroborated" now means a team member confirmed it on scene.
            assert "Corroborated" in legend
            assert page.locator("#cw-status").get_attribute("data-state") == "live"
            _wait_for(page, "document.querySelectorAll('#cw-courthouse option').length > 2")
            query = stand_in.report_queries[0]
            assert query["kinds"] == "courthouse_arrest,sighting,call_in,watch_shift"
            assert len(query["bbox"].split(",")) == 4 and query["courthouse"] == ""
            assert query["since"].endswith("Z")  # default window: last 24 hours
            page.wait_for_timeout(300)  # let the outline basemap finish drawing
            page.screenshot(path=str(SCREENSHOT))

            # Drop the connection: the client must come back with ?since=<last applied>,
            # accept a snapshot, and keep the snapshot's newer state of A.
            stand_in.close_first.set()
            _wait_for(
                page,
                f"courtwatchMap.position() === {SNAPSHOT_POSITION}"
                " && courtwatchMap.status() === 'live'",
            )
            assert stand_in.ws_since[:2] == [str(FIRST_POSITION), str(FIRST_POSITION + 1)]
            _wait_for(page, "courtwatchMap.markerCount() === 6")
            # After a snapshot the client asks for the view again; that older
            # answer (A still verified, position 100) must not win.
            deadline = time.monotonic() + 10
            while len(stand_in.report_queries) < 2:
                assert time.monotonic() < deadline, "no reload after the snapshot"
                time.sleep(0.02)
            page.wait_for_timeout(300)  # its answer has been merged
            feed_a = page.locator('#cw-feed-list button[data-report-id="A"]')
            assert "Disputed" in feed_a.inner_text()

            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(300)
            page.screenshot(path=str(SCREENSHOT_PHONE))
            assert page.evaluate("window.__cspViolations") == []

            # With a tile server configured, tiles come from there and nowhere else.
            page.goto(base + "/with-tiles")
            _wait_for(page, "window.courtwatchMap && courtwatchMap.markerCount() > 0")
            _wait_for(page, "document.querySelectorAll('img.leaflet-tile-loaded').length > 0")
            assert page.evaluate("window.__cspViolations") == []
        finally:
            browser.close()

    assert requested, "no requests recorded"
    others = [u for u in requested if urlsplit(u).hostname != "127.0.0.1"]
    assert others == [], f"requests to other hosts: {others}"
    assert any("/tiles/" in u for u in requested)
    assert problems == []
