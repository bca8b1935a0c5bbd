"""An imported report's evidence bundle verifies, its Imported event inside."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from starlette.concurrency import run_in_threadpool

from courtwatch.importing.importer import Importer
from courtwatch.importing.mapping import parse_mapping
from courtwatch.services import Services
from courtwatch.transparency.verify import verify_bundle
from tests.web.transparency.test_routes import logged_up_to_now, sign

MAPPING = """
[kind]
value = "sighting"
[fields.courthouse_code]
column = "court"
[fields.observed_at]
column = "when"
format = "%Y-%m-%d %H:%M"
"""


async def test_an_imported_reports_bundle_verifies_and_names_the_source_file(
    services: Services, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    csv_file = tmp_path / "old.csv"
    csv_file.write_text("court,when\r\nNYC,2017-03-14 09:30\r\n")
    importer = Importer(services.app, services.database, parse_mapping(MAPPING), ZoneInfo("UTC"))
    result = await run_in_threadpool(importer.run, csv_file, tmp_path / "rejected.csv")
    assert result.added == 1
    await logged_up_to_now(services)
    await sign(services)
    with services.database.connect() as conn:
        row = conn.execute(
            "SELECT originator_id FROM courtwatch_events WHERE topic LIKE '%:Report.Imported'"
        ).fetchone()
    assert row is not None
    bundle = (await client.get(f"/reports/{row[0]}/evidence.zip")).content
    assert verify_bundle(bundle).ok
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        everything = b"".join(zf.read(name) for name in zf.namelist())
        record = zf.read("record.html").decode()
    assert result.source_sha256.encode() in everything
    assert "Imported from a program" in record
    public = (await client.get(f"/api/reports/{row[0]}")).json()
    assert public["observed_at"] == "2017-03-14T09:30:00-04:00"  # New York's clock, in DST
    assert json.dumps(public).count(result.source_sha256) == 1
