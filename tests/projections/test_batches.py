"""Catch-up in batches (issue 16): pure checks of the pieces the runner and the
live map's batch writes rely on. The database side (one transaction per batch,
exactly once after SIGKILL) is in test_parking.py and test_rebuild_all.py."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from queue import Queue
from typing import Any

from eventsourcing.persistence import Tracking

from projections import runner
from projections.live_map.projection import json_text, state_json


def test_json_text_stores_what_jsonb_of_state_json_stored() -> None:
    row = {
        "report_id": uuid.uuid4(),
        "observed_at": datetime(1, 1, 1, tzinfo=UTC),
        "updated_at": datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
        "details": {"nested": [{"at": datetime(2026, 1, 1, tzinfo=UTC)}], "n": 10**50},
        "claimed_by": ["maría", "\u2028", "\ud800", "x\u0001"],
        "verdict": None,
        "lat": 40.7,
    }
    before = json.dumps(state_json(row))  # what Jsonb(...) sent: psycopg's default dumps
    assert json.loads(json_text(row)) == json.loads(before)
    assert "\\ud800" in json_text(row)  # escaped: PostgreSQL refuses it, as it did


class _Pages:
    """Stands in for eventsourcing's ListenNotifySubscription: a current page and a queue."""

    def __init__(self, pages: list[list[int]]) -> None:
        self._notifications: list[int] = []
        self._notifications_index = 0
        self._notifications_queue: Queue[list[int]] = Queue()
        for page in pages:
            self._notifications_queue.put(page)


class _Subscription:
    def __init__(self, pages: list[list[int]]) -> None:
        self.subscription = _Pages(pages)

    def __iter__(self) -> _Subscription:
        return self

    def __next__(self) -> tuple[Any, Tracking]:
        pages = self.subscription
        if pages._notifications_index == len(pages._notifications):
            if pages._notifications_queue.empty():
                raise StopIteration  # the real one waits here: caught up
            pages._notifications = pages._notifications_queue.get()
            pages._notifications_index = 0
        value = pages._notifications[pages._notifications_index]
        pages._notifications_index += 1
        return value, Tracking("Courtwatch", value)


def test_a_backlog_comes_in_full_batches_and_a_caught_up_event_alone(monkeypatch: Any) -> None:
    monkeypatch.setattr(runner, "ListenNotifySubscription", _Pages)
    backlog = _Subscription([list(range(1, 501)), list(range(501, 1001)), [1001, 1002]])
    sizes = [len(b) for b in runner.batches(backlog, limit=400)]  # type: ignore[arg-type]
    assert sizes == [400, 400, 202]
    # Nothing read ahead: the one event at hand is handled at once.
    assert [len(b) for b in runner.batches(_Subscription([[7]]))] == [1]  # type: ignore[arg-type]
