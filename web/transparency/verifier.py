"""The browser verifier: ``/verify``, and ``verify.html`` in every evidence bundle.

One self-contained HTML file (inline script and style, no network: its own
Content-Security-Policy forbids every fetch) that checks a dropped bundle with
the rules of ``courtwatch verify`` (courtwatch/transparency/verify.py), in
JavaScript (verifier/verify.js): WebCrypto's SHA-256 and Ed25519, and the
browser's DecompressionStream for the zip's deflate, so bundles stay
ZIP_DEFLATED and old bundles open too.

The served page is the same file with the site's published key and origin
filled in (the reader checks against the operator's word, as with ``--key``)
and the request's CSP nonce on its script; the bundled one leaves both fields
empty, like ``courtwatch verify`` without ``--key``. Its words come from
web/i18n.py (``verifier.*``), both languages inside the file, so a reader can
switch with ``?lang=es``; problems are worded as the command line words them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from projections.transparency_log import store as audit_log
from web.i18n import LANGUAGES, TEXT, negotiate, translator
from web.templating import templates

_SCRIPT = Path(__file__).parent / "verifier" / "verify.js"


@cache
def _script() -> str:
    script = _SCRIPT.read_text(encoding="utf-8")
    if "</script" in script.lower():
        raise ValueError("verify.js must not contain '</script'")
    return script


def _strings() -> dict[str, dict[str, str]]:
    return {
        lang: {k: pair[i] for k, pair in TEXT.items() if k.startswith("verifier.")}
        for i, lang in enumerate(LANGUAGES)
    }


def verifier_html(lang: str, *, nonce: str = "", key: str = "", origin: str = "") -> bytes:
    """The page's bytes; the same arguments give the same bytes."""
    lang = lang if lang in LANGUAGES else "en"
    page = templates.env.get_template("verifier.html").render(
        lang=lang,
        t=translator(lang),
        strings=_strings(),
        script=_script(),
        nonce=nonce,
        key=key,
        origin=origin,
    )
    return page.encode("utf-8")


async def verify_page(request: Request) -> Response:
    services = request.app.state.services
    try:
        key = await run_in_threadpool(audit_log.public_key, services.database)
    except audit_log.AwaitingCheckpoint:
        key = ""
    page = verifier_html(
        negotiate(request),
        nonce=request.state.csp_nonce,
        key=key,
        origin=services.settings.log_origin,
    )
    return HTMLResponse(page, headers={"cache-control": "no-cache"})
