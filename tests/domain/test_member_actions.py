"""Members' actions on a report: I'm going, on scene, resolved. Idempotent by
state, folded by the one fold, and only an on-scene confirmation by a member
(never anonymous counts) makes a report corroborated."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from courtwatch.domain.errors import AlreadyResolved, InvalidField, NotApplicable
from courtwatch.domain.fold import status_of
from courtwatch.domain.reports import REPORT_TOPICS, Report, Sighting, WatchShift, evolve
from courtwatch.domain.vocabulary import Status
from tests.domain.test_fold import aggregate_state, folded

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TOKEN = "secret-token"


def sighting() -> Report:
    return Sighting.submit(
        uuid4(),
        courthouse_code="NYC",
        lat=40.713,
        lon=-74.006,
        observed_at=NOW - timedelta(minutes=20),
        details={"agents_count": 3},
        author_token=TOKEN,
        now=NOW,
    )


def new_events(report: Report) -> list[str]:
    return [type(e).__name__ for e in report.collect_events()]


def test_claim_on_scene_and_resolve_are_events_folded_as_the_aggregate_says() -> None:
    report = sighting()
    report.claim("Río 7")
    report.claim("Ana")
    report.confirm_on_scene("Río 7")
    report.resolve("Ana")
    state = folded(report)
    assert state == aggregate_state(report)
    assert state["claimed_by"] == ["Río 7", "Ana"]
    assert state["on_scene_by"] == ["Río 7"]
    assert state["resolved_by"] == "Ana"
    assert status_of(state["verdict"]) is report.status is Status.CORROBORATED


def test_each_member_action_is_idempotent_by_state() -> None:
    report = sighting()
    report.collect_events()
    report.claim("Río 7")
    report.claim("Río 7")
    report.confirm_on_scene("Río 7")
    report.confirm_on_scene("Río 7")
    report.resolve("Ana")
    report.resolve("Río 7")  # resolved already: nothing more to close
    assert new_events(report) == ["Claimed", "ConfirmedOnScene", "Resolved"]


def test_a_second_member_on_scene_is_recorded_but_a_verification_is_not_downgraded() -> None:
    report = sighting()
    report.verify("Lead")
    report.confirm_on_scene("Río 7")
    report.confirm_on_scene("Ana")
    assert report.status is Status.VERIFIED
    assert report.on_scene_by == ["Río 7", "Ana"]
    assert folded(report) == aggregate_state(report)


def test_confirmed_on_scene_after_a_dispute_is_the_latest_members_word() -> None:
    report = sighting()
    report.dispute("Lead", "unconfirmed_rumour")
    report.collect_events()
    report.confirm_on_scene("Río 7")
    assert report.status is Status.CORROBORATED
    # The same member again, after another dispute, changes the status: stored.
    report.dispute("Lead", "not_immigration_agents")
    report.confirm_on_scene("Río 7")
    assert new_events(report) == ["ConfirmedOnScene", "Disputed", "ConfirmedOnScene"]


def test_an_author_amendment_after_an_on_scene_confirmation_needs_a_new_word() -> None:
    report = sighting()
    report.confirm_on_scene("Río 7")
    report.amend(token=TOKEN, changes={"agents_count": 30}, now=NOW)
    assert report.status is Status.AMENDED_AFTER_VERDICT
    assert folded(report) == aggregate_state(report)


def test_anonymous_corroborations_never_make_a_report_corroborated() -> None:
    report = sighting()
    for n in range(25):
        report.corroborate(corroborator_hash=f"{n:064x}")
    assert report.status is Status.UNVERIFIED


def test_a_resolved_report_takes_no_new_claim_or_confirmation_but_a_verdict() -> None:
    report = sighting()
    report.resolve("Ana")
    with pytest.raises(AlreadyResolved):
        report.claim("Río 7")
    with pytest.raises(AlreadyResolved):
        report.confirm_on_scene("Río 7")
    report.verify("Lead")
    assert report.status is Status.VERIFIED


def test_a_watch_shift_is_not_claimed_or_resolved() -> None:
    shift = WatchShift.submit(
        uuid4(),
        courthouse_code="NYC",
        lat=None,
        lon=None,
        observed_at=NOW - timedelta(hours=1),
        details={"ended_at": None},
        author_token=TOKEN,
        now=NOW,
    )
    for action in (shift.claim, shift.confirm_on_scene, shift.resolve):
        with pytest.raises(NotApplicable):
            action("Ana")


@pytest.mark.parametrize("name", ["", "   ", "x" * 61])
def test_a_member_action_needs_a_display_name(name: str) -> None:
    with pytest.raises(InvalidField):
        sighting().claim(name)


def test_the_new_events_are_report_topics_every_read_model_subscribes_to() -> None:
    report = sighting()
    report.claim("A")
    report.confirm_on_scene("A")
    report.resolve("A")
    state = None
    for domain_event in report.collect_events():
        assert get_topic(type(domain_event)) in REPORT_TOPICS
        state = evolve(state, domain_event)
    assert state is not None and state["resolved_by"] == "A"


def test_already_said_goes_by_the_members_id_not_a_display_name_two_may_share() -> None:
    """Two members who once shared a display name (one revoked, one rejoined)
    are two people: the second's word is stored, with the id saying who."""
    report = sighting()
    report.collect_events()
    report.verify("Ana Responder", "id-1")
    report.verify("Ana Responder", "id-2")
    report.verify("Ana Responder", "id-2")  # a retry of the second
    report.dispute("Ana Responder", "duplicate", "id-1")
    report.dispute("Ana Responder", "duplicate", "id-2")
    report.claim("Ana Responder", "id-1")
    report.claim("Ana Responder", "id-2")
    report.claim("Ana Responder", "id-2")
    report.confirm_on_scene("Ana Responder", "id-1")
    report.confirm_on_scene("Ana Responder", "id-2")
    events = report.collect_events()
    assert [
        (type(e).__name__, e.verifier_id if hasattr(e, "verifier") else e.member_id) for e in events
    ] == [
        ("Verified", "id-1"),
        ("Verified", "id-2"),
        ("Disputed", "id-1"),
        ("Disputed", "id-2"),
        ("Claimed", "id-1"),
        ("Claimed", "id-2"),
        ("ConfirmedOnScene", "id-1"),
        ("ConfirmedOnScene", "id-2"),
    ]


def test_an_author_amendment_after_a_resolve_reopens_the_report() -> None:
    report = sighting()
    report.verify("Bo", "id-bo")
    report.resolve("Ana", "id-ana")
    report.amend(token=TOKEN, changes={"agents_count": 9}, now=NOW)
    state = folded(report)
    assert state == aggregate_state(report)
    assert state["resolved_by"] is None and report.resolved_by is None
    assert report.status is Status.AMENDED_AFTER_VERDICT
    report.claim("Ana", "id-ana")  # open again: a member may go again
    assert aggregate_state(report)["claimed_by"] == ["Ana"]


def test_a_retried_claim_or_confirmation_after_a_resolve_stores_nothing_and_succeeds() -> None:
    report = sighting()
    report.claim("Ana", "id-ana")
    report.confirm_on_scene("Ana", "id-ana")
    report.resolve("Bo", "id-bo")
    report.collect_events()
    report.claim("Ana", "id-ana")  # the first answer was lost: a retry
    report.confirm_on_scene("Ana", "id-ana")
    assert new_events(report) == []
    with pytest.raises(AlreadyResolved):
        report.claim("Cy", "id-cy")  # someone new: closed
