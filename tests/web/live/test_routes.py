"""The live map's websocket protocol, with a real websockets client."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import ServerThread


def sighting(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "agents_count": 2,
        "observed_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        **overrides,
    }


async def submit(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def ws_url(server: ServerThread, since: int | None = None) -> str:
    query = f"?since={since}" if since is not None else ""
    return server.url.replace("http://", "ws://") + "/ws/live" + query


async def frame(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] != "heartbeat":
            return message  # type: ignore[no-any-return]


async def until_seen(ws: ClientConnection, report_id: str) -> int:
    """Read frames until the report is on the client's map; return the position."""
    while True:
        message = await frame(ws)
        reports = message.get("reports", []) + ([message["report"]] if "report" in message else [])
        if report_id in [r["id"] for r in reports]:
            return int(message["position"])


async def test_a_viewer_receives_a_delta_for_a_new_report(
    live_server: ServerThread, client: httpx.AsyncClient
) -> None:
    async with connect(ws_url(live_server), compression=None) as ws:
        snapshot = await frame(ws)
        assert snapshot["type"] == "snapshot"
        started = asyncio.get_running_loop().time()
        created = await submit(client, sighting())
        delta = await frame(ws)
        elapsed = asyncio.get_running_loop().time() - started
    assert delta["type"] == "delta"
    assert delta["report"]["id"] == created["id"]
    assert delta["report"]["kind"] == "sighting" and delta["report"]["status"] == "unverified"
    assert delta["position"] == created["position"] > snapshot["position"]
    assert delta["report"]["stale_at"] is not None
    assert elapsed < 1.0  # "within a second": measured properly in bench/live.py


async def test_a_reconnecting_viewer_gets_exactly_what_it_missed(
    live_server: ServerThread, client: httpx.AsyncClient
) -> None:
    async with connect(ws_url(live_server), compression=None) as ws:
        assert (await frame(ws))["type"] == "snapshot"
        first = await submit(client, sighting())
        seen = await frame(ws)
        assert seen["report"]["id"] == first["id"]
        last_position = seen["position"]

    missed = [await submit(client, sighting(agents_count=i % 7)) for i in range(100)]

    async with connect(ws_url(live_server, since=last_position), compression=None) as ws:
        assert (await frame(ws)) == {"type": "resume", "position": last_position}
        deltas = [await frame(ws) for _ in range(100)]
        later = await submit(client, sighting())
        after = await frame(ws)
        try:
            extra = await frame(ws, timeout=0.5)
        except TimeoutError:
            extra = None

    assert [d["report"]["id"] for d in deltas] == [m["id"] for m in missed]
    positions = [d["position"] for d in deltas]
    assert positions == sorted(set(positions))  # in order, no duplicates
    assert after["report"]["id"] == later["id"]
    assert extra is None


async def test_lifecycle_changes_are_pushed_with_the_new_status(
    live_server: ServerThread, client: httpx.AsyncClient
) -> None:
    created = await submit(client, sighting())
    async with connect(ws_url(live_server), compression=None) as ws:
        await until_seen(ws, created["id"])
        await client.post(
            f"/api/reports/{created['id']}/corroborate", json={"client_key": uuid.uuid4().hex}
        )
        delta = await frame(ws)
    # Counted and shown, but anonymous corroboration is not a status (issue 9).
    assert delta["report"]["status"] == "unverified"
    assert delta["report"]["corroborations"] == 1
    assert delta["report"]["last_event"] == "Corroborated"


async def test_first_paint_is_bounded_by_the_viewport(
    live_server: ServerThread, client: httpx.AsyncClient
) -> None:
    new_york = await submit(client, sighting(courthouse_code="NYC"))
    boston = await submit(client, sighting(courthouse_code="BOS"))
    async with connect(
        ws_url(live_server), compression=None
    ) as ws:  # wait for both to be projected
        await until_seen(ws, boston["id"])
    around_nyc = (
        await client.get("/api/map/reports", params={"bbox": "-74.5,40.4,-73.5,41.0"})
    ).json()
    ids = [r["id"] for r in around_nyc["reports"]]
    assert new_york["id"] in ids and boston["id"] not in ids
    assert around_nyc["position"] >= boston["position"]
    bad = await client.get("/api/map/reports", params={"bbox": "nonsense"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "bbox"


async def test_a_client_that_never_reads_does_not_stall_the_others(
    live_server: ServerThread, client: httpx.AsyncClient, web_app: Any
) -> None:
    from web.live import hub

    hub.QUEUE_SIZE, saved = 5, hub.QUEUE_SIZE
    try:
        async with (
            connect(
                ws_url(live_server), compression=None, max_queue=1, close_timeout=0.5
            ) as stalled,
            connect(ws_url(live_server), compression=None) as healthy,
        ):
            await frame(stalled)
            await frame(healthy)
            # The healthy viewer reads as a live map does, as frames come; the
            # stalled one never reads and overflows its 5-frame queue. (Reading
            # only after all 30 let a loaded machine overflow the healthy one too.)
            created: list[dict[str, Any]] = []
            received: list[dict[str, Any]] = []
            for _ in range(30):
                created.append(await submit(client, sighting()))
                received.append(await frame(healthy))
            assert [d["report"]["id"] for d in received] == [c["id"] for c in created]
            assert stalled.state.name in ("OPEN", "CLOSING", "CLOSED")
    finally:
        hub.QUEUE_SIZE = saved


@pytest.fixture
def quick_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    from web.live import hub

    monkeypatch.setattr(hub, "HEARTBEAT_SECONDS", 0.2)


async def test_an_idle_connection_gets_heartbeats(
    quick_heartbeats: None, live_server: ServerThread
) -> None:
    async with connect(ws_url(live_server), compression=None) as ws:
        snapshot = json.loads(await ws.recv())
        beats = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(2)]
    assert beats == [{"type": "heartbeat", "position": snapshot["position"]}] * 2
