"""``/log``: the log's identity, published where a lawyer can find it.

A bundle's key proves nothing unless it is compared with a key the operator
publishes elsewhere. This page states the log's origin (its name in every
checkpoint), its public key, the key's fingerprint, and the newest signed
checkpoint, with how to check a bundle against them in plain words.

The fingerprint is ``VerifierKey.fingerprint()``, the very function whose output
``courtwatch verify`` prints after "Fingerprint:", so the two strings are equal
character for character (tests/web/transparency/test_log_page.py).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from courtwatch.transparency.checkpoint import parse_vkey
from projections.transparency_log import store as audit_log
from web.i18n import LANGUAGES, negotiate, translator
from web.templating import templates
from web.transparency.routes import KEY_PATH


def identity(database: Any, origin: str) -> dict[str, Any]:
    """What the page shows; the key and checkpoint are None before the first signature."""
    try:
        vkey: str | None = audit_log.public_key(database)
    except audit_log.AwaitingCheckpoint:
        vkey = None
    latest = audit_log.latest_checkpoint(database)
    return {
        "origin": origin,
        "vkey": vkey,
        "fingerprint": parse_vkey(vkey).fingerprint() if vkey else None,
        "latest": latest,
        "key_url": KEY_PATH,
    }


async def log_page(request: Request) -> Response:
    services = request.app.state.services
    lang = negotiate(request)  # only "en" or "es", whatever ?lang says
    context = await run_in_threadpool(identity, services.database, services.settings.log_origin)
    context.update(
        lang=lang,
        other_lang=LANGUAGES[1 - LANGUAGES.index(lang)],
        t=translator(lang),
        public_url=services.settings.public_url,
    )
    return templates.TemplateResponse(
        request, "log.html", context, headers={"cache-control": "public, max-age=60"}
    )
