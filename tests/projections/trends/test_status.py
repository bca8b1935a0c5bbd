"""The trend "status" dimension follows the one fold: verdicts only, and amendments undo them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from courtwatch.application import Courtwatch
from courtwatch.infrastructure.database import Database
from projections.trends.projection import cells_of
from tests.projections.trends.conftest import NOW


def statuses(database: Database) -> dict[str, int]:
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT value, sum(n) FROM trend_counts WHERE dimension = 'status' "
            "GROUP BY value HAVING sum(n) <> 0"
        ).fetchall()
    return {value: int(n) for value, n in rows}


def sighting(app: Courtwatch, key: str, courthouse: str = "NYC") -> tuple[str, str]:
    result = app.submit(
        {
            "kind": "sighting",
            "courthouse_code": courthouse,
            "observed_at": (NOW - timedelta(hours=2)).isoformat(),
        },
        key,
    )
    return str(result.report_id), result.author_token


def test_amended_after_verdict_and_uncorroborated_statuses_are_counted(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    amended_id, token = sighting(app, "amended-after-verdict-0001")
    app.verify(UUID(amended_id), "maria")
    app.amend(UUID(amended_id), token, {"courthouse_code": "BOS", "agents_count": 60})
    flooded_id, _ = sighting(app, "corroborated-twenty-times-01")
    for n in range(20):
        app.corroborate(UUID(flooded_id), f"someone-else-entirely-{n:04d}")
    verified_id, _ = sighting(app, "verified-and-left-alone-001")
    app.verify(UUID(verified_id), "maria")
    catch_up()
    assert statuses(database) == {"amended_after_verdict": 1, "unverified": 1, "verified": 1}

    app.verify(UUID(amended_id), "jo")
    catch_up()
    assert statuses(database) == {"unverified": 1, "verified": 2}


def test_a_state_counted_by_the_old_rule_is_taken_away_by_that_rule() -> None:
    # Written before corroboration stopped being a status: no "status" key.
    old = {
        "kind": "sighting",
        "courthouse_code": "NYC",
        "observed_at": NOW.isoformat(),
        "details": {},
        "verdict": None,
        "corroborations": 3,
    }
    counts, _ = cells_of(old, ZoneInfo("America/New_York"))
    assert [k[4] for k in counts if k[3] == "status"] == ["corroborated"]
    counts, _ = cells_of({**old, "status": "unverified"}, ZoneInfo("America/New_York"))
    assert [k[4] for k in counts if k[3] == "status"] == ["unverified"]
