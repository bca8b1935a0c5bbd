"""Helpers for sealed details: a report with a marker string in every sealed field."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from courtwatch.infrastructure.database import close_pools
from courtwatch.sealing.fields import SEALED_FIELDS
from courtwatch.services import Services


@pytest.fixture(autouse=True)
def no_idle_pooled_connections() -> Iterator[None]:
    """Each test's database gets its own small pool, whose idle connections
    linger for a minute; closed here, so the tests after these do not meet a
    server that is out of connections."""
    yield
    close_pools()


def markers() -> dict[str, str]:
    """A value no page, log or table could hold by chance, per sealed field."""
    tag = uuid.uuid4().hex[:10]
    values = {name: f"SEALMARK-{name}-{tag}" for name in SEALED_FIELDS}
    values["notes"] = f"SEALMARK-notes-{tag}\nsegunda línea: ñandú"
    values["person_name"] = f"SEALMARK-José-{tag}"
    return values


def arrest(observed_hours_ago: float = 1.0) -> dict[str, Any]:
    observed = datetime.now(UTC) - timedelta(hours=observed_hours_ago)
    return {
        "kind": "courthouse_arrest",
        "courthouse_code": "NYC",
        "place": "hallway",
        "observed_at": observed.isoformat(),
    }


async def submit_sealed(
    client: httpx.AsyncClient,
    sealed: dict[str, Any],
    client_key: str | None = None,
    public: dict[str, Any] | None = None,
) -> httpx.Response:
    # Escaped ASCII JSON, so that a lone surrogate travels as the \\ud800 a client would send.
    return await client.post(
        "/api/reports",
        content=json.dumps({**(public or arrest()), "sealed": sealed}),
        headers={
            "Idempotency-Key": client_key or uuid.uuid4().hex,
            "Content-Type": "application/json",
        },
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def count(services: Services, table: str) -> int:
    with services.database.connect() as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # test-only table names
        assert row is not None
        return int(row[0])
