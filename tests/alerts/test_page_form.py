"""The alerts page's form without JavaScript (real uvicorn, a member's bearer token):
it adds and removes alerts, and refuses hostile values with a 4xx page, storing nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID

import httpx
import pytest

from courtwatch.alerts.model import check_subscription
from courtwatch.services import Services
from tests.members.tokens import member_token

FORM = {
    "courthouses": ["NYC", "SFR"],
    "kinds": ["sighting", "courthouse_arrest"],
    "min_status": "on_scene",
    "quiet_start": "22:00",
    "quiet_end": "07:00",
    "timezone": "America/New_York",
    "label": "",
    "area": "",
}
SQUARE = {
    "polygon": [
        {"lat": 40.70, "lon": -74.02},
        {"lat": 40.70, "lon": -73.98},
        {"lat": 40.74, "lon": -73.98},
        {"lat": 40.74, "lon": -74.02},
    ]
}


@pytest.fixture
def member(services: Services) -> dict[str, str]:
    return {"Authorization": f"Bearer {member_token(services, 'Rosa', 'responder')}"}


async def listed(client: httpx.AsyncClient, member: dict[str, str]) -> list[dict[str, Any]]:
    answer = await client.get("/api/alerts/subscriptions", headers=member)
    return answer.json()["subscriptions"]  # type: ignore[no-any-return]


async def test_the_form_adds_and_removes_an_alert_without_javascript(
    client: httpx.AsyncClient, member: dict[str, str]
) -> None:
    added = await client.post("/console/alerts?lang=es", data=FORM, headers=member)
    assert added.status_code == 303 and added.headers["location"] == "/console/alerts?lang=es"
    [made] = await listed(client, member)
    assert made["courthouses"] == ["NYC", "SFR"] and made["min_status"] == "on_scene"
    assert made["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert made["timezone"] == "America/New_York" and made["area"] is None
    page = await client.get("/console/alerts?lang=es", headers=member)
    assert page.status_code == 200 and "22:00" in page.text
    assert f'action="/console/alerts/{made["id"]}/remove?lang=es"' in page.text
    # An area drawn on the map arrives as JSON in the "area" field.
    drawn = await client.post(
        "/console/alerts",
        data={**FORM, "courthouses": [], "area": json.dumps(SQUARE)},
        headers=member,
    )
    assert drawn.status_code == 303, drawn.text[:300]
    assert (await listed(client, member))[1]["area"] == SQUARE
    page = await client.get("/console/alerts", headers=member)
    assert "Area: drawn, 4 corners" in page.text
    for subscription in await listed(client, member):
        gone = await client.post(
            f"/console/alerts/{subscription['id']}/remove", data={}, headers=member
        )
        assert gone.status_code == 303
    assert await listed(client, member) == []
    # Twice (a second tap) is done, not an error; a hostile id is a 404.
    again = await client.post(f"/console/alerts/{made['id']}/remove", headers=member)
    assert again.status_code == 303
    hostile = await client.post("/console/alerts/x%00y/remove", headers=member)
    assert hostile.status_code == 404
    # A refused form comes back with the reason, in the member's language, and
    # with what was sent filled in again.
    answer = await client.post(
        "/console/alerts?lang=es",
        data={**FORM, "label": "Noche", "quiet_start": "", "area": json.dumps(SQUARE)},
        headers=member,
    )
    assert answer.status_code == 422
    assert 'value="Noche"' in answer.text and "No funcionó." in answer.text
    assert "Las horas de silencio necesitan" in answer.text  # the reason, in Spanish
    assert '<option value="NYC" selected>' in answer.text
    assert "&#34;polygon&#34;" in answer.text or "&quot;polygon&quot;" in answer.text


# 101 corners fit in the body limit; 10,000 do not (413 before the guard sees
# them: tests/alerts/test_polygon.py sends them to the guard itself).
CORNERS = [{"lat": 40.7 + i * 1e-4, "lon": -74.0 + (i % 2) * 1e-4} for i in range(101)]
HOSTILE_FORMS: dict[str, dict[str, Any]] = {
    "NUL in the label": {"label": "a\x00b"},
    "a huge label": {"label": "x" * 100_000},
    "an unknown courthouse code": {"courthouses": ["NYC\x00"]},
    "no courthouse and no area": {"courthouses": []},
    "a kind that is not one": {"kinds": ["watch_shift"]},
    "a status that is not one": {"min_status": "sometimes"},
    "only a start of quiet hours": {"quiet_end": ""},
    "quiet hours at 25:00": {"quiet_start": "25:00"},
    "a zone that is not one": {"timezone": "Mars/Olympus"},
    "a zone with NUL": {"timezone": "UTC\x00"},
    "101 corners": {"area": json.dumps({"polygon": CORNERS})},
    "NaN in the area": {"area": '{"lat": NaN, "lon": -74, "radius_m": 100}'},
    "Infinity in the area": {"area": '{"lat": Infinity, "lon": -74, "radius_m": 100}'},
    "a 5,000-digit number": {"area": '{"lat": 4' + "0" * 5000 + ', "lon": 1, "radius_m": 5}'},
    "deep JSON": {"area": "[" * 5000 + "]" * 5000},
    "not JSON": {"area": "((1,2),(3,4))"},
    "a bow tie": {
        "area": json.dumps(
            {
                "polygon": [
                    {"lat": 40.70, "lon": -74.02},
                    {"lat": 40.74, "lon": -73.98},
                    {"lat": 40.70, "lon": -73.98},
                    {"lat": 40.74, "lon": -74.02},
                ]
            }
        )
    },
    "a radius of 10,000 km": {"area": '{"lat": 40.7, "lon": -74, "radius_m": 1e7}'},
}


async def test_hostile_forms_answer_4xx_and_store_nothing(
    client: httpx.AsyncClient, member: dict[str, str], services: Services
) -> None:
    wrong = []
    for name, change in HOSTILE_FORMS.items():
        answer = await client.post("/console/alerts", data={**FORM, **change}, headers=member)
        if not 400 <= answer.status_code < 500:
            wrong.append((name, answer.status_code))
        elif answer.status_code == 422 and 'role="alert"' not in answer.text:
            wrong.append((name, "no reason shown"))
    assert wrong == []
    # A lone surrogate and bytes that are not UTF-8, as a browser could send them.
    for raw in (b"courthouses=NYC&label=a%ED%B2%80b", b"courthouses=NYC&label=%FF%FE"):
        odd = await client.post(
            "/console/alerts",
            content=raw,
            headers={**member, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert 400 <= odd.status_code < 500 or odd.status_code == 303, odd.status_code
    await asyncio.gather(
        *(
            client.post(f"/console/alerts/{s['id']}/remove", headers=member)
            for s in await listed(client, member)
        )
    )
    # A form of thousands of fields, and a file where a field should be.
    many = await client.post(
        "/console/alerts",
        content="&".join(f"courthouses=NYC{i}" for i in range(5000)).encode(),
        headers={**member, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= many.status_code < 500
    upload = await client.post(
        "/console/alerts", data=FORM, files={"label": ("x.txt", b"hi")}, headers=member
    )
    assert 400 <= upload.status_code < 500
    assert await listed(client, member) == []
    # Concurrent posts at the cap (50): exactly the room left is taken, no 5xx.
    me = UUID((await client.get("/api/members/me", headers=member)).json()["id"])
    for _ in range(47):
        services.alerts.subscribe(me, check_subscription({"courthouses": ["NYC"]}))
    answers = await asyncio.gather(
        *(client.post("/console/alerts", data=FORM, headers=member) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [303, 303, 303, 409, 409, 409]
    assert len(await listed(client, member)) == 50


async def test_the_forms_field_limit_holds_for_a_member_signed_in_by_cookie(
    client: httpx.AsyncClient, services: Services
) -> None:
    # Before: checking the CSRF field parsed the form with Starlette's defaults
    # (1,000 fields, files allowed) and Starlette keeps the first parse, so the
    # form's own limit (200 fields, no file) never applied to a browser's post.
    store = services.members
    member = store.create_member("Sol", ["responder"])
    with store.database.pooled() as conn:
        session = store._open_session(conn, member, store.clock())
    cookie = {"Cookie": f"courtwatch_session={session.id}"}
    form = {**FORM, "csrf_token": session.csrf_token}
    added = await client.post("/console/alerts?lang=en", data=form, headers=cookie)
    assert added.status_code == 303  # the cookie and its CSRF field are taken
    padded = {**form, **{f"x{n}": "1" for n in range(900)}}
    refused = await client.post("/console/alerts?lang=en", data=padded, headers=cookie)
    assert 400 <= refused.status_code < 500
    files = {"photo": ("a.jpg", b"\xff\xd8" * 10, "image/jpeg")}
    refused = await client.post("/console/alerts?lang=en", data=form, files=files, headers=cookie)
    assert 400 <= refused.status_code < 500
    assert len(services.alerts.subscriptions(member.id)) == 1
