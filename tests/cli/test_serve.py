"""As a watcher would: `courtwatch serve` with no configuration, a phone browser, the form."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import free_port, wait_until


@contextlib.contextmanager
def serving(
    tmp_path: Path, *, kill: bool = False, log: Path | None = None, **settings: str
) -> Iterator[str]:
    """The run command's server: embedded PostgreSQL, projections, web, on a fresh data folder."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DATABASE_URL" and not k.startswith("COURTWATCH_")
    }
    env["COURTWATCH_DATA_DIR"] = str(tmp_path / "var")
    env.update(settings)
    port = free_port()
    stderr = log.open("w") if log else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "courtwatch", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr or subprocess.DEVNULL,
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
        url = f"http://127.0.0.1:{port}"
        # The URL is printed as uvicorn starts: wait until it answers.
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        if kill:
            proc.kill()
        else:
            proc.terminate()
        proc.wait(20)
        if stderr:
            stderr.close()


@pytest.fixture
def served_product(tmp_path: Path) -> Iterator[str]:
    with serving(tmp_path) as url:
        yield url


async def test_serve_publishes_summaries_on_its_schedule_like_project(tmp_path: Path) -> None:
    # Only complete periods are published: a report from yesterday noon, New York time.
    new_york = ZoneInfo("America/New_York")
    yesterday = datetime.now(new_york).date() - timedelta(days=1)
    with serving(tmp_path, COURTWATCH_SUMMARY_INTERVAL="0.5") as url:
        async with httpx.AsyncClient(base_url=url) as client:
            observed = datetime.combine(yesterday, clock_time(12), tzinfo=new_york).isoformat()
            stored = await client.post(
                "/api/reports",
                json={"kind": "sighting", "courthouse_code": "NYC", "observed_at": observed},
                headers={"Idempotency-Key": "serve-publishes-0001"},
            )
            assert stored.status_code == 201

            async def published() -> bool:
                answer = await client.get(f"/summaries/day/{yesterday.isoformat()}.json")
                body = answer.json()
                return "revision" in body and body["figures"]["totals"]["sighting"]["n"] == 1

            await wait_until(published, timeout=20, interval=0.2)


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

    async with httpx.AsyncClient(base_url=served_product) as client:

        async def projected() -> bool:
            return bool((await client.get("/api/map/reports")).json()["reports"])

        await wait_until(projected, timeout=10)
        reports = (await client.get("/api/map/reports")).json()["reports"]
        assert [r["courthouse_code"] for r in reports] == ["BOS"]
        history = (await client.get(f"/api/reports/{reports[0]['id']}")).json()["history"]
    assert [h["event"] for h in history] == ["Submitted"]
    await context.close()


def postmaster_running(data_dir: Path) -> bool:
    import psutil

    try:
        pid = int((data_dir / "pg" / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    return psutil.pid_exists(pid)


def handles(data_dir: Path) -> list[int]:
    return list(json.loads((data_dir / "pg" / ".handle_pids.json").read_text()))


def test_the_embedded_postgres_stops_with_serve_even_after_a_killed_serve(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    with serving(tmp_path):
        assert postmaster_running(data_dir)
    assert not postmaster_running(data_dir), "SIGTERM to serve left PostgreSQL running"
    assert handles(data_dir) == []

    # A serve killed outright cannot stop anything: the next one reuses the
    # server, says so, and stops it when it stops itself.
    with serving(tmp_path, kill=True):
        pass
    assert postmaster_running(data_dir)
    log = tmp_path / "serve.log"
    with serving(tmp_path, log=log):
        assert len(handles(data_dir)) == 1
    assert "reusing the embedded PostgreSQL" in log.read_text()
    assert not postmaster_running(data_dir)
    assert handles(data_dir) == []
