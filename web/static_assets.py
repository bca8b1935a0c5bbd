"""Static files for a phone on a bad connection: compressed, and cached for good when named by hash.

A watcher's phone may have 400 kbps and a 400 ms round trip. Two things make the
pages usable there:

- Every text asset (scripts, styles, the map outlines) goes out gzip-compressed
  (the county outlines shrink from 842 kB to 251 kB). The compressed bytes are
  made once per file version and kept in memory, not per request.
- ``asset_url("js/outbox.js")`` names a file by its content
  (``/static/js/outbox.<hash>.js``). That URL can never hold other bytes, so it is
  served ``Cache-Control: public, max-age=31536000, immutable``: a second visit
  asks the network for none of it. Plain ``/static/js/outbox.js`` keeps working
  (``no-cache``: the browser revalidates with the ETag and gets a 304).

Pages are not compressed here: a page can carry an author token, and compressing
secrets next to attacker-chosen text leaks them (BREACH).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette._utils import get_route_path
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from web.assets import STATIC_DIR

PREFIX = "/static"
HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_HASHED = re.compile(
    rf"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)$"
)
_COMPRESSIBLE = {
    "application/javascript",
    "text/javascript",
    "text/css",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
    "text/plain",
    "text/markdown",
}
_REFUSED = re.compile(r"q=0(\.0{0,3})?")
# Below this, the gzip header costs more than it saves.
_MIN_COMPRESS = 512
_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".md": "text/markdown",
}


@dataclass(frozen=True)
class Asset:
    """One version of one file: its bytes, gzip bytes (if worth it) and content hash."""

    relative: str
    mtime_ns: int
    size: int
    digest: str
    body: bytes
    gzipped: bytes | None
    media_type: str

    @property
    def url(self) -> str:
        stem, dot, suffix = self.relative.rpartition(".")
        if not dot or "/" in suffix:
            return f"{PREFIX}/{self.relative}"
        return f"{PREFIX}/{stem}.{self.digest}.{suffix}"


_lock = threading.Lock()
_cache: dict[str, Asset] = {}


def _resolve(relative: str) -> Path | None:
    """The file under the static folder, or None (outside it, hidden, missing)."""
    if not relative or "\x00" in relative or "\\" in relative:
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    path = STATIC_DIR.joinpath(*parts)
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_file() or not resolved.is_relative_to(STATIC_DIR.resolve()):
        return None
    return resolved


def _media_type(relative: str) -> str:
    suffix = Path(relative).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(relative)
    return guessed or "application/octet-stream"


def load(relative: str) -> Asset | None:
    """The current version of ``relative`` (cached until the file changes on disk)."""
    path = _resolve(relative)
    if path is None:
        return None
    stat = path.stat()
    cached = _cache.get(relative)
    if cached and cached.mtime_ns == stat.st_mtime_ns and cached.size == stat.st_size:
        return cached
    with _lock:
        body = path.read_bytes()
        media_type = _media_type(relative)
        gzipped = None
        if media_type in _COMPRESSIBLE and len(body) >= _MIN_COMPRESS:
            # mtime=0: the same file always compresses to the same bytes (stable ETag).
            gzipped = gzip.compress(body, compresslevel=9, mtime=0)
            if len(gzipped) >= len(body):
                gzipped = None
        asset = Asset(
            relative=relative,
            mtime_ns=stat.st_mtime_ns,
            size=stat.st_size,
            digest=hashlib.sha256(body).hexdigest()[:HASH_LENGTH],
            body=body,
            gzipped=gzipped,
            media_type=media_type,
        )
        _cache[relative] = asset
        return asset


def asset_url(relative: str) -> str:
    """The content-hashed URL of a static file (``js/x.js``); the plain one if it is missing."""
    asset = load(relative.lstrip("/"))
    return asset.url if asset else f"{PREFIX}/{relative.lstrip('/')}"


def _accepts_gzip(headers: Headers) -> bool:
    for part in headers.get("accept-encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            # "gzip;q=0" refuses it; any other q (even a malformed one) accepts.
            return not _REFUSED.fullmatch(params.strip().lower())
    return False


def _find(relative: str) -> tuple[Asset | None, bool]:
    """The asset a path names and whether the path named it by its current hash."""
    plain = load(relative)
    if plain is not None:
        return plain, False
    match = _HASHED.match(relative)
    if match is None:
        return None, False
    asset = load(match["stem"] + match["suffix"])
    if asset is None:
        return None, False
    return asset, asset.digest == match["hash"]


class StaticAssets:
    """The ASGI app mounted at ``/static``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            response: Response = PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"}
            )
            await response(scope, receive, send)
            return
        relative = get_route_path(scope).lstrip("/")
        asset, by_hash = _find(relative)
        if asset is None:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        headers = Headers(scope=scope)
        compressed = asset.gzipped is not None and _accepts_gzip(headers)
        etag = f'"{asset.digest}{"-gz" if compressed else ""}"'
        answer_headers = {
            # A hash that is not the current one (a page from before a deploy)
            # still gets the file, but only to revalidate: that URL must not be
            # remembered as holding these bytes.
            "Cache-Control": IMMUTABLE if by_hash else REVALIDATE,
            "ETag": etag,
            "Vary": "Accept-Encoding",
        }
        if compressed:
            answer_headers["Content-Encoding"] = "gzip"
        if etag in [tag.strip() for tag in headers.get("if-none-match", "").split(",")]:
            await Response(status_code=304, headers=answer_headers)(scope, receive, send)
            return
        body = asset.gzipped if compressed and asset.gzipped is not None else asset.body
        response = Response(
            b"" if method == "HEAD" else body,
            media_type=asset.media_type,
            headers=answer_headers,
        )
        if method == "HEAD":
            response.headers["content-length"] = str(len(body))
        await response(scope, receive, send)
