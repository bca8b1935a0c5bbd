"""What the public sees of a report: its status, its pin, and who is watching.

Issue 9: a verified report rewritten by its author stayed "verified" at its
old pin; anonymous corroboration made a report "corroborated" (and kept it
bright forever); a running watch shift showed on the public map with its start
time. Each test here drives the real server, websocket and database.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool
from websockets.asyncio.client import ClientConnection, connect

from courtwatch.domain.reports import MOST_CORROBORATIONS
from courtwatch.services import Services
from projections import runner
from tests.conftest import ServerThread, wait_until
from tests.members.tokens import member_token
from tests.web.live.test_routes import frame, submit, ws_url


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def key() -> str:
    return uuid.uuid4().hex


async def delta_at(ws: ClientConnection, position: int) -> list[dict[str, Any]]:
    """Every delta up to and including ``position`` (the one asked for must come)."""
    seen = []
    while True:
        # Generous: on a loaded machine the projection may fold a burst of
        # events more slowly than frame()'s default wait.
        message = await frame(ws, timeout=30)
        assert message["type"] == "delta", message
        seen.append(message)
        if message["position"] >= position:
            assert message["position"] == position, "the awaited change never came"
            return seen


async def projected_up_to(services: Services, position: int) -> None:
    async def reached() -> bool:
        at = await run_in_threadpool(runner.position_of, services.database, runner.LIVE_MAP_SPEC)
        return at >= position

    await wait_until(reached, timeout=30)


def count_events(services: Services) -> int:
    with services.database.connect() as conn:
        row = conn.execute("SELECT count(*) FROM courtwatch_events").fetchone()
        assert row is not None
        return int(row[0])


async def first_paint(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    body = (await client.get("/api/map/reports")).json()
    return {r["id"]: r for r in body["reports"]}


# ---- a verdict stands only for what was verified ---------------------------


async def test_a_verified_sighting_rewritten_to_another_courthouse_needs_a_new_verdict(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    verifier = {"Authorization": f"Bearer {member_token(services, 'maria', 'responder')}"}
    boston = services.app.courthouse("BOS")
    assert boston is not None
    created = await submit(
        client,
        {"kind": "sighting", "courthouse_code": "NYC", "agents_count": 2, "observed_at": ago(20)},
    )
    rid, token = created["id"], created["author_token"]
    async with connect(ws_url(live_server), compression=None) as ws:
        assert (await frame(ws))["type"] == "snapshot"
        verified = await client.post(f"/api/reports/{rid}/verify", headers=verifier)
        assert verified.status_code == 200 and verified.json()["status"] == "verified"
        amended = await client.post(
            f"/api/reports/{rid}/amend",
            json={"token": token, "changes": {"courthouse_code": "BOS", "agents_count": 60}},
        )
        assert amended.status_code == 200, amended.text
        deltas = await delta_at(ws, amended.json()["position"])
    on_the_map = deltas[-1]["report"]
    assert on_the_map["status"] == "amended_after_verdict"
    assert on_the_map["courthouse_code"] == "BOS"
    assert (on_the_map["lat"], on_the_map["lon"]) == (boston.lat, boston.lon)
    assert (await first_paint(client))[rid]["status"] == "amended_after_verdict"
    assert (await first_paint(client))[rid]["lat"] == boston.lat

    report = (await client.get(f"/api/reports/{rid}")).json()
    assert report["status"] == "amended_after_verdict"
    assert (report["lat"], report["lon"]) == (boston.lat, boston.lon)
    # The event itself carries the new position: any read model, and a
    # bundle's reader, moves the pin from the log alone.
    assert report["history"][-1]["data"]["changes"]["lat"] == boston.lat
    english = (await client.get(f"/reports/{rid}", params={"lang": "en"})).text
    spanish = (await client.get(f"/reports/{rid}", params={"lang": "es"})).text
    assert "Changed since verified" in english and "no longer applies" in english
    assert "Modificado tras verificarse" in spanish and "ya no vale" in spanish

    again = await client.post(f"/api/reports/{rid}/verify", headers=verifier)
    assert again.json()["status"] == "verified"


async def test_an_amendment_to_an_unknown_courthouse_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    created = await submit(
        client, {"kind": "sighting", "courthouse_code": "NYC", "observed_at": ago(20)}
    )
    before = count_events(services)
    refused = await client.post(
        f"/api/reports/{created['id']}/amend",
        json={"token": created["author_token"], "changes": {"courthouse_code": "J. Doe A#1234"}},
    )
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["field"] == "courthouse_code"
    assert count_events(services) == before


# ---- corroboration: counted, capped, unlinkable, never a status -------------


async def test_anonymous_corroborations_are_counted_and_capped_but_never_a_status(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    created = await submit(
        client, {"kind": "sighting", "courthouse_code": "NYC", "observed_at": ago(20)}
    )
    rid = created["id"]
    for _ in range(20):
        answer = await client.post(f"/api/reports/{rid}/corroborate", json={"client_key": key()})
        assert answer.status_code == 200
    twentieth = answer.json()
    assert twentieth["status"] == "unverified" and twentieth["corroborations"] == 20
    # A resume is only offered from a position the live projection has reached:
    # wait for it by position (the POST answers before the projection runs).
    await projected_up_to(services, twentieth["position"] - 1)
    async with connect(ws_url(live_server, since=twentieth["position"] - 1)) as ws:
        assert (await frame(ws))["type"] == "resume"
        on_the_map = (await delta_at(ws, twentieth["position"]))[-1]["report"]
    assert on_the_map["status"] == "unverified" and on_the_map["corroborations"] == 20
    page = (await client.get(f"/reports/{rid}")).text
    assert "Unverified" in page and 'id="corroborations">20<' in page

    for _ in range(MOST_CORROBORATIONS - 20):
        answer = await client.post(f"/api/reports/{rid}/corroborate", json={"client_key": key()})
        assert answer.status_code == 200
    before = count_events(services)
    beyond = [
        await client.post(f"/api/reports/{rid}/corroborate", json={"client_key": key()})
        for _ in range(5)
    ]
    assert {b.status_code for b in beyond} == {409}
    assert count_events(services) == before
    report = (await client.get(f"/api/reports/{rid}")).json()
    assert report["corroborations"] == MOST_CORROBORATIONS
    assert report["status"] == "unverified"

    # Reading a report replays a bounded number of events now: time it.
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        assert (await client.get(f"/api/reports/{rid}")).status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(
        f"\nGET /api/reports/{{id}} with {MOST_CORROBORATIONS} corroborations (the cap): "
        f"p50 {timings[15]:.1f} ms, max {timings[-1]:.1f} ms over 30 reads"
    )


async def test_one_key_corroborating_two_reports_leaves_no_common_hash(
    client: httpx.AsyncClient, services: Services
) -> None:
    first = await submit(
        client, {"kind": "sighting", "courthouse_code": "NYC", "observed_at": ago(5)}
    )
    second = await submit(
        client, {"kind": "sighting", "courthouse_code": "BOS", "observed_at": ago(5)}
    )
    same_person = key()
    for created in (first, second):
        answer = await client.post(
            f"/api/reports/{created['id']}/corroborate", json={"client_key": same_person}
        )
        assert answer.status_code == 200
    again = await client.post(
        f"/api/reports/{first['id']}/corroborate", json={"client_key": same_person}
    )
    assert again.status_code == 409  # still one corroboration per key per report
    hashes = [
        [
            e.corroborator_hash
            for e in services.app.events.get(uuid.UUID(created["id"]))
            if type(e).__name__ == "Corroborated"
        ]
        for created in (first, second)
    ]
    assert len(hashes[0]) == len(hashes[1]) == 1
    assert hashes[0] != hashes[1]


# ---- running watch shifts are not public -----------------------------------


async def test_a_running_watch_shift_is_on_no_public_view_until_it_has_ended(
    live_server: ServerThread, client: httpx.AsyncClient
) -> None:
    async with connect(ws_url(live_server), compression=None) as watching:
        start = (await frame(watching))["position"]
        shift = await submit(
            client, {"kind": "watch_shift", "courthouse_code": "NYC", "observed_at": ago(30)}
        )
        sighting = await submit(
            client, {"kind": "sighting", "courthouse_code": "NYC", "observed_at": ago(1)}
        )
        # The shift's Submitted came first; the first delta is the sighting's.
        deltas = await delta_at(watching, sighting["position"])
        assert [d["report"]["id"] for d in deltas] == [sighting["id"]]

        # Nor in a fresh snapshot, a resume from before it, or the first paint.
        async with connect(ws_url(live_server), compression=None) as fresh:
            snapshot = await frame(fresh)
        assert snapshot["position"] >= sighting["position"]
        assert shift["id"] not in [r["id"] for r in snapshot["reports"]]
        async with connect(ws_url(live_server, since=start), compression=None) as resuming:
            assert (await frame(resuming))["type"] == "resume"
            resumed = await delta_at(resuming, sighting["position"])
        assert [d["report"]["id"] for d in resumed] == [sighting["id"]]
        assert shift["id"] not in await first_paint(client)

        # Report ids are not secret (every leaf of the transparency log names
        # one): the report itself is not served either until the shift ends.
        running = await client.get(f"/api/reports/{shift['id']}")
        assert running.status_code == 404 and "observed_at" not in running.text

        ended = await client.post(
            f"/api/reports/{shift['id']}/end",
            json={"token": shift["author_token"], "ended_at": ago(0)},
        )
        assert ended.status_code == 200
        after_end = await delta_at(watching, ended.json()["position"])
    assert [d["report"]["id"] for d in after_end] == [shift["id"]]
    assert after_end[0]["report"]["last_event"] == "Ended"
    assert shift["id"] in await first_paint(client)


HOSTILE_COURTHOUSES = [
    "NYC\u0000",
    "\u0000",
    "\ud800",
    "NYC\r\nX",
    "9" * 5000,
    "nyc",
    123,
    ["BOS"],
    {"code": "BOS"},
]


async def test_hostile_courthouse_amendments_get_4xx_and_store_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    created = await submit(
        client, {"kind": "sighting", "courthouse_code": "NYC", "observed_at": ago(20)}
    )
    token = created["author_token"]
    before = count_events(services)
    for value in HOSTILE_COURTHOUSES:
        body = {"token": token, "changes": {"courthouse_code": value}}
        # ASCII-escaped, so a lone surrogate reaches the server as JSON allows.
        answer = await client.post(
            f"/api/reports/{created['id']}/amend",
            content=json.dumps(body),
            headers={"content-type": "application/json"},
        )
        assert 400 <= answer.status_code < 500, (value, answer.status_code, answer.text)
    assert count_events(services) == before
