"""A view's rows do not depend on where the runner's batches happened to end:
an event handled in the batch of its report's earlier events gives the same
rows as one handled in a batch of its own (live, caught up)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from tests.projections.test_parking import catch_up, submit


def _feed(database: Database) -> list[tuple]:
    with database.connect() as conn:
        return conn.execute(
            "SELECT position, report_id, event, state FROM activity_feed ORDER BY position"
        ).fetchall()


def test_a_reports_feed_rows_are_the_same_in_one_batch_or_one_event_at_a_time(
    services: Services, database: Database
) -> None:
    # Before: a later event's feed row was folded from the row read back from
    # the database when alone in its batch (observed_at in the session's time
    # zone), but from the in-memory row when in its report's batch (observed_at
    # with the offset the reporter sent), so a replay gave other feed rows.
    spec = runner.LIVE_MAP_SPEC
    new_york = timezone(timedelta(hours=-5))
    observed = (datetime.now(UTC) - timedelta(hours=1)).astimezone(new_york).isoformat()
    report_id, _, _ = submit(services, observed_at=observed)
    catch_up(database, [spec])  # the submission alone
    services.app.corroborate(report_id, uuid.uuid4().hex)
    catch_up(database, [spec])  # the corroboration alone
    one_at_a_time = _feed(database)
    assert len(one_at_a_time) == 2

    runner.drop_views(database, [spec])
    catch_up(database, [spec])  # both in one batch
    assert _feed(database) == one_at_a_time
