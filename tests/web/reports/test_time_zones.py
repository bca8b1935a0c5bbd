"""Times are read where the report happened: each courthouse carries its IANA zone (issue 9).

On a phone in Los Angeles a typed 22:45 used to be stored as 22:45-05:00 (the
server's zone), and the form pre-filled Eastern time. These tests go through
the real form and API against a real PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from courtwatch.services import Services
from courtwatch.timezones import localize
from tests.members.tokens import member_token

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
NEW_YORK = ZoneInfo("America/New_York")
PHOENIX = ZoneInfo("America/Phoenix")


def nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


async def post_form(
    client: httpx.AsyncClient, kind: str, fields: dict[str, str], lang: str = "en"
) -> tuple[httpx.Response, str]:
    client_key = uuid.uuid4().hex
    response = await client.post(
        f"/new/{kind}?lang={lang}", data={"client_key": client_key, **fields}
    )
    return response, client_key


async def stored_observed_at(client: httpx.AsyncClient, services: Services, client_key: str) -> str:
    report_id = services.app.report_id_for(client_key)
    report = (await client.get(f"/api/reports/{report_id}")).json()
    return str(report["observed_at"])


async def test_every_courthouse_carries_the_zone_of_its_coordinates(
    client: httpx.AsyncClient, services: Services
) -> None:
    coordinator = member_token(services, "coord", "coordinator")
    # Florida and Oregon span two zones: a state table would get these wrong.
    for local in (
        {"code": "ESCAMBIA-CO", "name": "Escambia County Courthouse", "kind": "county",
         "lat": 30.4127, "lon": -87.2169, "city": "Pensacola", "state": "FL"},
        {"code": "MALHEUR-CO", "name": "Malheur County Courthouse", "kind": "county",
         "lat": 43.9793, "lon": -117.2449, "city": "Vale", "state": "OR"},
        # No immigration court in Alaska: a coordinator adds Anchorage's.
        {"code": "ANCHORAGE-CRIM", "name": "Nesbett Courthouse", "kind": "criminal",
         "lat": 61.2176, "lon": -149.8950, "city": "Anchorage", "state": "AK"},
    ):  # fmt: skip
        added = await client.post(
            "/api/courthouses", json=local, headers={"Authorization": f"Bearer {coordinator}"}
        )
        assert added.status_code == 201, added.text

    courthouses = (await client.get("/api/courthouses")).json()["courthouses"]
    zones = {c["code"]: c["zone"] for c in courthouses}
    assert zones["NLA"] == "America/Los_Angeles"  # Los Angeles
    assert zones["PHO"] == "America/Phoenix"  # Arizona: no daylight time
    assert zones["ELP"] == "America/Denver"  # El Paso: Mountain time, in Texas
    assert zones["HOU"] == "America/Chicago"  # Houston: Central time, in Texas
    assert zones["DET"] == "America/Detroit"
    assert zones["HON"] == "Pacific/Honolulu"
    assert zones["NYC"] == "America/New_York"
    assert zones["ESCAMBIA-CO"] == "America/Chicago"  # the Florida panhandle
    assert zones["MALHEUR-CO"] == "America/Boise"  # eastern Oregon: Mountain time
    assert zones["ANCHORAGE-CRIM"] == "America/Anchorage"
    eoir = [c for c in courthouses if c["source"] == "eoir"]
    assert eoir and all(c["zone"] for c in eoir)


async def test_a_time_typed_for_a_los_angeles_courthouse_is_los_angeles_time(
    client: httpx.AsyncClient, services: Services
) -> None:
    yesterday = datetime.now(LOS_ANGELES).date() - timedelta(days=1)
    typed = f"{yesterday.isoformat()}T22:45"
    response, client_key = await post_form(
        client, "sighting", {"courthouse_code": "NLA", "observed_at": typed}
    )
    assert response.status_code == 201, response.text
    expected = datetime.combine(yesterday, time(22, 45), tzinfo=LOS_ANGELES)
    stored = datetime.fromisoformat(await stored_observed_at(client, services, client_key))
    assert stored == expected
    assert stored.utcoffset() == expected.utcoffset()  # -08:00 or -07:00, never -05:00


async def test_a_time_typed_at_a_dropped_pin_is_read_in_the_pins_zone(
    client: httpx.AsyncClient, services: Services
) -> None:
    yesterday = datetime.now(PHOENIX).date() - timedelta(days=1)
    response, client_key = await post_form(
        client,
        "sighting",
        {"lat": "33.449", "lon": "-112.074", "observed_at": f"{yesterday}T09:15"},
    )
    assert response.status_code == 201, response.text
    stored = await stored_observed_at(client, services, client_key)
    assert stored == f"{yesterday}T09:15:00-07:00"


@pytest.mark.parametrize(("lang", "words"), [("en", "Pacific time"), ("es", "hora del Pacífico")])
async def test_the_form_prefills_and_names_the_courthouses_zone(
    client: httpx.AsyncClient, lang: str, words: str
) -> None:
    page = (await client.get("/new/sighting", params={"courthouse": "NLA", "lang": lang})).text
    assert f"{words} (America/Los_Angeles)" in page
    assert re.search(r'<option value="NLA" selected>', page)
    prefilled = re.search(r'id="observed_at"[^>]*value="([^"]+)"', page)
    assert prefilled
    shown = datetime.fromisoformat(prefilled.group(1)).replace(tzinfo=LOS_ANGELES)
    assert abs(shown - datetime.now(UTC)) < timedelta(minutes=2)


async def test_the_form_without_a_courthouse_names_the_default_zone(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/new/sighting")).text
    assert "Eastern time (America/New_York)" in page
    assert 'name="prefilled_zone" value="America/New_York"' in page


async def test_an_untouched_prefill_keeps_its_instant_when_a_far_courthouse_is_picked(
    client: httpx.AsyncClient, services: Services
) -> None:
    """No JavaScript: the form was pre-filled in New York time, then Los Angeles was picked."""
    page = (await client.get("/new/sighting")).text
    prefilled = re.search(r'name="prefilled_at" value="([^"]+)"', page)
    assert prefilled
    response, client_key = await post_form(
        client,
        "sighting",
        {
            "courthouse_code": "NLA",
            "observed_at": prefilled.group(1),
            "prefilled_at": prefilled.group(1),
            "prefilled_zone": "America/New_York",
        },
    )
    assert response.status_code == 201, response.text
    stored = datetime.fromisoformat(await stored_observed_at(client, services, client_key))
    opened = datetime.fromisoformat(prefilled.group(1)).replace(tzinfo=NEW_YORK)
    assert stored == opened


async def test_dst_gap_and_overlap_are_read_as_documented(
    client: httpx.AsyncClient, services: Services
) -> None:
    year = datetime.now(UTC).year - 1
    spring, autumn = nth_sunday(year, 3, 2), nth_sunday(year, 11, 1)
    # 02:30 does not exist on the spring-forward day: the same instant as 03:30 PDT.
    response, spring_key = await post_form(
        client, "sighting", {"courthouse_code": "NLA", "observed_at": f"{spring}T02:30"}
    )
    assert response.status_code == 201, response.text
    assert await stored_observed_at(client, services, spring_key) == f"{spring}T03:30:00-07:00"
    # 01:30 happens twice on the fall-back day: the first one (PDT) is taken.
    response, autumn_key = await post_form(
        client, "sighting", {"courthouse_code": "NLA", "observed_at": f"{autumn}T01:30"}
    )
    assert response.status_code == 201, response.text
    assert await stored_observed_at(client, services, autumn_key) == f"{autumn}T01:30:00-07:00"
    # Arizona keeps no daylight time: nothing moves there.
    assert localize(datetime.combine(spring, time(2, 30)), PHOENIX).isoformat() == (
        f"{spring}T02:30:00-07:00"
    )


async def test_a_phone_on_another_zone_is_told_when_the_form_comes_back(
    client: httpx.AsyncClient,
) -> None:
    response, _ = await post_form(
        client,
        "sighting",
        {"courthouse_code": "NYC", "observed_at": "not a time", "phone_utc_offset": "-480"},
    )
    assert response.status_code == 422
    assert "Your phone is on UTC\u221208:00; this courthouse is on Eastern time" in response.text


@pytest.mark.parametrize(
    "hostile",
    [
        {"prefilled_zone": "../../../../etc/passwd"},
        {"prefilled_zone": "America/New_York\x00"},
        {"prefilled_zone": "x" * 5000},
        {"phone_utc_offset": "\u0661\u0662\u0660"},
        {"phone_utc_offset": "9" * 5000},
        {"lat": "nan", "lon": "inf"},
        {"lat": "1e400", "lon": "-1e400"},
        {"observed_at": "9999-12-31T23:59"},
        {"observed_at": "0001-01-01T00:00"},
        {
            "observed_at": "2026-03-08T02:30",
            "prefilled_at": "2026-03-08T02:30",
            "prefilled_zone": "America",
        },
    ],
)
async def test_hostile_zone_fields_never_answer_5xx(
    client: httpx.AsyncClient, hostile: dict[str, str]
) -> None:
    fields = {"observed_at": "2026-01-05T10:00", "prefilled_at": "2026-01-05T10:00", **hostile}
    if "lat" not in hostile:
        fields["courthouse_code"] = "NLA"
    response, _ = await post_form(client, "sighting", fields)
    assert response.status_code < 500, response.text


# Sent percent-encoded as a browser would: NUL, CR/LF, a long value, a lone surrogate.
@pytest.mark.parametrize("code", ["%00", "NLA%0D%0AX", "x" * 5000, "%ED%A0%80"])
async def test_a_hostile_courthouse_in_the_form_address_is_ignored(
    client: httpx.AsyncClient, code: str
) -> None:
    response = await client.get(f"/new/sighting?courthouse={code}")
    assert response.status_code == 200
    assert "Eastern time (America/New_York)" in response.text
