"""The live map page: a folium-built Leaflet map that our own script keeps current.

Rapid-response teams keep this page open for hours, so it must never reach a host
other than the app's own (a CDN request fails offline and tells a third party who
is watching). folium would link Leaflet, jQuery, Bootstrap and fonts from CDNs:
here every script and stylesheet is a vendored file under ``/static/vendor``
(written by ``scripts/vendor-assets.sh``), the only tiles are the operator's own
``tile_url``, and a Content-Security-Policy makes the browser refuse anything else.

The behaviour (first paint, websocket deltas, filters, feed) lives in
``web/static/js/live-map.js``; this module only builds the page and hands that
script its configuration as JSON. See docs/map-page.md.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
from typing import Any
from urllib.parse import urlsplit

import folium
from branca.element import Element, Figure

from web.assets import STATIC_DIR
from web.i18n import LANGUAGES, map_labels
from web.static_assets import PREFIX, asset_url

# Vendored files, relative to the static root. Versions are in the paths so a
# browser never mixes a cached old build with a new one.
_LEAFLET = "vendor/leaflet-1.9.4/dist"
_MARKERCLUSTER = "vendor/leaflet.markercluster-1.5.3/dist"
_TOPOJSON = "vendor/topojson-client-3.1.0/dist"
_US_ATLAS = "vendor/us-atlas-3.0.1"
VENDOR_JS = (
    ("leaflet", f"{_LEAFLET}/leaflet.js"),
    ("markercluster", f"{_MARKERCLUSTER}/leaflet.markercluster.js"),
    ("topojson", f"{_TOPOJSON}/topojson-client.min.js"),
)
# MarkerCluster.Default.css is not linked: its green/yellow/orange bubbles would
# read as report kinds; map.css draws neutral clusters instead.
VENDOR_CSS = (
    ("leaflet_css", f"{_LEAFLET}/leaflet.css"),
    ("markercluster_css", f"{_MARKERCLUSTER}/MarkerCluster.css"),
)
APP_JS = "js/live-map.js"
APP_CSS = "css/map.css"
STATES_TOPOJSON = f"{_US_ATLAS}/states-10m.json"
# The county outlines, one file per state, and an index of them
# (scripts/split_counties.py makes them from us-atlas's counties-10m.json).
COUNTIES_TOPOJSON = "map/counties/index.json"

ENDPOINTS = {
    "reports": "/api/map/reports",
    "courthouses": "/api/courthouses",
    "live": "/ws/live",
}

MIN_ZOOM = 2
MAX_ZOOM = 18

KINDS = ("courthouse_arrest", "sighting", "call_in", "watch_shift")
TIME_WINDOWS = ("6h", "24h", "7d", "30d", "all")
DEFAULT_TIME_WINDOW = "24h"

# Every string the page shows, in each language it is offered in. The static
# markup uses some; live-map.js gets all of them for what it draws. Keys ending
# in _fmt contain {placeholders} that the script fills in.
LABELS: dict[str, dict[str, str]] = {lang: map_labels(lang) for lang in LANGUAGES}

_TILE_PLACEHOLDERS = ("{z}", "{x}")


def render_map_page(
    *,
    tile_url: str | None,
    tile_attribution: str,
    static_prefix: str = "/static",
    initial_view: tuple[float, float, int] = (39.5, -98.35, 4),
    lang: str = "en",
    stale_hours: float = 6.0,
) -> str:
    """Return the complete HTML of the live map page.

    ``tile_url`` is a Leaflet URL template (``.../{z}/{x}/{y}.png``) for a tile
    server the operator runs, or None for the offline outline basemap only.
    ``stale_hours`` is how long a sighting stays bright when the server sent no
    ``stale_at`` for it. ``lang`` picks the labels ("en" or "es"; others fall
    back to English).
    """
    lang = _pick_lang(lang)
    labels = LABELS[lang]
    prefix = static_prefix.rstrip("/")
    if tile_url is not None:
        _check_tile_url(tile_url)
        if not tile_attribution.strip():
            raise ValueError("tile_attribution is required with a tile_url (tile licences ask)")
    lat, lon, zoom = initial_view

    fmap = folium.Map(
        location=(lat, lon),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        # With no tile layer Leaflet has no zoom limit, and markercluster needs one.
        minZoom=MIN_ZOOM,
        maxZoom=MAX_ZOOM,
    )
    # Per instance, never on the class: a class-level change would leak into every
    # other folium map in the process (STACK_NOTES, "folium and the browser").
    fmap.default_js = [(name, _static_url(prefix, path)) for name, path in VENDOR_JS]
    fmap.default_css = [(name, _static_url(prefix, path)) for name, path in VENDOR_CSS]
    fmap.default_css.append(("courtwatch_css", _static_url(prefix, APP_CSS)))
    if tile_url is not None:
        folium.TileLayer(tile_url, attr=tile_attribution, name="tiles", control=False).add_to(fmap)

    counties = (STATIC_DIR / COUNTIES_TOPOJSON).is_file()
    config: dict[str, Any] = {
        "mapVar": fmap.get_name(),
        "lang": lang,
        "labels": labels,
        "kinds": list(KINDS),
        "timeWindows": list(TIME_WINDOWS),
        "defaultTimeWindow": DEFAULT_TIME_WINDOW,
        "staleHours": stale_hours,
        "hasTiles": tile_url is not None,
        "endpoints": ENDPOINTS,
        "basemap": {
            "states": _static_url(prefix, STATES_TOPOJSON),
            # Counties only from this zoom, and only the states in view.
            "counties": _static_url(prefix, COUNTIES_TOPOJSON) if counties else None,
            "countiesMinZoom": 7,
        },
    }

    root = fmap.get_root()
    assert isinstance(root, Figure)  # folium.Map always makes one
    root.title = labels["page_title"]
    root.header.add_child(Element(_head_html(prefix, config)), name="courtwatch_head")
    # Added before folium renders the map div, so the controls come first in the
    # document and in keyboard order; map.css places them on screen.
    root.html.add_child(Element(_controls_html(labels, lang)), name="courtwatch_controls")

    page = root.render()
    page = _fix_document(page, lang)
    return _add_csp(page, tile_url)


def _pick_lang(lang: str) -> str:
    base = lang.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LABELS else "en"


def _check_tile_url(tile_url: str) -> None:
    # folium treats a bare name ("OpenStreetMap", "CartoDB Positron") as a
    # provider on someone else's servers: insist on a real template instead.
    has_y = "{y}" in tile_url or "{-y}" in tile_url
    if not all(p in tile_url for p in _TILE_PLACEHOLDERS) or not has_y:
        raise ValueError(f"tile_url must be a template with {{z}}, {{x}} and {{y}}: {tile_url!r}")
    parts = urlsplit(tile_url)
    if parts.scheme not in ("", "http", "https"):
        raise ValueError(f"tile_url must be http(s) or a path on this host: {tile_url!r}")
    _tile_source(tile_url)  # raises for a host the CSP cannot express


def _tile_source(tile_url: str | None) -> str | None:
    """The CSP source expression that allows the tile host, or None if it is our own."""
    if tile_url is None:
        return None
    parts = urlsplit(tile_url)
    host = parts.netloc
    if not host:
        return None  # a path on this host: 'self' covers it
    if "@" in host:
        raise ValueError("tile_url must not carry credentials")
    labels = host.split(".")
    # "{s}.tile.example.org" -> "*.tile.example.org"; CSP wildcards only work
    # for the leftmost label.
    if "{" in labels[0]:
        labels[0] = "*"
    if any("{" in label for label in labels):
        raise ValueError(f"tile_url may use a placeholder only in the first host label: {host}")
    source = ".".join(labels)
    return f"{parts.scheme}://{source}" if parts.scheme else source


@functools.cache
def _digest(relative: str) -> str:
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]


def preload_links(static_prefix: str = PREFIX) -> str:
    """A ``Link`` header naming the page's scripts and styles.

    The page carries a ``<meta>`` Content-Security-Policy, and Chromium's preload
    scanner stops at one: without this header the four scripts are fetched one
    after the other, each a 400 ms round trip on a bad phone connection.
    """
    prefix = static_prefix.rstrip("/")
    scripts = [APP_JS, *(path for _, path in VENDOR_JS)]
    styles = [*(path for _, path in VENDOR_CSS), APP_CSS]
    links = [f"<{_static_url(prefix, path)}>; rel=preload; as=script" for path in scripts]
    links += [f"<{_static_url(prefix, path)}>; rel=preload; as=style" for path in styles]
    return ", ".join(links)


def _static_url(prefix: str, relative: str) -> str:
    # Named by content hash: served immutable (cached for good, nothing to
    # revalidate on a phone's 400 ms round trip) and refetched after a deploy.
    if prefix == PREFIX:
        return asset_url(relative)
    return f"{prefix}/{relative}?v={_digest(relative)}"


def _json_for_script(value: Any) -> str:
    # Inside <script>, "</" would end the element early: escape markup characters.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _head_html(prefix: str, config: dict[str, Any]) -> str:
    script_url = html.escape(_static_url(prefix, APP_JS))
    return f"""
    <meta name="referrer" content="no-referrer" />
    <meta name="color-scheme" content="light" />
    <link rel="icon" href="data:," />
    <script type="application/json" id="courtwatch-config">{_json_for_script(config)}</script>
    <script src="{script_url}" defer></script>
