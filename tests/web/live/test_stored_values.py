"""The live map survives whatever the log already holds.

Intake now refuses a year-1 time or a NUL, but the log is forever: events
stored before (written here straight through the repository, bypassing
intake) must neither stop the live map projection nor fail a read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from websockets.asyncio.client import connect

from courtwatch.services import Services
from tests.conftest import ServerThread, store_bypassing_intake
from tests.web.live.test_routes import frame, sighting, submit, until_seen, ws_url
from web.live import protocol

PLUS_14 = timezone(timedelta(hours=14))
MINUS_14 = timezone(timedelta(hours=-14))


async def test_stored_year_one_and_nul_sightings_do_not_stop_the_map_or_its_reads(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    async with connect(ws_url(live_server), compression=None) as watching:
        assert (await frame(watching))["type"] == "snapshot"
        year_one = str(store_bypassing_intake(services, datetime(1, 1, 1, tzinfo=PLUS_14)))
        store_bypassing_intake(
            services, datetime.now(UTC) - timedelta(minutes=5), taken_to="a\u0000b"
        )
        year_9999 = str(
            store_bypassing_intake(services, datetime(9999, 12, 31, 23, tzinfo=MINUS_14))
        )
        # A report sent after them still reaches a client that was watching...
        created = await submit(client, sighting())
        await until_seen(watching, created["id"])

    # ... the first paint answers, with every report the map holds ...
    response = await client.get("/api/map/reports")
    assert response.status_code == 200, response.text
    shown = {r["id"]: r for r in response.json()["reports"]}
    assert {year_one, year_9999, created["id"]} <= set(shown)
    assert shown[year_one]["observed_at"] == "0001-01-01T00:00:00+00:00"  # nearest representable
    assert shown[year_9999]["stale_at"] == protocol.LATEST.isoformat()

    # ... and a new websocket gets its snapshot, then later reports.
    async with connect(ws_url(live_server), compression=None) as fresh:
        snapshot = await frame(fresh)
        assert snapshot["type"] == "snapshot"
        assert {year_one, year_9999, created["id"]} <= {r["id"] for r in snapshot["reports"]}
        later = await submit(client, sighting())
        await until_seen(fresh, later["id"])


def row(**overrides: Any) -> dict[str, Any]:
    return {
        "report_id": uuid.uuid4(),
        "kind": "sighting",
        "status": "unverified",
        "verdict": None,
        "courthouse_code": "NYC",
        "lat": 40.7,
        "lon": -74.0,
        "observed_at": datetime(2026, 11, 23, 9, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 23, 9, tzinfo=UTC),
        "last_event": "Submitted",
        "details": {"agents_count": 2},
        "corroborations": 0,
        **overrides,
    }


def test_a_map_report_is_drawn_from_any_stored_time() -> None:
    near_the_end = protocol.map_report(
        row(observed_at=datetime(9999, 12, 31, 23, tzinfo=UTC)), {}, 2.0
    )
    assert near_the_end["stale_at"] == protocol.LATEST.isoformat()
    # A feed state holds the time as the text the projection wrote.
    from_feed = protocol.map_report(row(observed_at="9999-12-31T23:59:00-14:00"), {}, 2.0)
    assert from_feed["stale_at"] == protocol.LATEST.isoformat()
    year_one = protocol.map_report(row(observed_at="0001-01-01T00:00:00+14:00"), {}, 2.0)
    assert year_one["observed_at"] == "0001-01-01T00:00:00+14:00"
    assert year_one["stale_at"] == "0001-01-01T02:00:00+14:00"
    unreadable = protocol.map_report(row(observed_at="not a time", details=None), {}, 2.0)
    assert unreadable["observed_at"] == "not a time" and unreadable["stale_at"] is None
    assert unreadable["title"] == "sighting · NYC"


async def test_every_read_of_a_report_answers_whatever_time_it_holds(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    stored = [
        store_bypassing_intake(services, datetime(1, 1, 1, tzinfo=PLUS_14)),
        store_bypassing_intake(services, datetime(9999, 12, 31, 23, tzinfo=MINUS_14)),
        store_bypassing_intake(services, datetime.now(UTC), taken_to="a\u0000b"),
    ]
    for report_id in stored:
        for path in (f"/api/reports/{report_id}", f"/reports/{report_id}"):
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text)
    for path in ("/summaries", "/map", "/api/map/reports"):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text)
