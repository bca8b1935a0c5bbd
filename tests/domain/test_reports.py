"""The report aggregates' rules, without a database."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from courtwatch.domain.errors import (
    AlreadyCorroborated,
    CorroborationsFull,
    InvalidField,
    NotApplicable,
    ShiftAlreadyEnded,
    WrongAuthorToken,
)
from courtwatch.domain.reports import (
    MOST_CORROBORATIONS,
    CourthouseArrest,
    Sighting,
    WatchShift,
)
from courtwatch.domain.vocabulary import Status

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def arrest(**overrides: object) -> CourthouseArrest:
    fields: dict = dict(
        courthouse_code="NYC",
        lat=40.7,
        lon=-74.0,
        observed_at=NOW - timedelta(hours=1),
        details={"outcome": "unknown", "agency": "ice_ero"},
        author_token="secret-token",
        now=NOW,
    )
    fields.update(overrides)
    report = CourthouseArrest.submit(uuid4(), **fields)
    assert isinstance(report, CourthouseArrest)
    return report


def test_a_new_report_is_unverified_and_keeps_only_a_hash_of_its_token() -> None:
    report = arrest()
    assert report.status is Status.UNVERIFIED
    assert "secret-token" not in repr(report.collect_events())


def test_observed_time_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidField) as error:
        arrest(observed_at=NOW + timedelta(hours=2))
    assert error.value.field == "observed_at"


@pytest.mark.parametrize(
    ("lat", "lon", "field"), [(91.0, 0.0, "lat"), (0.0, 181.0, "lon"), (None, 3.0, "lat")]
)
def test_coordinates_outside_valid_ranges_are_refused(lat, lon, field) -> None:
    with pytest.raises(InvalidField) as error:
        arrest(lat=lat, lon=lon)
    assert error.value.field == field


def test_only_the_author_can_amend() -> None:
    report = arrest()
    with pytest.raises(WrongAuthorToken):
        report.amend(token="guess", changes={"agency": "hsi"}, now=NOW)
    report.amend(token="secret-token", changes={"agency": "hsi"}, now=NOW)
    assert report.details["agency"] == "hsi"


def test_status_follows_verdicts_only_never_corroborations() -> None:
    report = arrest()
    for n in range(20):
        report.corroborate(corroborator_hash=f"{n:064x}")
    # Twenty keys are twenty POSTs from anyone: counted, never a status.
    assert report.status is Status.UNVERIFIED
    assert len(report.corroborator_hashes) == 20
    with pytest.raises(AlreadyCorroborated):
        report.corroborate(corroborator_hash=f"{0:064x}")
    report.verify("maria")
    assert report.status is Status.VERIFIED
    report.dispute("jo", "duplicate")
    assert report.status is Status.DISPUTED


def test_corroborations_stop_being_stored_at_the_cap() -> None:
    report = arrest()
    for n in range(MOST_CORROBORATIONS):
        report.corroborate(corroborator_hash=f"{n:064x}")
    version = report.version
    with pytest.raises(CorroborationsFull):
        report.corroborate(corroborator_hash="f" * 64)
    assert report.version == version
    assert len(report.corroborator_hashes) == MOST_CORROBORATIONS == 25


def test_an_amendment_after_verification_needs_a_new_verdict() -> None:
    report = arrest()
    report.verify("maria")
    report.amend(token="secret-token", changes={"agents_count": 60}, now=NOW)
    assert report.status is Status.AMENDED_AFTER_VERDICT
    report.amend(token="secret-token", changes={"agency": "hsi"}, now=NOW)
    assert report.status is Status.AMENDED_AFTER_VERDICT
    report.verify("maria")
    assert report.status is Status.VERIFIED
    # An outcome learned later is not a change to what was verified.
    report.record_outcome(token="secret-token", outcome={"outcome": "detained"})
    assert report.status is Status.VERIFIED


def test_an_amendment_never_washes_off_a_dispute() -> None:
    report = arrest()
    report.dispute("jo", "false_report")
    report.amend(token="secret-token", changes={"agents_count": 1}, now=NOW)
    assert report.status is Status.DISPUTED
    report.amend(token="secret-token", changes={"agents_count": 2}, now=NOW)
    report.verify("maria")
    report.dispute("jo", "false_report")
    assert report.status is Status.DISPUTED


def test_a_sighting_has_no_outcome_and_a_shift_ends_once() -> None:
    sighting = Sighting.submit(
        uuid4(),
        courthouse_code=None,
        lat=1.0,
        lon=1.0,
        observed_at=NOW,
        details={},
        author_token="t",
        now=NOW,
    )
    with pytest.raises(NotApplicable):
        sighting.record_outcome(token="t", outcome={"outcome": "detained"})
    shift = WatchShift.submit(
        uuid4(),
        courthouse_code="NYC",
        lat=1.0,
        lon=1.0,
        observed_at=NOW - timedelta(hours=3),
        details={"ended_at": None},
        author_token="t",
        now=NOW,
    )
    assert isinstance(shift, WatchShift)
    with pytest.raises(InvalidField):
        shift.end_shift(token="t", ended_at=NOW - timedelta(hours=4), now=NOW)
    shift.end_shift(token="t", ended_at=NOW - timedelta(minutes=5), now=NOW)
    with pytest.raises(ShiftAlreadyEnded):
        shift.end_shift(token="t", ended_at=NOW, now=NOW)
