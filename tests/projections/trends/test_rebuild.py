"""The batched rebuild (for big logs) gives the same tables as the live projection."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from courtwatch import demo
from courtwatch.application import Courtwatch
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.database import Database
from projections import runner
from projections.trends import rebuild as trends_rebuild
from tests.projections.trends.conftest import NOW

TABLES = {
    "trend_counts": "SELECT day, courthouse_code, kind, dimension, value, n FROM trend_counts "
    "WHERE n <> 0 ORDER BY 1, 2, 3, 4, 5",
    "trend_watch": "SELECT day, courthouse_code, seconds FROM trend_watch WHERE seconds <> 0 ORDER BY 1, 2",
    "trend_reports": "SELECT report_id, state FROM trend_reports ORDER BY 1",
    "trend_meta": "SELECT zone, events FROM trend_meta",
}


def snapshot(database: Database) -> dict[str, list[tuple[object, ...]]]:
    with database.connect() as conn:
        tables = {name: conn.execute(sql).fetchall() for name, sql in TABLES.items()}  # type: ignore[arg-type]
    tables["position"] = [(runner.position_of(database, runner.TREND_SPEC),)]
    return tables


def test_a_batched_rebuild_equals_the_live_projection_and_the_live_one_carries_on(
    database: Database, app: Courtwatch, catch_up: Callable[[], None]
) -> None:
    demo.generate(app, reports=1500, now=NOW, days=40, zone=ZoneInfo("America/New_York"), seed=9)
    catch_up()
    live = snapshot(database)

    trends_rebuild.rebuild(database, "America/New_York")
    assert snapshot(database) == live

    # The live projection picks up where the rebuild stopped.
    demo.generate(app, reports=50, now=NOW, days=5, zone=ZoneInfo("America/New_York"), seed=10)
    catch_up()
    assert snapshot(database)["position"] == [(event_log.head(database),)]
