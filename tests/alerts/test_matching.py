"""The one matching query against a plain-Python reading of the rules, on 10,000
subscriptions (courthouses, circles, kinds, minimum status, quiet hours in many zones)."""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest

from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from tests.alerts.conftest import until

N = 10_000
CODES = ["NYC", "SFR", "CHI", "MIA", "DEN", "ATL", "HON"]
ZONES = ["UTC", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Chatham"]
LEVEL = {"any": 0, "on_scene": 1, "verified": 2}
HERE = (40.7143, -74.0042)


@pytest.fixture
def projecting(database: Database, services: Services) -> Iterator[None]:
    supervisor = runner.Supervisor(database, [runner.ALERTS_SPEC])
    try:
        yield
    finally:
        supervisor.stop()


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(h)))


def inside(polygon: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    """Ray casting over (lat, lon) corners, edges straight in lon/lat."""
    lat, lon = point
    found = False
    for (lat1, lon1), (lat2, lon2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (lat1 > lat) != (lat2 > lat):
            crossing = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < crossing:
                found = not found
    return found


def near_an_edge(polygon: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    """Within about 100 m of an edge: where the pin as stored and PostgreSQL's
    fuzzy geometry (1e-6) may fairly disagree with this reading."""
    (py, px), limit = point, 0.001
    for (ay, ax), (by, bx) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
        if math.hypot(ax + t * dx - px, ay + t * dy - py) < limit:
            return True
    return False


def star(rng: random.Random) -> list[tuple[float, float]]:
    """A simple polygon (corners at increasing angles) near the report, its
    edges clear of the report's pin."""
    while True:
        centre = (HERE[0] + rng.uniform(-0.2, 0.2), HERE[1] + rng.uniform(-0.2, 0.2))
        angles = sorted(rng.uniform(0, math.tau) for _ in range(rng.randint(3, 30)))
        corners = [
            (centre[0] + r * math.sin(a), centre[1] + r * math.cos(a))
            for a in angles
            for r in [rng.uniform(0.01, 0.3)]
        ]
        if not near_an_edge(corners, HERE):
            return corners


def quiet(row: dict, at: datetime) -> bool:
    if row["quiet_start"] is None:
        return False
    local = at.astimezone(ZoneInfo(row["timezone"])).time().replace(tzinfo=None)
    start, end = row["quiet_start"], row["quiet_end"]
    return start <= local < end if start < end else local >= start or local < end


def expected(rows: list[dict], kind: str, level: int, before: int, at: datetime) -> set[uuid.UUID]:
    return {
        r["id"]
        for r in rows
        if before < LEVEL[r["min_status"]] <= level
        and (not r["kinds"] or kind in r["kinds"])
        and (
            "NYC" in r["courthouses"]
            or (r["radius_m"] and distance_m((r["lat"], r["lon"]), HERE) <= r["radius_m"])
            or (r["polygon"] and inside(r["polygon"], HERE))
        )
    }


def held_until(row: dict, at: datetime) -> datetime | None:
    """When a delivery held for quiet hours is sent: the next quiet_end in the zone."""
    if not quiet(row, at):
        return None
    zone = ZoneInfo(row["timezone"])
    local = at.astimezone(zone)
    day = local.date() + timedelta(
        days=1 if row["quiet_end"] <= local.time().replace(tzinfo=None) else 0
    )
    return datetime.combine(day, row["quiet_end"], tzinfo=zone)


def radius_clear_of_here(rng: random.Random, centre: tuple[float, float]) -> float:
    """A radius whose circle passes no closer than 200 m to the report's pin (a
    pin on the line is a matter of float rounding, not of the rules)."""
    while True:
        radius = rng.uniform(1000, 50000)
        if abs(distance_m(centre, HERE) - radius) > 200:
            return radius


def make_rows(seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(N):
        area = rng.random() < 0.45
        polygon = star(rng) if not area and rng.random() < 0.25 else None
        # Circles around the report, some just inside or outside their radius.
        lat = HERE[0] + rng.uniform(-0.5, 0.5) if area else None
        lon = HERE[1] + rng.uniform(-0.5, 0.5) if area else None
        start = clock(rng.randrange(24), rng.choice((0, 30))) if rng.random() < 0.3 else None
        end = clock(rng.randrange(24), 15) if start else None
        rows.append(
            {
                "id": uuid.uuid4(),
                "courthouses": []
                if (area or polygon) and rng.random() < 0.7
                else rng.sample(CODES, rng.randint(1, 3)),
                "lat": lat,
                "lon": lon,
                "radius_m": radius_clear_of_here(rng, (lat, lon)) if lat and lon else None,
                "polygon": polygon,
                "polygon_text": None
                if polygon is None
                else "(" + ",".join(f"({lon!r},{lat!r})" for lat, lon in polygon) + ")",
                "kinds": rng.choice(
                    [[], ["sighting"], ["courthouse_arrest"], ["sighting", "call_in"]]
                ),
                "min_status": rng.choice(list(LEVEL)),
                "quiet_start": start,
                "quiet_end": end,
                "timezone": rng.choice(ZONES),
            }
        )
    return rows


def delivered_to(database: Database, report_id: uuid.UUID) -> set[uuid.UUID]:
    with database.connect() as conn:
        return {
            r[0]
            for r in conn.execute(
                "SELECT subscription_id FROM alert_deliveries WHERE report_id = %s", (report_id,)
            )
        }


@pytest.mark.usefixtures("projecting")
def test_ten_thousand_subscriptions_match_as_the_rules_say_within_a_second(
    services: Services, database: Database
) -> None:
    rows = make_rows()
    member = uuid.uuid4()
    with database.connect() as conn, conn.cursor() as curs:
        curs.executemany(
            "INSERT INTO alert_subscriptions (id, member_id, courthouses, lat, lon, radius_m, "
            "area_polygon, kinds, min_status, min_level, quiet_start, quiet_end, timezone, channel) "
            "VALUES (%(id)s, %(member)s, %(courthouses)s, %(lat)s, %(lon)s, %(radius_m)s, "
            "%(polygon_text)s::polygon, %(kinds)s, "
            "%(min_status)s, %(level)s, %(quiet_start)s, %(quiet_end)s, %(timezone)s, 'push')",
            [{**r, "member": member, "level": LEVEL[r["min_status"]]} for r in rows],
        )
    body = {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "lat": HERE[0],
        "lon": HERE[1],
        "observed_at": datetime.now().astimezone().isoformat(),
    }
    began = time.monotonic()
    result = services.app.submit(body, uuid.uuid4().hex)
    assert result.position is not None
    until(lambda: runner.position_of(database, runner.ALERTS_SPEC) >= result.position, timeout=30)
    took = time.monotonic() - began
    with database.connect() as conn:
        row = conn.execute(
            "SELECT submitted_at FROM alert_reports WHERE report_id = %s", (result.report_id,)
        ).fetchone()
    assert row is not None
    at = row[0]
    want = expected(rows, "sighting", 0, -1, at)
    assert len(want) > 500  # a test of many matches, not of none
    assert delivered_to(database, result.report_id) == want
    assert took < 5.0, took
    # Quiet hours hold a delivery until they end, in the subscriber's zone.
    with database.connect() as conn:
        held = dict(
            conn.execute(
                "SELECT subscription_id, held_until FROM alert_deliveries WHERE report_id = %s",
                (result.report_id,),
            ).fetchall()
        )
    by_id = {r["id"]: r for r in rows}
    assert held == {sid: held_until(by_id[sid], at) for sid in want}
    assert sum(v is not None for v in held.values()) > 50
    # Drawn areas, inside and out, as the plain-Python reading says.
    polygons = [r for r in rows if r["polygon"] and not r["courthouses"]]
    assert sum(r["id"] in want for r in polygons) > 20
    assert sum(r["id"] not in want for r in polygons) > 20

    # A member confirms it on scene: the "on_scene" subscribers are added, no one twice.
    confirmed = services.app.confirm_on_scene(result.report_id, "Ana")
    assert confirmed is not None
    until(lambda: runner.position_of(database, runner.ALERTS_SPEC) >= confirmed, timeout=30)
    with database.connect() as conn:
        at_confirmed = conn.execute(
            "SELECT max(report_at) FROM alert_deliveries WHERE report_id = %s AND trigger = 'corroborated'",
            (result.report_id,),
        ).fetchone()[0]  # type: ignore[index]
    assert at_confirmed is not None
    assert delivered_to(database, result.report_id) == want | expected(
        rows, "sighting", 1, 0, at_confirmed
    )