"""


def _controls_html(labels: dict[str, str], lang: str = "en") -> str:
    def t(key: str) -> str:
        return html.escape(labels[key])

    kinds = "\n".join(
        f"""<label class="cw-check"><input type="checkbox" name="kind" value="{kind}" checked />
          <span class="cw-swatch" data-kind="{kind}" aria-hidden="true"></span>
          <span>{t("kind_" + kind)}</span></label>"""
        for kind in KINDS
    )
    windows = "\n".join(
        f'<option value="{w}"{" selected" if w == DEFAULT_TIME_WINDOW else ""}>'
        f"{t('window_' + w)}</option>"
        for w in TIME_WINDOWS
    )
    return f"""
<a class="cw-skip" href="#cw-feed">{t("skip_to_feed")}</a>
<header class="cw-top">
  <h1 class="cw-title"><span class="cw-app">{t("app_name")}</span> {t("page_heading")}</h1>
  <nav class="cw-nav">
    <a href="/?lang={lang}">{t("nav_report")}</a>
    <a href="/summaries?lang={lang}">{t("nav_trends")}</a>
  </nav>
  <p id="cw-status" class="cw-status" data-state="connecting" role="status">
    <span class="cw-status-dot" aria-hidden="true"></span>
    <span id="cw-status-text">{t("conn_connecting")}</span>
  </p>
  <details id="cw-filters" class="cw-filters">
    <summary>{t("filters")}</summary>
    <form id="cw-filter-form" class="cw-filter-form">
      <fieldset class="cw-kinds">
        <legend>{t("kind")}</legend>
        {kinds}
      </fieldset>
      <label class="cw-field" for="cw-window">{t("time_window")}</label>
      <select id="cw-window" name="window">{windows}</select>
      <label class="cw-field" for="cw-courthouse">{t("courthouse")}</label>
      <select id="cw-courthouse" name="courthouse">
        <option value="">{t("all_courthouses")}</option>
      </select>
      <fieldset class="cw-legend">
        <legend>{t("legend")}</legend>
        <ul id="cw-legend-list" class="cw-legend-list"></ul>
      </fieldset>
    </form>
  </details>
  <p id="cw-notice" class="cw-notice" role="status" hidden></p>
