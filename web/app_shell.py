"""The installable web app: manifest, service worker and "My reports" (issue 12).

App stores pulled ICEBlock, Red Dot and Eyes Up: the web app is the app. After
one visit the home page, the four forms, "My reports" and the courthouse list
open with no signal (web/static/js/service-worker.js), and the reports sent
from a phone are listed on that phone only (/mine reads IndexedDB; the server
never learns which reports a phone sent).
"""

from __future__ import annotations

import hashlib
import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from courtwatch.domain.vocabulary import Kind
from web.assets import STATIC_DIR
from web.i18n import LANGUAGES, alert_labels, negotiate, translator
from web.reports.pages import _context, templates
from web.static_assets import asset_url

SERVICE_WORKER = STATIC_DIR / "js" / "service-worker.js"
# What a phone keeps for offline use, besides the pages: every script and style
# those pages load, and the icons.
OFFLINE_ASSETS = (
    "css/site.css",
    "js/store.js",
    "js/outbox.js",
    "js/zones.js",
    "js/pwa.js",
    "js/mine.js",
    "js/places.js",
    "icons/icon-192.png",
)
ICONS = (
    ("icons/icon-192.png", "192x192", "any"),
    ("icons/icon-512.png", "512x512", "any"),
    ("icons/icon-maskable-512.png", "512x512", "maskable"),
)


def offline_pages(lang: str) -> list[str]:
    pages = ["/", *(f"/new/{kind.value}" for kind in Kind), "/mine"]
    return [f"{page}?lang={lang}" for page in pages] + ["/api/courthouses"]


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in LANGUAGES else "en"


async def service_worker(request: Request) -> Response:
    """The worker's script, with the list of what to keep for the page's language."""
    lang = _lang(request)
    assets = [asset_url(path) for path in OFFLINE_ASSETS]
    script = SERVICE_WORKER.read_text()
    # A new asset hash, a new worker or a new map page makes a new version: the
    # browser installs it and the old cache is dropped (the kept map page names
    # its scripts by hash, and is served before the network answers).
    map_pages = getattr(request.app.state, "map_pages", None) or {}
    map_page = [map_pages[lang] for lang in sorted(map_pages)]
    version = hashlib.sha256(json.dumps([assets, script, map_page]).encode()).hexdigest()[:12]
    config = {
        "version": version,
        "lang": lang,
        "store": asset_url("js/store.js"),
        "keep": offline_pages(lang) + assets,
        "alerts": alert_labels(lang),
    }
    body = f"self.COURTWATCH = {json.dumps(config)};\n{script}"
    return Response(
        body,
        media_type="text/javascript",
        # Checked on every visit, so a fix reaches phones at once.
        headers={"Cache-Control": "no-cache"},
    )


async def manifest(request: Request) -> Response:
    lang = negotiate(request)
    t = translator(lang)
    document = {
        "name": t("app.title"),
        "short_name": t("app.title"),
        "description": t("app.tagline"),
        "lang": lang,
        "start_url": f"/?lang={lang}",
        "scope": "/",
        "display": "standalone",
        "background_color": "#fafafa",
        "theme_color": "#0b5cad",
        "icons": [
            {"src": asset_url(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for path, sizes, purpose in ICONS
        ],
    }
    return JSONResponse(
        document, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"}
    )


async def mine_page(request: Request) -> Response:
    """The page is the same for every phone: the list is filled in by mine.js from IndexedDB."""
    context = _context(request)
    t = context["t"]
    words = ("manage", "view", "sent_at", "waiting", "wipe_confirm", "wiped", "no_courthouse")
    context["mine_text"] = {
        "lang": context["lang"],
        "kinds": {kind.value: t(f"kind.{kind.value}") for kind in Kind},
        **{word: t(f"mine.{word}") for word in words},
    }
    return templates.TemplateResponse(request, "mine.html", context)
