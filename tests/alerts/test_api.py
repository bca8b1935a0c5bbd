"""The alerts API against real uvicorn and PostgreSQL: ownership, roles, and hostile values."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest

from courtwatch.services import Services
from tests.members.tokens import member_token

SUB = {"courthouses": ["NYC"], "kinds": ["sighting"], "min_status": "any"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def coordinator(services: Services) -> dict[str, str]:
    return bearer(member_token(services, "Coordinator", "coordinator"))


@pytest.fixture
def responder(services: Services) -> dict[str, str]:
    return bearer(member_token(services, "Responder", "responder"))


async def test_a_member_manages_only_their_own_subscriptions(
    client: httpx.AsyncClient, coordinator: dict[str, str], responder: dict[str, str]
) -> None:
    made = await client.post("/api/alerts/subscriptions", json=SUB, headers=responder)
    assert made.status_code == 201, made.text
    sub_id = made.json()["id"]
    assert made.json()["channel"] == "push"
    mine = (await client.get("/api/alerts/subscriptions", headers=responder)).json()
    assert [s["id"] for s in mine["subscriptions"]] == [sub_id]
    theirs = (await client.get("/api/alerts/subscriptions", headers=coordinator)).json()
    assert theirs["subscriptions"] == []
    path = f"/api/alerts/subscriptions/{sub_id}"
    changed = {**SUB, "min_status": "verified", "quiet_hours": {"start": "22:00", "end": "07:00"}}
    assert (await client.put(path, json=changed, headers=coordinator)).status_code == 404
    assert (await client.delete(path, headers=coordinator)).status_code == 404
    replaced = await client.put(path, json=changed, headers=responder)
    assert replaced.status_code == 200 and replaced.json()["min_status"] == "verified"
    assert replaced.json()["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert (await client.delete(path, headers=responder)).status_code == 204
    assert (await client.delete(path, headers=responder)).status_code == 404
    assert (await client.get("/api/alerts/subscriptions")).status_code == 401
    assert (
        await client.put("/api/alerts/subscriptions/x%00y", json=SUB, headers=responder)
    ).status_code == 404


async def test_webhooks_are_for_coordinators_and_their_secret_is_shown_once(
    client: httpx.AsyncClient, coordinator: dict[str, str], responder: dict[str, str]
) -> None:
    url = "https://gateway.example.org/courtwatch"
    refused = await client.post("/api/alerts/webhooks", json={"url": url}, headers=responder)
    assert refused.status_code == 403
    made = await client.post("/api/alerts/webhooks", json={"url": url}, headers=coordinator)
    assert made.status_code == 201, made.text
    assert made.json()["secret"].startswith("whsec_") and len(made.json()["secret"]) > 40
    listed = (await client.get("/api/alerts/webhooks", headers=coordinator)).json()
    assert "secret" not in json.dumps(listed)
    hook_id = made.json()["id"]
    # A subscription may name only its own member's webhook.
    sub = {**SUB, "channel": "webhook", "webhook_id": hook_id}
    assert (
        await client.post("/api/alerts/subscriptions", json=sub, headers=responder)
    ).status_code == 422
    assert (
        await client.post("/api/alerts/subscriptions", json=sub, headers=coordinator)
    ).status_code == 201
    paused = await client.post(
        f"/api/alerts/webhooks/{hook_id}/active", json={"active": False}, headers=coordinator
    )
    assert paused.status_code == 200 and paused.json()["active"] is False
    for body in ({"active": "no"}, {"active": 0}, {}, {"active": True, "x": 1}):
        answer = await client.post(
            f"/api/alerts/webhooks/{hook_id}/active", json=body, headers=coordinator
        )
        assert answer.status_code == 422, body
    log = await client.get(f"/api/alerts/webhooks/{hook_id}/deliveries", headers=coordinator)
    assert log.status_code == 200 and log.json() == {"attempts": []}


HOSTILE_URLS = [
    "file:///etc/passwd",
    "javascript:alert(1)",
    "ftp://example.org/x",
    "gopher://127.0.0.1:25/",
    "https://user:pass@example.org/hook",
    "https://token@example.org/hook",
    "https://example.org/" + "a" * 5000,
    "https://example.org/\x00hook",
    "https://example.org/\nHost: evil",
    "https://exa mple.org/",
    " https://example.org/",
    "https://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "https://example.org:0/",
    "https://example.org:99999/",
    "https:///nohost",
    "https://example.org/#frag",
    "https://example.org/\ud800",
    "",
    "a" * 3000,
]


# One server for the whole list (a fresh app per value would take minutes).
async def test_hostile_webhook_urls_are_refused(
    client: httpx.AsyncClient, coordinator: dict[str, str]
) -> None:
    wrong = []
    for url in HOSTILE_URLS:
        body = json.dumps({"url": url}).encode()  # lone surrogates as \\ud800 escapes
        answer = await client.post(
            "/api/alerts/webhooks",
            content=body,
            headers={**coordinator, "Content-Type": "application/json"},
        )
        if answer.status_code != 422:
            wrong.append((url[:60], answer.status_code, answer.text[:200]))
    assert wrong == []
    assert (await client.get("/api/alerts/webhooks", headers=coordinator)).json()["webhooks"] == []


PRIVATE_GATEWAYS = [
    "http://127.0.0.1:8080/hook",
    "http://10.0.0.5/signal-bot",
    "https://[::1]:9000/x",
    "http://gateway.local/",
]


async def test_private_gateways_are_allowed(
    client: httpx.AsyncClient, coordinator: dict[str, str]
) -> None:
    # Organisations run SMS and Signal gateways on their own network (docs/alerts.md).
    for url in PRIVATE_GATEWAYS:
        answer = await client.post("/api/alerts/webhooks", json={"url": url}, headers=coordinator)
        assert answer.status_code == 201, answer.text


HOSTILE_SUBSCRIPTIONS = [
    {"courthouses": []},  # neither a courthouse nor an area
    {"courthouses": ["nyc"]},
    {"courthouses": ["NYC\x00"]},
    {"courthouses": ["NYC"] * 51},
    {"courthouses": "NYC"},
    {"area": {"lat": 40.7, "lon": -74, "radius_m": 50001}},
    {"area": {"lat": 91, "lon": -74, "radius_m": 100}},
    {"area": {"lat": 40.7, "lon": -181, "radius_m": 100}},
    {"area": {"lat": 40.7, "lon": -74, "radius_m": 0}},
    {"area": {"lat": 40.7, "lon": -74, "radius_m": True}},
    {"area": {"lat": "40.7", "lon": -74, "radius_m": 100}},
    {"area": {"lat": 40.7, "lon": -74}},
    {"area": [40.7, -74, 100]},
    {"courthouses": ["NYC"], "kinds": ["watch_shift"]},
    {"courthouses": ["NYC"], "kinds": ["sighting"] * 10},
    {"courthouses": ["NYC"], "min_status": "corroborated"},
    {"courthouses": ["NYC"], "min_status": None},
    {"courthouses": ["NYC"], "quiet_hours": {"start": "24:00", "end": "07:00"}},
    {"courthouses": ["NYC"], "quiet_hours": {"start": "07:00", "end": "07:00"}},
    {"courthouses": ["NYC"], "quiet_hours": {"start": "\u0660\u0667:\u0660\u0660", "end": "08:00"}},
    {"courthouses": ["NYC"], "quiet_hours": "22-7"},
    {"courthouses": ["NYC"], "timezone": "Mars/Olympus_Mons"},
    {"courthouses": ["NYC"], "timezone": "UTC\x00"},
    {"courthouses": ["NYC"], "timezone": "../../etc/localtime"},
    {"courthouses": ["NYC"], "timezone": 5},
    # zoneinfo reads it (this machine's zone); PostgreSQL does not know it, and
    # one such subscription made the matching query fail for every report.
    {"courthouses": ["NYC"], "timezone": "localtime"},
    {"courthouses": ["NYC"], "label": "x" * 81},
    {"courthouses": ["NYC"], "label": "line\nbreak"},
    {"courthouses": ["NYC"], "channel": "sms"},
    {"courthouses": ["NYC"], "channel": "webhook"},
    {"courthouses": ["NYC"], "channel": "webhook", "webhook_id": "not-a-uuid"},
    {"courthouses": ["NYC"], "webhook_id": "8d3c0f8e-0000-4000-8000-000000000000"},
    {"courthouses": ["NYC"], "surprise": 1},
]


async def test_hostile_subscriptions_are_refused(
    client: httpx.AsyncClient, responder: dict[str, str]
) -> None:
    wrong = []
    for body in HOSTILE_SUBSCRIPTIONS:
        answer = await client.post("/api/alerts/subscriptions", json=body, headers=responder)
        if answer.status_code != 422:
            wrong.append((body, answer.status_code, answer.text[:200]))
    assert wrong == []
    assert (await client.get("/api/alerts/subscriptions", headers=responder)).json() == {
        "subscriptions": []
    }


MALFORMED = [
    b'{"courthouses": ["NYC"], "area": {"lat": 4' + b"0" * 5000 + b', "lon": 1, "radius_m": 5}}',
    b'{"courthouses": ["NYC"], "area": {"lat": 1e999, "lon": 1, "radius_m": 5}}',
    b'{"courthouses": ["NYC"], "label": "\\ud800"}',
    b"[" * 5000 + b"]" * 5000,
    b'{"courthouses": ["NYC"], "x": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    b"\xff\xfe",
    b"null",
]


async def test_malformed_bodies_answer_4xx(
    client: httpx.AsyncClient, responder: dict[str, str]
) -> None:
    for raw in MALFORMED:
        answer = await client.post(
            "/api/alerts/subscriptions",
            content=raw,
            headers={**responder, "Content-Type": "application/json"},
        )
        assert 400 <= answer.status_code < 500, (raw[:40], answer.status_code)


async def test_concurrent_creates_stop_at_the_cap_and_concurrent_edits_leave_one_whole_value(
    client: httpx.AsyncClient, responder: dict[str, str]
) -> None:
    answers = await asyncio.gather(
        *(client.post("/api/alerts/subscriptions", json=SUB, headers=responder) for _ in range(60))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 50 + [409] * 10
    sub_id = next(a.json()["id"] for a in answers if a.status_code == 201)
    edits = [
        {**SUB, "label": f"edit {n}", "courthouses": [f"C{n}"], "min_status": "verified"}
        for n in range(20)
    ]
    done = await asyncio.gather(
        *(
            client.put(f"/api/alerts/subscriptions/{sub_id}", json=e, headers=responder)
            for e in edits
        )
    )
    assert {a.status_code for a in done} == {200}
    final = next(
        s
        for s in (await client.get("/api/alerts/subscriptions", headers=responder)).json()[
            "subscriptions"
        ]
        if s["id"] == sub_id
    )
    n = int(final["label"].split()[1])
    assert final["courthouses"] == [f"C{n}"]  # one edit whole, never a mix of two


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_push_subscriptions_are_checked(
    client: httpx.AsyncClient, responder: dict[str, str]
) -> None:
    key = await client.get("/api/alerts/push/key", headers=responder)
    assert key.status_code == 200
    assert len(base64.urlsafe_b64decode(key.json()["application_server_key"] + "==")) == 65
    good = {
        "endpoint": "https://push.example.org/x",
        "keys": {"p256dh": _b64(b"\x04" + b"k" * 64), "auth": _b64(b"a" * 16)},
    }
    assert (
        await client.post("/api/alerts/push/subscriptions", json=good, headers=responder)
    ).status_code == 204
    for bad in (
        {**good, "endpoint": "http://push.example.org/x"},  # http beyond this machine
        {**good, "endpoint": "file:///x"},
        {**good, "keys": {"p256dh": _b64(b"short"), "auth": _b64(b"a" * 16)}},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "!!!"}},  # type: ignore[index]
        {**good, "keys": None},
        {"endpoint": "https://push.example.org/\x00"},
    ):
        answer = await client.post("/api/alerts/push/subscriptions", json=bad, headers=responder)
        assert answer.status_code == 422, bad


async def test_report_counts_are_for_coordinators(
    client: httpx.AsyncClient, coordinator: dict[str, str], responder: dict[str, str]
) -> None:
    path = "/api/alerts/reports/8d3c0f8e-0000-4000-8000-000000000000"
    assert (await client.get(path, headers=responder)).status_code == 403
    answer = await client.get(path, headers=coordinator)
    assert answer.status_code == 200 and answer.json()["deliveries"] == 0
    assert (await client.get("/api/alerts/reports/nope", headers=coordinator)).status_code == 404