</header>
<details id="cw-feed" class="cw-feed" open>
  <summary><h2 id="cw-feed-title">{t("feed_heading")}</h2>
    <span id="cw-feed-badge" class="cw-badge" hidden></span></summary>
  <ol id="cw-feed-list" class="cw-feed-list" aria-labelledby="cw-feed-title"></ol>
  <p id="cw-feed-empty" class="cw-feed-empty">{t("feed_empty")}</p>
</details>
<p id="cw-announcer" class="cw-sr-only" aria-live="polite"></p>
"""


_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>')
_CHARSET_META = re.compile(r'<meta http-equiv="content-type"[^>]*>', re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _fix_document(page: str, lang: str) -> str:
    # folium's viewport forbids pinch-zoom (user-scalable=no), which stops people
    # with low vision from enlarging the controls; Leaflet handles map pinches
    # itself either way.
    page = _VIEWPORT.sub(
        '<meta name="viewport" content="width=device-width, initial-scale=1" />', page, count=1
    )
    # Screen readers pick their voice from the lang attribute.
    return page.replace("<html>", f'<html lang="{lang}">', 1)


def inline_script_hashes(page: str) -> list[str]:
    """CSP sources ('sha256-…') allowing exactly the inline scripts of a page we rendered.

    Only for pages built from our own code at startup: hashing a page that held
    user text would allow whatever script that text smuggled in.
    """
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(page)
    ]


def _add_csp(page: str, tile_url: str | None) -> str:
    """Make the browser itself refuse any host but ours (and the tile server).

    Inline scripts are allowed by their hashes rather than 'unsafe-inline', so a
    report title that ever slipped into the markup could not run as code.
    """
    hashes = " ".join(inline_script_hashes(page))
    tiles = _tile_source(tile_url)
    img = "'self' data:" + (f" {tiles}" if tiles else "")
    policy = "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {hashes}",
            # folium writes inline <style> blocks; Leaflet positions with style attributes.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {img}",
            # ws:/wss: because older Safari does not match websockets with 'self';
            # live-map.js only ever opens one to this page's own host.
            "connect-src 'self' ws: wss:",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-src 'none'",
            "worker-src 'none'",
        ]
    )
    # The policy holds single quotes but never a double quote or markup.
    content = html.escape(policy, quote=False)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{content}" />'
    # Before any script or link (a CSP meta only governs what comes after it),
    # but after the charset declaration, which belongs in the first bytes.
    charset = _CHARSET_META.search(page)
    at = charset.end() if charset else page.index("<head>") + len("<head>")
    return page[:at] + "\n    " + meta + page[at:]
