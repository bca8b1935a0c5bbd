"""As a watcher would: `courtwatch serve` with no configuration, a phone browser, the form."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, wait_until


@pytest.fixture
def served_product(tmp_path: Path) -> Iterator[str]:
    """The run command's server: embedded PostgreSQL, projections, web, on a fresh data folder."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DATABASE_URL" and not k.startswith("COURTWATCH_")
    }
    env["COURTWATCH_DATA_DIR"] = str(tmp_path / "var")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "courtwatch", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and "Open http" not in line:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise AssertionError("courtwatch serve exited")
        assert f"Open http://localhost:{port}/" in line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


async def test_a_watcher_reports_an_arrest_from_a_phone_and_gets_a_permalink(
    served_product: str, browser: Any, tmp_path: Path
) -> None:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="es-US"
    )
    page = await context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))

    await page.goto(served_product + "/")
    await page.get_by_role(
        "link", name="Arresto en un tribunal"
    ).click()  # Spanish, from Accept-Language
    await page.get_by_label("Tribunal", exact=True).select_option("NYC")
    await page.get_by_label("Cuántos agentes").fill("3")
    await page.get_by_label("Agencia").select_option("ice_ero")
    await page.get_by_label("La persona arrestada estaba en el tribunal como").select_option(
        "survivor"
    )
    await page.get_by_role("button", name="Enviar reporte").click()

    permalink = page.locator("#permalink")
    await permalink.wait_for(timeout=10_000)
    assert len(await page.locator("#author-token").inner_text()) >= 40
    await permalink.click()
    await page.wait_for_url("**/reports/*")
    article = page.locator("article.report")
    assert "Sin verificar" in await article.inner_text()
    assert "Enviado" in await page.locator("table.history").inner_text()
    await page.screenshot(path=str(tmp_path / "report-page.png"), full_page=True)
    assert hosts == {served_product.split("/")[2]}
    await context.close()


async def test_the_form_reports_bad_input_without_losing_what_was_typed(
    served_product: str, browser: Any
) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(served_product + "/new/sighting?lang=en")
    await page.get_by_label("Latitude").fill("123")
    await page.get_by_label("Longitude").fill("-74")
    response_status = []
    page.on("response", lambda r: response_status.append(r.status) if "/new/" in r.url else None)
    await page.get_by_role("button", name="Send report").click()
    await page.locator(".error-summary").wait_for()
    assert 422 in response_status
    assert await page.get_by_label("Latitude").input_value() == "123"
    assert await page.locator("#lat-error").is_visible()


async def test_a_report_sent_with_no_signal_is_kept_and_sent_when_signal_returns(
    served_product: str, browser: Any
) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = await context.new_page()
    await page.goto(served_product + "/new/sighting?lang=en")
    await page.get_by_label("Courthouse", exact=True).select_option("BOS")
    await context.set_offline(True)  # the hallway has no signal
    await page.get_by_role("button", name="Send report").click()
    await page.locator("#outbox-notice").wait_for()
    assert "Saved on this phone: 1 report" in await page.locator("#outbox-notice").inner_text()
    assert await page.evaluate("window.courtwatchOutbox.pending()") == 1
    # Twice more by an impatient thumb: still one report.
    await page.get_by_role("button", name="Send report").click()
    assert await page.evaluate("window.courtwatchOutbox.pending()") == 1

    await context.set_offline(False)
    await page.evaluate("window.courtwatchOutbox.flush()")
    assert await page.evaluate("window.courtwatchOutbox.pending()") == 0
    await page.evaluate("window.courtwatchOutbox.flush()")  # a resend stores nothing twice

    import httpx

    async with httpx.AsyncClient(base_url=served_product) as client:

        async def projected() -> bool:
            return bool((await client.get("/api/map/reports")).json()["reports"])

        await wait_until(projected, timeout=10)
        reports = (await client.get("/api/map/reports")).json()["reports"]
        assert [r["courthouse_code"] for r in reports] == ["BOS"]
        history = (await client.get(f"/api/reports/{reports[0]['id']}")).json()["history"]
    assert [h["event"] for h in history] == ["Submitted"]
    await context.close()
