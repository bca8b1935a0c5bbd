"""record.html: a bundle's records in words a court reads, the same bytes every time."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import httpx
from starlette.concurrency import run_in_threadpool

from courtwatch.services import Services
from courtwatch.transparency.verify import verify_bundle
from tests.projections.transparency_log.conftest import project
from tests.sealed.test_redaction_and_disclosure import cli
from tests.web.transparency.evidence_helpers import arrest_with_history
from tests.web.transparency.test_routes import logged_up_to_now, sign


def assert_pdf_opens(pdf: bytes, *texts: str) -> None:
    """A PDF reader's first steps: the header, the trailer, every object where the
    cross-reference table says; then the text, as the page draws it (WinAnsi)."""
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref:].startswith(b"xref\n0 ")
    rows = pdf[xref:].split(b"\n")[3:]
    offsets = [int(r[:10]) for r in rows if r.endswith(b" n ")]
    for number, at in enumerate(offsets, start=1):
        assert pdf[at:].startswith(b"%d 0 obj\n" % number)
    drawn = b"".join(re.findall(rb"\((.*?)\) Tj", pdf)).decode("cp1252")
    for text in texts:
        assert text.replace(" ", "") in drawn.replace(" ", ""), text
    assert b"CreationDate" not in pdf and b"/ID" not in pdf


def files(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


async def test_the_bundle_carries_a_readable_record_in_the_readers_language(
    services: Services, client: httpx.AsyncClient
) -> None:
    report_id = await run_in_threadpool(arrest_with_history, services)
    await logged_up_to_now(services)
    checkpoint = await sign(services)
    url = f"/reports/{report_id}/evidence.zip"

    english = (await client.get(url)).content
    # Same evidence, same bytes: the bundle's own SHA-256 can be cited.
    assert (await client.get(url)).content == english
    assert (await client.get(url, headers={"accept-language": "es"})).content == english
    assert verify_bundle(english).ok

    record = files(english)["record.html"].decode()
    assert "Arrest at a courthouse" in record
    assert "New York Immigration Court" in record and "New York, NY" in record
    assert "2026-11-20 09:05 EST" in record  # the courthouse's clock, with its zone
    assert "America/New_York" in record
    # Before → after, in words, and who gave the verdict.
    assert "<del>Not known</del> → <ins>ICE ERO</ins>" in record
    assert "Ana (rapid response)" in record and "Verified" in record
    # No internal names a reader cannot read (machine-readable attributes aside).
    text = re.sub(r"<[^>]*>", "", record)
    for internal in ("ice_ero", "courthouse_arrest", "courtwatch.domain", "+00:00"):
        assert internal not in text, internal
    assert (
        f"courtwatch log {services.settings.log_origin}, report {report_id} v3, "
        f"leaf {checkpoint['tree_size'] - 1}, checkpoint {checkpoint['tree_size']}"
    ) in record
    assert "verify.html" in record
    pdf = files(english)["record.pdf"]
    assert_pdf_opens(pdf, "New York Immigration Court", "Arrest at a courthouse", "-> ICE ERO")
    # Self-contained: no script, no link, nothing fetched.
    for fetch in ("<script", "<link", "src=", 'http-equiv="refresh"', "url("):
        assert fetch not in record, fetch

    spanish = (await client.get(url + "?lang=es")).content
    assert spanish != english and verify_bundle(spanish).ok
    registro = files(spanish)["record.html"].decode()
    assert "Arresto en un tribunal" in registro and "Corregido por su autor" in registro
    assert "2026-11-20 09:05 EST" in registro
    assert_pdf_opens(files(spanish)["record.pdf"], "Arresto en un tribunal", "New York")
    # A hostile ?lang is English, not an error.
    hostile = await client.get(url + "?lang=%00%3Cscript%3E")
    assert hostile.status_code == 200 and hostile.content == english


def test_courtwatch_export_writes_the_record_in_the_language_asked(
    services: Services, tmp_path: Path
) -> None:
    report_id = arrest_with_history(services)
    project(services.database)
    out = tmp_path / "bundle.zip"
    done = cli(
        "export",
        "--report",
        str(report_id),
        "--out",
        str(out),
        "--lang",
        "es",
        database=services.database,
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    bundle = files(out.read_bytes())
    assert "Arresto en un tribunal" in bundle["record.html"].decode()
    assert b"verifier-strings" in bundle["verify.html"]
    assert verify_bundle(out.read_bytes()).ok
