"""/log: the log's identity, published in words, equal to what `courtwatch verify` prints."""

from __future__ import annotations

import html
import io
import zipfile
from pathlib import Path

import httpx
import pytest
from starlette.concurrency import run_in_threadpool

from courtwatch.services import Services
from courtwatch.transparency.verify import main
from tests.projections.transparency_log.conftest import submit_reports
from tests.web.transparency.test_routes import logged_up_to_now, sign


def printed_fingerprint(bundle: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([str(bundle)]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("Fingerprint: ")]
    return line.removeprefix("Fingerprint: ")


async def test_the_log_page_publishes_the_fingerprint_verify_prints(
    services: Services,
    client: httpx.AsyncClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = await client.get("/log")
    assert before.status_code == 200 and 'id="log-fingerprint"' not in before.text

    [report_id] = await run_in_threadpool(submit_reports, services, 1)
    await logged_up_to_now(services)
    checkpoint = await sign(services)
    bundle = tmp_path / "evidence.zip"
    bundle.write_bytes((await client.get(f"/reports/{report_id}/evidence.zip")).content)
    fingerprint = printed_fingerprint(bundle, capsys)
    vkey = (await client.get("/.well-known/courtwatch-log-key")).text.strip()

    for lang, heading in (("en", "The transparency log"), ("es", "El registro de transparencia")):
        page = (await client.get(f"/log?lang={lang}")).text
        assert heading in page
        assert f'<code id="log-fingerprint" class="wrap">{fingerprint}</code>' in page
        assert f'<code id="log-key" class="wrap">{html.escape(vkey)}</code>' in page
        assert f'<code id="log-origin">{services.settings.log_origin}</code>' in page
        assert f'<span id="log-size">{checkpoint["tree_size"]}</span>' in page
        assert checkpoint["root_hash"] in page

    # The same key and fingerprint are in the bundle's README, for whoever has only the zip.
    readme = zipfile.ZipFile(io.BytesIO(bundle.read_bytes())).read("README.txt").decode()
    assert f"Key fingerprint:  {fingerprint}\n" in readme
    assert f"Public key:       {vkey}\n" in readme
    assert readme.index("What this is") < readme.index("How to verify by hand")

    # The report page's citation block leads to it.
    page = (await client.get(f"/reports/{report_id}?lang=es")).text
    assert 'href="/log?lang=es" id="citation-log"' in page
    assert f'href="/reports/{report_id}/evidence.zip?lang=es" download' in page


@pytest.mark.parametrize(
    "lang", ["xx", "%00", "es%0d%0aSet-Cookie:x=1", "<script>", "e" * 5000, "%ED%A0%80"]
)
async def test_a_hostile_lang_falls_back_to_a_language_the_page_has(
    client: httpx.AsyncClient, lang: str
) -> None:
    answer = await client.get(f"/log?lang={lang}")
    assert answer.status_code == 200
    assert "<script>" not in answer.text.split("</header>", 1)[1]
    assert "set-cookie" not in answer.headers
    assert 'lang="en"' in answer.text
