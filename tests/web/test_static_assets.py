"""Issue 12, "Fast on a bad connection": static files compressed and cached for good by hash."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest

from web.assets import STATIC_DIR
from web.static_assets import IMMUTABLE, asset_url

GZIP = {"Accept-Encoding": "gzip"}


async def raw(client: httpx.AsyncClient, url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The answer and its bytes as they crossed the wire (httpx would decompress them)."""
    async with client.stream("GET", url, headers=headers) as answer:
        body = b"".join([chunk async for chunk in answer.aiter_raw()])
    return answer, body


async def test_a_hashed_url_is_immutable_and_gzipped_and_holds_the_files_bytes(
    client: httpx.AsyncClient,
) -> None:
    url = asset_url("vendor/us-atlas-3.0.1/counties-10m.json")
    assert re.fullmatch(r"/static/vendor/us-atlas-3\.0\.1/counties-10m\.[0-9a-f]{12}\.json", url)
    answer, body = await raw(client, url, **GZIP)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == IMMUTABLE
    assert answer.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in answer.headers["vary"].lower()
    on_disk = (STATIC_DIR / "vendor/us-atlas-3.0.1/counties-10m.json").read_bytes()
    assert gzip.decompress(body) == on_disk
    assert len(body) < len(on_disk) / 3  # 842 kB -> ~251 kB


async def test_without_accept_encoding_the_bytes_are_plain(client: httpx.AsyncClient) -> None:
    url = asset_url("js/outbox.js")
    answer, body = await raw(client, url, **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in answer.headers
    assert body == (STATIC_DIR / "js/outbox.js").read_bytes()
    assert answer.headers["content-type"].startswith("text/javascript")
    refused, _ = await raw(client, url, **{"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers


async def test_plain_static_paths_keep_working_and_revalidate(client: httpx.AsyncClient) -> None:
    answer, body = await raw(client, "/static/css/site.css", **GZIP)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-cache"
    assert gzip.decompress(body) == (STATIC_DIR / "css/site.css").read_bytes()
    again, again_body = await raw(
        client, "/static/css/site.css", **GZIP, **{"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304 and again_body == b""
    # The identity and gzip bodies are different bytes: they must not share an ETag.
    plain, _ = await raw(client, "/static/css/site.css", **{"Accept-Encoding": "identity"})
    assert plain.headers["etag"] != answer.headers["etag"]


async def test_a_stale_hash_gets_the_current_file_but_is_never_cached_for_good(
    client: httpx.AsyncClient,
) -> None:
    answer, body = await raw(
        client, "/static/js/outbox.000000000000.js", **{"Accept-Encoding": "identity"}
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-cache"
    assert body == (STATIC_DIR / "js/outbox.js").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/../web/app.py",
        "/static/js/",
        "/static/js/nothing.js",
        "/static/js/outbox.js%00",
        "/static/.hidden",
        "/static/vendor/leaflet-1.9.4/dist/leaflet.ffffffffffff.ffffffffffff.js",
        "/static/" + "a/" * 2000 + "x.js",
    ],
)
async def test_what_is_not_a_static_file_is_404(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404


async def test_only_get_and_head(client: httpx.AsyncClient) -> None:
    assert (await client.post("/static/js/outbox.js")).status_code == 405
    head = await client.head(asset_url("js/outbox.js"), headers=GZIP)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0


@pytest.mark.parametrize("path", ["/", "/new/sighting", "/new/call_in", "/map"])
async def test_pages_name_their_scripts_and_styles_by_hash(
    client: httpx.AsyncClient, path: str
) -> None:
    page = (await client.get(path)).text
    urls = re.findall(r"""(?:src|href)="(/static/[^"]+)""", page)
    assert urls
    for url in urls:
        assert re.search(r"\.[0-9a-f]{12}\.[a-z]+$", url), url
        answer = await client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == IMMUTABLE, url


@pytest.mark.parametrize("header", ["gzip;q=\u00b2", "gzip;q=" + "9" * 5000, "\x01gzip", "gzip;;;"])
async def test_a_hostile_accept_encoding_is_answered(
    client: httpx.AsyncClient, header: str
) -> None:
    value = header.encode("utf-8")  # httpx would refuse to send a non-ASCII str
    answer = await client.get("/static/js/outbox.js", headers={"Accept-Encoding": value})
    assert answer.status_code == 200


def test_the_county_files_are_named_by_their_hash_and_cover_every_county() -> None:
    import json

    source = json.loads((STATIC_DIR / "vendor/us-atlas-3.0.1/counties-10m.json").read_text())
    counties = {g["id"] for g in source["objects"]["counties"]["geometries"] if "arcs" in g}
    index = json.loads((STATIC_DIR / "map/counties/index.json").read_text())
    found: set[str] = set()
    for state, entry in index.items():
        relative = f"map/counties/{state}.json"
        # The URL in the index is the one asset_url gives: cached for good, safely.
        assert entry["url"] == asset_url(relative), state
        part = json.loads((STATIC_DIR / relative).read_text())
        assert part["transform"] == source["transform"]
        found |= {g["id"] for g in part["objects"]["counties"]["geometries"]}
        west, south, east, north = entry["bbox"]
        assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    assert found == counties
    # New York's counties are a few kB, not the country's 842 kB.
    assert (STATIC_DIR / "map/counties/36.json").stat().st_size < 20_000


async def test_a_static_file_carries_the_short_policy_and_a_page_the_full_one(
    client: httpx.AsyncClient,
) -> None:
    """The page policy (~500 bytes) governs documents, not the files they load."""
    from web.app import STATIC_POLICY

    answer = await client.get(asset_url("js/outbox.js"), headers=GZIP)
    assert answer.headers["content-security-policy"] == STATIC_POLICY.decode()
    assert answer.headers["x-content-type-options"] == "nosniff"
    page = (await client.get("/new/sighting")).headers["content-security-policy"]
    assert "'nonce-" in page and "script-src 'self'" in page
    # The worker is a document-like context: it keeps the page policy.
    assert "script-src 'self'" in (await client.get("/sw.js")).headers["content-security-policy"]
