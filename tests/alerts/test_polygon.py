"""Drawn areas (polygons): what the guard refuses (pure), and matching by the one
query against a plain-Python point-in-polygon (in test_matching.py)."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from courtwatch.alerts.model import InvalidAlertField, PolygonArea, check_subscription
from courtwatch.alerts.store import polygon_from_text, polygon_text
from courtwatch.services import Services
from tests.members.tokens import member_token

SQUARE = [
    {"lat": 40.70, "lon": -74.02},
    {"lat": 40.70, "lon": -73.98},
    {"lat": 40.74, "lon": -73.98},
    {"lat": 40.74, "lon": -74.02},
]


def corners(*pairs: tuple[Any, Any]) -> list[dict[str, Any]]:
    return [{"lat": lat, "lon": lon} for lat, lon in pairs]


def drawn(polygon: Any) -> dict[str, Any]:
    return {"area": {"polygon": polygon}}


def test_a_drawn_square_is_kept_as_drawn_and_a_closed_ring_is_the_same() -> None:
    spec = check_subscription(drawn(SQUARE))
    assert isinstance(spec.area, PolygonArea)
    assert spec.area.points == tuple((c["lat"], c["lon"]) for c in SQUARE)
    assert check_subscription(drawn([*SQUARE, SQUARE[0]])).area == spec.area
    # Through PostgreSQL's text form and back: every digit kept.
    odd = PolygonArea(((40.123456789012345, -74.1), (40.2, -74.0000000001), (40.3, -74.05)))
    assert polygon_from_text(polygon_text(odd).replace("(", "((", 1) + ")") == odd


CIRCLE_AROUND = [
    {
        "lat": 40.7 + 0.01 * math.sin(a / 100 * math.tau),
        "lon": -74 + 0.01 * math.cos(a / 100 * math.tau),
    }
    for a in range(100)
]

HOSTILE = {
    "ten thousand corners": [{"lat": 40.7, "lon": -74.0}] * 10_000,
    "101 corners": [
        {
            "lat": 40.7 + 0.01 * math.sin(a / 101 * math.tau),
            "lon": -74 + 0.01 * math.cos(a / 101 * math.tau),
        }
        for a in range(101)
    ],
    "two corners": SQUARE[:2],
    "not a list": {"lat": 1, "lon": 2},
    "a string": "((0,0),(1,1),(1,0))",
    "NaN": corners((math.nan, -74.0), (40.7, -73.9), (40.8, -74.0)),
    "Infinity": corners((40.7, math.inf), (40.7, -73.9), (40.8, -74.0)),
    "latitude 91": corners((91, -74.0), (90, -73.9), (89.5, -74.0)),
    "longitude -181": corners((40.7, -181), (40.7, -179.5), (40.8, -180)),
    "5,000 digits": corners((4 * 10**5000, -74.0), (40.7, -73.9), (40.8, -74.0)),
    "a bool": corners((True, -74.0), (40.7, -73.9), (40.8, -74.0)),
    "a numeric string": corners(("40.7", -74.0), (40.7, -73.9), (40.8, -74.0)),
    "a nested list": [[[[40.7, -74.0]]]] * 3,
    "an extra key": [{**SQUARE[0], "alt": 3}, *SQUARE[1:]],
    "a bow tie": corners((40.70, -74.02), (40.74, -73.98), (40.70, -73.98), (40.74, -74.02)),
    "a repeated corner": [SQUARE[0], SQUARE[1], SQUARE[0], SQUARE[2]],
    "no area (a line)": corners((40.70, -74.0), (40.71, -74.0), (40.72, -74.0)),
    "folds back on itself": corners((40.70, -74.0), (40.72, -74.0), (40.71, -74.0), (40.71, -73.9)),
    "a corner on another edge": corners(
        (40.70, -74.02), (40.70, -73.98), (40.74, -73.98), (40.70, -74.00), (40.74, -74.02)
    ),
    "across the antimeridian": corners((10, 179.5), (10, -179.5), (11, -179.5), (11, 179.5)),
    "a continent": corners((25, -125), (49, -125), (49, -67), (25, -67)),
}


@pytest.mark.parametrize("polygon", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_polygons_are_refused(polygon: Any) -> None:
    with pytest.raises(InvalidAlertField):
        check_subscription(drawn(polygon))


def test_a_hundred_corners_are_allowed() -> None:
    spec = check_subscription(drawn(CIRCLE_AROUND))
    assert isinstance(spec.area, PolygonArea) and len(spec.area.points) == 100


async def test_a_polygon_through_the_api_is_stored_and_a_refused_one_is_not(
    client: httpx.AsyncClient, services: Services
) -> None:
    headers = {"Authorization": f"Bearer {member_token(services, 'Rosa', 'responder')}"}
    made = await client.post("/api/alerts/subscriptions", json=drawn(SQUARE), headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["area"] == {"polygon": SQUARE}
    listed = (await client.get("/api/alerts/subscriptions", headers=headers)).json()
    assert [s["area"] for s in listed["subscriptions"]] == [{"polygon": SQUARE}]
    for name in ("ten thousand corners", "a bow tie", "NaN"):
        body = drawn(HOSTILE[name])
        raw = (
            httpx.Request("POST", "/", json=body).content
            if name != "NaN"
            else (
                b'{"area": {"polygon": [{"lat": NaN, "lon": -74}, {"lat": 40.7, "lon": -73.9},'
                b' {"lat": 40.8, "lon": -74}]}}'
            )
        )
        try:
            answer = await client.post(
                "/api/alerts/subscriptions",
                content=raw,
                headers={**headers, "Content-Type": "application/json"},
            )
        except httpx.ReadError:
            # 10,000 corners are over the body limit: the server answers 413 on the
            # declared length and closes while the client may still be sending.
            assert name == "ten thousand corners"
            continue
        assert 400 <= answer.status_code < 500, (name, answer.status_code)
    listed = (await client.get("/api/alerts/subscriptions", headers=headers)).json()
    assert len(listed["subscriptions"]) == 1
