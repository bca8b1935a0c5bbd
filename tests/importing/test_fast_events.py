"""The import's fast path (Courtwatch.prepare_import_events) stores exactly
what the report-building path (prepare_import, then the mapper) stored: same
ids, same topics, same state bytes, or the same reasons to reject.

Pure: an in-memory application, no database. Timestamps are the one thing
the two paths make on their own, so both read one fixed clock here.
"""

from __future__ import annotations

import enum
import random
import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.domain import CanCreateTimestamp

from courtwatch.application import Courtwatch
from courtwatch.domain.reports import hash_token
from courtwatch.gazetteer import immigration_courts
from courtwatch.importing.importer import imported_report_id, row_key
from courtwatch.intake import MODELS, ValidationFailed

SHA = "ab" * 32
TOKEN = "an-import-run-token"
NOW = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
EVENT_TIME = datetime(2026, 11, 23, 21, 0, 0, 123456, tzinfo=UTC)
COMMON = {"kind", "courthouse_code", "lat", "lon", "observed_at"}


def _choices(annotation: Any) -> list[Any]:
    """Values a field may be sent as, hostile-ish ones included."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [None, *(v for a in args if a is not type(None) for v in _choices(a))]
    if typing.get_origin(annotation) is typing.Annotated:
        return _choices(args[0])
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [m.value for m in annotation]
    if annotation is date:
        return ["2016-02-29", "2001-01-01", "2019-12-31", "2026-11-30", "1999-12-31"]
    if annotation is int:
        return [0, 1, 3, 12, 100]
    return []


def _payload(rng: random.Random, kind: str) -> dict[str, Any]:
    offset = timezone(timedelta(minutes=rng.choice([-300, -240, 0, 330, 840])))
    observed = datetime(rng.randint(2000, 2026), rng.randint(1, 12), rng.randint(1, 28),
                        rng.randint(0, 23), rng.randint(0, 59), rng.choice([0, 7, 59]),
                        rng.choice([0, 1, 999999]), tzinfo=offset)  # fmt: skip
    payload: dict[str, Any] = {"kind": kind, "observed_at": observed.isoformat()}
    place = rng.random()
    courts = immigration_courts()
    if place < 0.5:
        payload["courthouse_code"] = rng.choice(courts).code
    if place > 0.3:
        # Many decimals: a dropped pin is rounded, on both paths alike.
        payload["lat"] = rng.uniform(25, 48)
        payload["lon"] = rng.uniform(-124, -67)
    if place < 0.02:
        payload["courthouse_code"] = "NO-SUCH-COURT"
    for name, field in MODELS[kind].model_fields.items():
        if name in COMMON or rng.random() < 0.2:
            continue  # left out: the field's default
        if name == "ended_at":
            payload[name] = (observed + timedelta(hours=rng.choice([1, 8, 17]))).isoformat()
            continue
        choices = _choices(field.annotation)
        if choices:
            payload[name] = rng.choice(choices)
    return payload


def _slow(app: Courtwatch, payload: dict[str, Any], sha: str, row: int) -> Any:
    """The report-building path, as the import stored rows before."""
    report = app.prepare_import(
        payload, lambda s: imported_report_id(row_key(s), 1), sha, row, TOKEN
    )
    return report.id, [app.mapper.to_stored_event(e) for e in report.collect_events()]


def _fast(app: Courtwatch, payload: dict[str, Any], sha: str, row: int) -> Any:
    return app.prepare_import_events(
        payload, lambda s, d: imported_report_id(row_key(s, d), 1), sha, row, hash_token(TOKEN)
    )


def _outcome(make: Any, *args: Any) -> Any:
    try:
        return make(*args)
    except ValidationFailed as error:
        return ("rejected", [(p.field, p.reason) for p in error.problems])


def _rows(outcome: Any) -> Any:
    if outcome[0] == "rejected":
        return outcome
    report_id, events = outcome
    return report_id, [(e.originator_id, e.originator_version, e.topic, e.state) for e in events]


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Courtwatch:
    monkeypatch.setattr(CanCreateTimestamp, "create_timestamp", staticmethod(lambda: EVENT_TIME))
    return Courtwatch(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        courthouses=list(immigration_courts()),
        clock=lambda: NOW,
    )


def test_the_fast_path_stores_the_same_events_as_building_the_report(app: Courtwatch) -> None:
    rng = random.Random(14)
    kinds = list(MODELS)
    stored = rejected = 0
    for row in range(2, 1202):
        payload = _payload(rng, kinds[row % len(kinds)])

        # Byte for byte: the id, the version, the topic and the state bytes
        # (StoredEvent objects do not compare by value), or the same reasons.
        expected = _outcome(_slow, app, payload, SHA, row)
        got = _outcome(_fast, app, payload, SHA, row)
        assert _rows(got) == _rows(expected), payload
        if expected[0] == "rejected":
            rejected += 1
        else:
            stored += 1
    # The sample exercised both sides, every kind stored.
    assert stored > 600 and rejected > 50, (stored, rejected)


def test_the_fast_path_checks_the_source_as_mark_imported_does(app: Courtwatch) -> None:
    payload = {"kind": "sighting", "courthouse_code": immigration_courts()[0].code,
               "observed_at": "2019-05-01T10:00:00-04:00"}  # fmt: skip
    for sha, row in (("AB" * 32, 2), (SHA, 0), (SHA, True)):
        fast = _outcome(_fast, app, payload, sha, row)
        slow = _outcome(_slow, app, payload, sha, row)
        assert fast == slow and fast[0] == "rejected", (sha, row)
