"""What exactly gets hashed when an event enters the log.

A lawyer's expert must be able to recompute a record's leaf hash from what the
bundle shows, with their own code. So the canonical form is plain JSON (no
eventsourcing type tags), deterministic, frozen by golden vectors, and defined
even for a row that was damaged or tampered with.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

from courtwatch.transparency.canonical import (
    canonical_bytes,
    canonical_event,
    canonical_event_leaf_hash,
    canonical_json,
    event_leaf_hash,
    strict_json_loads,
)

CASES = json.loads(
    (Path(__file__).parent.parent / "vectors" / "canonical-events" / "cases.json").read_text()
)
REPORT_ID = UUID("3f2b8c1e-7d4a-4e2b-9f10-6a5c2d8e9b01")


class Arrest(Aggregate):
    """A stand-in for a report aggregate, with every type eventsourcing tags."""

    @event("Reported")
    def __init__(self, courthouse_id: UUID, seen_at: datetime, agents: int, hours: Decimal) -> None:
        self.courthouse_id = courthouse_id
        self.seen_at = seen_at
        self.agents = agents
        self.hours = hours

    @event("OutcomeRecorded")
    def record_outcome(self, outcome: str, taken_to: str | None) -> None:
        self.outcome = outcome


def stored_events(aggregate: Aggregate) -> list[StoredEvent]:
    # The same transcodings an eventsourcing Application registers by default.
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    mapper: Mapper[UUID] = Mapper(transcoder=transcoder)
    return [mapper.to_stored_event(e) for e in aggregate.collect_events()]


def canonical_of(stored: StoredEvent) -> dict[str, Any]:
    return canonical_event(
        stored.originator_id, stored.originator_version, stored.topic, stored.state
    )


@pytest.mark.parametrize("case", CASES, ids=[c["desc"][:60] for c in CASES])
def test_golden_vectors_never_change(case: dict[str, Any]) -> None:
    # If this fails, every leaf already in every log would stop verifying.
    state = base64.b64decode(case["state_base64"])
    row = (case["originator_id"], case["originator_version"], case["topic"], state)
    assert canonical_bytes(*row).decode("utf-8") == case["canonical"]
    assert event_leaf_hash(*row).hex() == case["leaf_hash"]
    expected = hashlib.sha256(b"\x00" + case["canonical"].encode("utf-8")).hexdigest()
    assert case["leaf_hash"] == expected


def test_a_real_eventsourcing_event_becomes_plain_json() -> None:
    courthouse = uuid4()
    seen_at = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    arrest = Arrest(courthouse_id=courthouse, seen_at=seen_at, agents=3, hours=Decimal("2.50"))
    arrest.record_outcome("detained", taken_to=None)
    reported, outcome = stored_events(arrest)

    first = canonical_of(reported)
    assert first["id"] == str(arrest.id)
    assert first["version"] == 1
    assert first["topic"] == reported.topic
    assert first["timestamp"] == arrest.created_on.isoformat()
    assert first["payload"] == {
        "courthouse_id": courthouse.hex,
        "seen_at": "2026-11-22T20:00:00+00:00",
        "agents": 3,
        "hours": "2.50",
        "originator_topic": first["payload"]["originator_topic"],
    }
    second = canonical_of(outcome)
    assert second["version"] == 2
    assert second["payload"] == {"outcome": "detained", "taken_to": None}
    assert (
        "_type_"
        not in canonical_bytes(
            reported.originator_id, reported.originator_version, reported.topic, reported.state
        ).decode()
    )


def test_the_same_row_always_gives_the_same_bytes() -> None:
    row = (REPORT_ID, 3, "t", b'{"b":1,"a":{"_type_":"uuid_hex","_data_":"ff"}}')
    assert canonical_bytes(*row) == canonical_bytes(*row)
    # Member order and whitespace in the stored JSON are not part of the content.
    assert canonical_bytes(*row) == canonical_bytes(
        REPORT_ID, 3, "t", b'{ "a" : {"_data_":"ff","_type_":"uuid_hex"}, "b" : 1 }'
    )
    assert canonical_bytes(*row) == canonical_bytes(str(REPORT_ID).upper(), 3, "t", row[3])


@pytest.mark.parametrize(
    "change",
    [
        (REPORT_ID, 4, "t", b'{"agents":3}'),
        (uuid4(), 3, "t", b'{"agents":3}'),
        (REPORT_ID, 3, "u", b'{"agents":3}'),
        (REPORT_ID, 3, "t", b'{"agents":4}'),
        (REPORT_ID, 3, "t", b'{"agents":"3"}'),
        (REPORT_ID, 3, "t", b'{"agents":3,"note":null}'),
    ],
)
def test_any_change_to_an_event_changes_its_leaf(change: tuple[Any, ...]) -> None:
    assert event_leaf_hash(*change) != event_leaf_hash(REPORT_ID, 3, "t", b'{"agents":3}')


def test_a_damaged_row_gets_a_deterministic_leaf_instead_of_a_crash() -> None:
    rng = random.Random(8785)
    good = b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-22T20:00:00+00:00"}}'
    leaves = {event_leaf_hash(REPORT_ID, 1, "t", good)}
    for _ in range(300):
        damaged = bytearray(good)
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        first = canonical_event(REPORT_ID, 1, "t", bytes(damaged))
        assert first == canonical_event(REPORT_ID, 1, "t", bytes(damaged))
        leaves.add(event_leaf_hash(REPORT_ID, 1, "t", bytes(damaged)))
    assert len(leaves) > 250  # distinct damage, distinct leaves


@pytest.mark.parametrize(
    "state",
    [
        b"\xff\xfe",
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":1e400}',
        b'{"a":"\\ud800"}',
        b'"just a string"',
        b"\xef\xbb\xbf{}",
        b'{"a":' + b"[" * 65 + b"]" * 65 + b"}",
        b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"a":' + b'{"_type_":"x","_data_":' * 5_000 + b"1" + b"}" * 5_001,
    ],
    ids=[
        "not-utf8",
        "nan",
        "infinity",
        "overflowing-float",
        "lone-surrogate",
        "not-an-object",
        "byte-order-mark",
        "nested-65-deep",
        "nested-100k-deep",
        "nested-tags-5k-deep",
    ],
)
def test_states_json_cannot_represent_exactly_are_kept_as_raw_bytes(state: bytes) -> None:
    result = canonical_event(REPORT_ID, 1, "t", state)
    assert result == {
        "id": str(REPORT_ID),
        "version": 1,
        "topic": "t",
        "undecodable_state": base64.b64encode(state).decode(),
    }


def test_nesting_up_to_the_limit_is_still_decoded() -> None:
    # Depth 64 counting the state object itself: 63 levels of arrays inside it.
    state = b'{"a":' + b"[" * 63 + b"]" * 63 + b"}"
    assert "payload" in canonical_event(REPORT_ID, 1, "t", state)
    # Brackets inside strings are text, not nesting.
    state = b'{"a":"' + b"[" * 200 + b'"}'
    assert canonical_event(REPORT_ID, 1, "t", state)["payload"] == {"a": "[" * 200}


def test_a_verifier_reading_the_canonical_json_back_gets_the_same_bytes() -> None:
    # The offline verifier parses events.jsonl and re-canonicalises: this must be exact.
    for case in CASES:
        value = strict_json_loads(case["canonical"])
        assert canonical_json(value).decode() == case["canonical"]
        assert canonical_event_leaf_hash(value).hex() == case["leaf_hash"]


def test_the_verifier_refuses_json_that_two_readers_could_read_differently() -> None:
    with pytest.raises(ValueError, match="duplicated"):
        strict_json_loads('{"agents":1,"agents":2}')
    with pytest.raises(ValueError, match="NaN"):
        strict_json_loads('{"agents":NaN}')


def test_a_version_must_be_a_real_integer() -> None:
    with pytest.raises(TypeError):
        canonical_event(REPORT_ID, True, "t", b"{}")
