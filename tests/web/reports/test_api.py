"""Submitting and reading reports through real HTTP against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from courtwatch.services import Services
from tests.members.tokens import member_token


def recent(hours: float = 1) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def key() -> str:
    return uuid.uuid4().hex


REPORTS = {
    "courthouse_arrest": {
        "kind": "courthouse_arrest",
        "courthouse_code": "NYC",
        "place": "hallway",
        "agents_count": 3,
        "agency": "ice_ero",
        "plain_clothes": "yes",
        "identification_shown": "no",
        "warrant": "administrative",
        "person_role": "survivor",
        "outcome": "detained",
        "taken_to": "ice_field_office",
        "attorney_present": "no",
    },
    "sighting": {
        "kind": "sighting",
        "lat": 40.71234,
        "lon": -74.00567,
        "place": "outside",
        "agents_count": 2,
        "vehicles_count": 1,
        "agency": "unknown",
        "plain_clothes": "unknown",
    },
    "call_in": {
        "kind": "call_in",
        "courthouse_code": "NYV",
        "letter_date": "2026-11-01",
        "office": "check_in_nyc_201_varick",
        "accompanied": "yes",
        "outcome": "pending",
    },
    "watch_shift": {"kind": "watch_shift", "courthouse_code": "BOS", "ended_at": recent(0.5)},
}


def count_events(services: Services) -> int:
    with services.database.connect() as conn:
        row = conn.execute("SELECT count(*) FROM courtwatch_events").fetchone()
        assert row is not None
        return int(row[0])


async def submit(
    client: httpx.AsyncClient, body: dict, client_key: str | None = None
) -> httpx.Response:
    return await client.post(
        "/api/reports", json=body, headers={"Idempotency-Key": client_key or key()}
    )


@pytest.mark.parametrize("kind", list(REPORTS))
async def test_each_kind_of_report_round_trips(client: httpx.AsyncClient, kind: str) -> None:
    body = {**REPORTS[kind], "observed_at": recent(2)}
    created = await submit(client, body)
    assert created.status_code == 201, created.text
    permalink = created.json()["url"]

    report = (await client.get("/api/reports/" + created.json()["id"])).json()
    assert report["kind"] == kind
    assert report["status"] == "unverified"
    assert datetime.fromisoformat(report["observed_at"]) == datetime.fromisoformat(
        body["observed_at"]
    )
    for name, value in body.items():
        if name in report["details"] and name != "ended_at":
            assert report["details"][name] == value, name
    if kind == "sighting":  # a dropped pin is coarsened to ~100 m
        assert (report["lat"], report["lon"]) == (40.712, -74.006)
    page = await client.get(permalink)
    assert page.status_code == 200 and report["id"] in page.text


async def test_every_lifecycle_event_appears_in_the_history_in_order(
    client: httpx.AsyncClient, services: Services
) -> None:
    verifier = member_token(services, "maria", "responder")
    created = (
        await submit(
            client, {**REPORTS["courthouse_arrest"], "observed_at": recent(), "outcome": "unknown"}
        )
    ).json()
    rid, token = created["id"], created["author_token"]
    bearer = {"Authorization": f"Bearer {verifier}"}

    steps = [
        ("amend", {"token": token, "changes": {"agents_count": 4}}, {}),
        ("corroborate", {"client_key": key()}, {}),
        ("verify", {}, bearer),
        ("dispute", {"reason": "duplicate"}, bearer),
        ("verify", {}, bearer),
        ("outcome", {"token": token, "outcome": {"outcome": "released"}}, {}),
    ]
    for action, body, headers in steps:
        response = await client.post(f"/api/reports/{rid}/{action}", json=body, headers=headers)
        assert response.status_code == 200, (action, response.text)

    report = (await client.get(f"/api/reports/{rid}")).json()
    assert [h["event"] for h in report["history"]] == [
        "Submitted",
        "Amended",
        "Corroborated",
        "Verified",
        "Disputed",
        "Verified",
        "OutcomeRecorded",
    ]
    assert [h["version"] for h in report["history"]] == list(range(1, 8))
    stamps = [datetime.fromisoformat(h["timestamp"]) for h in report["history"]]
    assert stamps == sorted(stamps)
    assert report["status"] == "verified"
    assert report["details"]["agents_count"] == 4 and report["details"]["outcome"] == "released"
    (maria,) = [m for m in services.members.members() if m.display_name == "maria"]
    assert report["history"][3]["data"] == {"verifier": "maria", "verifier_id": str(maria.id)}


async def test_a_shift_is_ended_by_its_author_only(client: httpx.AsyncClient) -> None:
    body = {"kind": "watch_shift", "courthouse_code": "NYC", "observed_at": recent(3)}
    created = (await submit(client, body)).json()
    wrong = await client.post(
        f"/api/reports/{created['id']}/end", json={"token": "x" * 43, "ended_at": recent(1)}
    )
    assert wrong.status_code == 403
    ended = await client.post(
        f"/api/reports/{created['id']}/end",
        json={"token": created["author_token"], "ended_at": recent(1)},
    )
    assert ended.status_code == 200
    assert [h["event"] for h in ended.json()["history"]] == ["Submitted", "Ended"]


async def test_verifying_needs_a_responders_token(client: httpx.AsyncClient) -> None:
    created = (await submit(client, {**REPORTS["sighting"], "observed_at": recent()})).json()
    anonymous = await client.post(f"/api/reports/{created['id']}/verify")
    forged = await client.post(
        f"/api/reports/{created['id']}/verify", headers={"Authorization": "Bearer forged"}
    )
    assert anonymous.status_code == forged.status_code == 401
    report = (await client.get(f"/api/reports/{created['id']}")).json()
    assert report["status"] == "unverified"


async def test_fifty_concurrent_replays_of_one_key_store_one_report(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = {**REPORTS["courthouse_arrest"], "observed_at": recent()}
    client_key = key()
    responses = await asyncio.gather(*(submit(client, body, client_key) for _ in range(50)))

    assert sorted(r.status_code for r in responses) == [200] * 49 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    # Every retry gets the author token back: the first answer may have been lost.
    assert len({r.json()["author_token"] for r in responses}) == 1
    assert count_events(services) == 1


async def test_a_key_reused_for_a_different_report_is_a_conflict(client: httpx.AsyncClient) -> None:
    client_key = key()
    first = await submit(client, {**REPORTS["sighting"], "observed_at": recent()}, client_key)
    second = await submit(client, {**REPORTS["sighting"], "observed_at": recent(5)}, client_key)
    assert (first.status_code, second.status_code) == (201, 409)


INVALID = [
    ("kind", {"kind": "rumour"}),
    ("observed_at", {"observed_at": "yesterday"}),
    ("observed_at", {"observed_at": "2026-11-20T10:00:00"}),  # no time zone
    ("observed_at", {"observed_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}),
    ("lat", {"lat": 123.0, "lon": 10.0}),
    ("lon", {"lat": 10.0, "lon": -200.0}),
    ("lon", {"lat": 10.0}),
    ("courthouse_code", {"courthouse_code": "ZZZ"}),
    ("agents_count", {"agents_count": -1}),
    ("agents_count", {"agents_count": "many"}),
    ("agency", {"agency": "fbi"}),
    ("warrant", {"warrant": "maybe"}),
    ("person_role", {"person_role": "suspect"}),
    ("plain_clothes", {"plain_clothes": "perhaps"}),
    ("taken_to", {"taken_to": "x" * 500}),
    ("victim_name", {"victim_name": "someone"}),  # unknown fields are refused, not stored
]


@pytest.mark.parametrize(
    ("field", "change"), INVALID, ids=[f"{f}-{i}" for i, (f, _) in enumerate(INVALID)]
)
async def test_each_invalid_field_is_named_in_a_422_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, field: str, change: dict
) -> None:
    body = {**REPORTS["courthouse_arrest"], "observed_at": recent(), **change}
    response = await submit(client, body)
    assert response.status_code == 422, response.text
    assert field in [problem["field"] for problem in response.json()["fields"]]
    assert all(problem["reason"] for problem in response.json()["fields"])
    assert count_events(services) == 0


async def test_missing_client_key_and_malformed_json_are_422(client: httpx.AsyncClient) -> None:
    no_key = await client.post(
        "/api/reports", json={**REPORTS["sighting"], "observed_at": recent()}
    )
    assert no_key.status_code == 422 and no_key.json()["fields"][0]["field"] == "client_key"
    garbage = await client.post(
        "/api/reports", content=b"{not json", headers={"Idempotency-Key": key()}
    )
    assert garbage.status_code == 422


async def test_an_oversize_body_gets_413(client: httpx.AsyncClient, services: Services) -> None:
    huge = {**REPORTS["sighting"], "observed_at": recent(), "padding": "x" * 200_000}
    response = await submit(client, huge)
    assert response.status_code == 413
    assert count_events(services) == 0


async def test_an_unknown_report_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/api/reports/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/api/reports/not-a-uuid")).status_code == 404
    assert (await client.get(f"/reports/{uuid.uuid4()}")).status_code == 404


async def test_courthouses_include_immigration_courts_and_local_ones(
    client: httpx.AsyncClient, services: Services
) -> None:
    coordinator = member_token(services, "coord", "coordinator")
    local = {
        "code": "BKLYN-CRIM",
        "name": "Brooklyn Criminal Court",
        "kind": "criminal",
        "lat": 40.6936,
        "lon": -73.9874,
        "city": "Brooklyn",
        "state": "NY",
    }
    refused = await client.post("/api/courthouses", json=local)
    assert refused.status_code == 401
    added = await client.post(
        "/api/courthouses", json=local, headers={"Authorization": f"Bearer {coordinator}"}
    )
    assert added.status_code == 201, added.text
    again = await client.post(
        "/api/courthouses", json=local, headers={"Authorization": f"Bearer {coordinator}"}
    )
    assert again.status_code == 409

    courthouses = (await client.get("/api/courthouses")).json()["courthouses"]
    codes = {c["code"]: c for c in courthouses}
    assert {"NYC", "NYV", "BOS", "BKLYN-CRIM"} <= set(codes)
    assert codes["NYC"]["kind"] == "immigration" and codes["BKLYN-CRIM"]["source"] == "local"
    assert all(-90 <= c["lat"] <= 90 and -180 <= c["lon"] <= 180 for c in courthouses)
    created = await submit(
        client,
        {
            **REPORTS["sighting"],
            "lat": None,
            "lon": None,
            "courthouse_code": "BKLYN-CRIM",
            "observed_at": recent(),
        },
    )
    assert created.status_code == 201, created.text


@pytest.mark.parametrize("kind", list(REPORTS))
async def test_the_form_starts_every_choice_at_not_known(
    client: httpx.AsyncClient, kind: str
) -> None:
    page = (await client.get(f"/new/{kind}")).text

    for select in re.findall(r'<select id="(\w+)".*?</select>', page, flags=re.S):
        if select == "courthouse_code":
            continue
        chosen = re.search(
            rf'<select id="{select}".*?<option value="(\w+)" selected', page, flags=re.S
        )
        assert chosen and chosen.group(1) in ("unknown", "pending"), (kind, select)


async def test_the_report_page_shows_values_in_the_readers_language(
    client: httpx.AsyncClient,
) -> None:
    body = {**REPORTS["courthouse_arrest"], "observed_at": recent()}
    created = (await submit(client, body)).json()
    page = (await client.get(created["url"], params={"lang": "es"})).text
    assert "Sobreviviente o víctima" in page and "Administrativa (formulario de ICE)" in page
    assert ">survivor<" not in page
