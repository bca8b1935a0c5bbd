"""Helpers shared by the console's tests: a signed-in responder, sockets, reports."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from courtwatch.services import Services
from tests.conftest import ServerThread


def ws_url(server: ServerThread, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


async def submit(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "agents_count": 3,
        "observed_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        **overrides,
    }
    body = {name: value for name, value in body.items() if value is not None}
    answer = await client.post(
        "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def frame(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] != "heartbeat":
            return message  # type: ignore[no-any-return]


async def until_status(
    ws: ClientConnection, report_id: str, status: str, timeout: float = 5.0
) -> tuple[float, list[dict[str, Any]]]:
    """Read public frames until the report shows ``status``: (when, every frame read)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        message = await frame(ws, max(0.05, deadline - time.monotonic()))
        seen.append(message)
        reports = message.get("reports", []) + ([message["report"]] if "report" in message else [])
        if any(r["id"] == report_id and r["status"] == status for r in reports):
            return time.monotonic(), seen


def leaves_of(services: Services, report_id: str) -> int:
    with services.database.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM log_leaves WHERE originator_id = %s", (report_id,)
        ).fetchone()
    return int(row[0]) if row else 0


def count_events(services: Services) -> int:
    with services.database.connect() as conn:
        row = conn.execute("SELECT count(*) FROM courtwatch_events").fetchone()
    return int(row[0]) if row else 0


async def until_seen(ws: ClientConnection, report_id: str) -> dict[str, Any]:
    """Read frames until one carries the report (a snapshot, or the delta that
    brings it when the projection had not caught up at connect)."""
    while True:
        message = await frame(ws)
        reports = message.get("reports", []) + ([message["report"]] if "report" in message else [])
        found = [r for r in reports if r["id"] == report_id]
        if found:
            return found[0]  # type: ignore[no-any-return]
