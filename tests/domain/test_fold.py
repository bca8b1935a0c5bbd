"""One fold of a report's state: the aggregate and the read models agree on every event."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from courtwatch.domain.fold import status_of
from courtwatch.domain.pipeline import ADDED_FIELDS
from courtwatch.domain.reports import CourthouseArrest, Report, Sighting, WatchShift, evolve
from courtwatch.domain.vocabulary import Status

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TOKEN = "secret-token"


def folded(report: Report) -> dict:
    state = None
    for domain_event in report.collect_events():
        state = evolve(state, domain_event)
    assert state is not None
    return state


def aggregate_state(report: Report) -> dict:
    return {
        "kind": report.kind.value,
        "courthouse_code": report.courthouse_code,
        "lat": report.lat,
        "lon": report.lon,
        "observed_at": report.observed_at,
        "details": report.details,
        "verdict": report.verdict,
        "corroborations": len(report.corroborator_hashes),
        "claimed_by": report.claimed_by,
        "on_scene_by": report.on_scene_by,
        "resolved_by": report.resolved_by,
    }


def test_an_amended_verified_arrest_with_an_outcome_folds_as_the_aggregate_says() -> None:
    report = CourthouseArrest.submit(
        uuid4(),
        courthouse_code="NYC",
        lat=40.713,
        lon=-74.006,
        observed_at=NOW - timedelta(hours=2),
        details={"agency": "unknown", "outcome": "unknown", "taken_to": None},
        author_token=TOKEN,
        now=NOW,
    )
    assert isinstance(report, CourthouseArrest)
    report.amend(
        token=TOKEN,
        changes={
            "courthouse_code": "BOS",
            "lat": 42.36,
            "lon": -71.06,
            "observed_at": NOW - timedelta(hours=1),
            "agency": "ice_ero",
        },
        now=NOW,
    )
    report.corroborate(corroborator_hash="a" * 64)
    report.verify("verifier-1")
    report.record_outcome(token=TOKEN, outcome={"outcome": "detained"})
    state = folded(report)
    assert state == aggregate_state(report)
    assert state["courthouse_code"] == "BOS" and state["observed_at"] == NOW - timedelta(hours=1)
    # The pipeline fields this submission did not carry read as "not known".
    assert state["details"] == {
        **ADDED_FIELDS["courthouse_arrest"],
        **{"agency": "ice_ero", "outcome": "detained", "taken_to": None},
    }
    assert status_of(state["verdict"]) is report.status is Status.VERIFIED
    assert state["corroborations"] == 1


def test_an_ended_shift_folds_as_the_aggregate_says() -> None:
    shift = WatchShift.submit(
        uuid4(),
        courthouse_code="NYC",
        lat=None,
        lon=None,
        observed_at=NOW - timedelta(hours=3),
        details={"ended_at": None},
        author_token=TOKEN,
        now=NOW,
    )
    assert isinstance(shift, WatchShift)
    shift.end_shift(token=TOKEN, ended_at=NOW - timedelta(minutes=5), now=NOW)
    shift.dispute("verifier-1", "not_found_on_scene")
    state = folded(shift)
    assert state == aggregate_state(shift)
    assert state["details"]["ended_at"] == (NOW - timedelta(minutes=5)).isoformat()


def test_a_verified_report_amended_folds_to_changed_since_verified_everywhere() -> None:
    report = Sighting.submit(
        uuid4(),
        courthouse_code="NYC",
        lat=40.713,
        lon=-74.006,
        observed_at=NOW - timedelta(hours=2),
        details={"agents_count": 2},
        author_token=TOKEN,
        now=NOW,
    )
    report.verify("verifier-1")
    report.amend(
        token=TOKEN,
        changes={"courthouse_code": "BOS", "lat": 42.36, "lon": -71.06, "agents_count": 60},
        now=NOW,
    )
    events = report.collect_events()
    state = None
    for domain_event in events:
        state = evolve(state, domain_event)
    assert state == aggregate_state(report)
    assert state["verdict"] == "amended_after_verdict"
    assert status_of(state["verdict"]) is report.status is Status.AMENDED_AFTER_VERDICT
    assert (state["lat"], state["lon"]) == (42.36, -71.06)
    report.verify("verifier-2")
    for domain_event in report.collect_events():
        state = evolve(state, domain_event)
    assert status_of(state["verdict"]) is report.status is Status.VERIFIED


def test_no_number_of_corroborations_gives_a_status() -> None:
    assert status_of(None) is Status.UNVERIFIED
    report = Sighting.submit(
        uuid4(),
        courthouse_code="NYC",
        lat=None,
        lon=None,
        observed_at=NOW - timedelta(hours=2),
        details={},
        author_token=TOKEN,
        now=NOW,
    )
    for n in range(20):
        report.corroborate(corroborator_hash=f"{n:064x}")
    state = folded(report)
    assert state["corroborations"] == 20
    assert status_of(state["verdict"]) is report.status is Status.UNVERIFIED


def test_an_outcome_that_rewrites_a_known_value_after_verification_needs_a_new_verdict() -> None:
    report = CourthouseArrest.submit(
        uuid4(),
        courthouse_code="NYC",
        lat=None,
        lon=None,
        observed_at=NOW - timedelta(hours=2),
        details={"outcome": "detained", "taken_to": "unknown"},
        author_token=TOKEN,
        now=NOW,
    )
    assert isinstance(report, CourthouseArrest)
    report.verify("verifier-1")
    # Learned later: where the person was taken was not known when verified.
    report.record_outcome(token=TOKEN, outcome={"taken_to": "ice_processing_center"})
    assert report.status.value == "verified"
    # Rewritten: the verified outcome itself changes.
    report.record_outcome(token=TOKEN, outcome={"outcome": "released"})
    assert report.status.value == "amended_after_verdict"
    assert folded(report) == aggregate_state(report)
