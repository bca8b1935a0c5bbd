"""/verify: the served verifier checks a real bundle against the site's published key."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.concurrency import run_in_threadpool

from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.web.transparency.evidence_helpers import arrest_with_history
from tests.web.transparency.test_routes import logged_up_to_now, sign


async def test_the_served_verifier_verifies_a_real_bundle_with_the_published_key(
    services: Services,
    client: httpx.AsyncClient,
    live_server: ServerThread,
    browser: Any,
    tmp_path: Path,
) -> None:
    report_id = await run_in_threadpool(arrest_with_history, services)
    await logged_up_to_now(services)
    await sign(services)
    bundle = (await client.get(f"/reports/{report_id}/evidence.zip")).content
    names = zipfile.ZipFile(io.BytesIO(bundle)).namelist()
    assert {"record.html", "verify.html", "README.txt"} <= set(names)
    path = tmp_path / "evidence.zip"
    path.write_bytes(bundle)
    vkey = (await client.get("/.well-known/courtwatch-log-key")).text.strip()

    page = await browser.new_page()
    try:
        # The page's script runs under the site's CSP (nonce) and its own (no fetch).
        await page.goto(f"{live_server.url}/verify?lang=es")
        assert await page.inner_text("h1") == "Verificar un paquete de evidencia"
        assert await page.input_value("#expected-key") == vkey
        assert await page.input_value("#expected-origin") == services.settings.log_origin
        await page.set_input_files("#files", str(path))
        verdict = await page.wait_for_selector("#verdict[data-verdict]", timeout=30_000)
        assert verdict is not None and await verdict.get_attribute("data-verdict") == "verified"
        assert await verdict.inner_text() == "✓ Verificado"
        assert f"report {report_id} versions 1-3" in await page.inner_text("#report")
    finally:
        await page.close()


@pytest.mark.parametrize("lang", ["xx", "%00", "<script>alert(1)</script>", "e" * 5000])
async def test_a_hostile_lang_gets_the_english_page(client: httpx.AsyncClient, lang: str) -> None:
    answer = await client.get("/verify", params={"lang": lang})
    assert answer.status_code == 200 and '<html lang="en">' in answer.text
    assert "alert(1)" not in answer.text
