"""Issue 9: only plausible times enter a report, checked without overflowing.

Before, `0001-01-01T00:00:00+00:00` was stored and then raised OverflowError in
the trend projection on every restart; `+14:00` at year 1 could not even be
converted to UTC.
"""

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from courtwatch.domain.errors import InvalidField
from courtwatch.domain.reports import CallInAppearance, WatchShift
from tests.domain.test_reports import NOW, arrest

PLUS_14 = timezone(timedelta(hours=14))
MINUS_14 = timezone(timedelta(hours=-14))

IMPLAUSIBLE = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=PLUS_14),
    datetime(9999, 12, 31, 23, 59, tzinfo=MINUS_14),
    datetime(9999, 12, 31, 23, 59, tzinfo=PLUS_14),
    datetime(1999, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2000, 1, 1, 9, 59, tzinfo=PLUS_14),  # 1999-12-31T19:59Z
    datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=17))),
]


@pytest.mark.parametrize("when", IMPLAUSIBLE, ids=str)
def test_an_implausible_observed_at_is_refused(when: datetime) -> None:
    with pytest.raises(InvalidField) as error:
        arrest(observed_at=when)
    assert error.value.field == "observed_at"


@pytest.mark.parametrize("when", IMPLAUSIBLE, ids=str)
def test_an_implausible_amended_time_is_refused(when: datetime) -> None:
    report = arrest()
    with pytest.raises(InvalidField):
        report.amend(token="secret-token", changes={"observed_at": when}, now=NOW)
    assert report.observed_at == NOW - timedelta(hours=1)


def test_plausible_edges_are_accepted() -> None:
    arrest(observed_at=datetime(2000, 1, 1, tzinfo=UTC))
    arrest(observed_at=datetime(2000, 1, 1, 14, 0, tzinfo=PLUS_14))
    arrest(observed_at=NOW + timedelta(minutes=4))
    arrest(
        observed_at=(NOW - timedelta(hours=1)).astimezone(timezone(timedelta(hours=5, minutes=45)))
    )


def call_in(observed_at: datetime, letter_date: str | None = None) -> CallInAppearance:
    report = CallInAppearance.submit(
        uuid4(),
        courthouse_code="NYV",
        lat=40.7,
        lon=-74.0,
        observed_at=observed_at,
        details={"letter_date": letter_date},
        author_token="t",
        now=NOW,
    )
    assert isinstance(report, CallInAppearance)
    return report


def test_a_call_in_may_lie_ahead_but_not_beyond_the_furthest_appointment() -> None:
    call_in(NOW + timedelta(days=30))
    for when in (datetime(9999, 12, 31, tzinfo=MINUS_14), datetime(1, 1, 1, tzinfo=PLUS_14)):
        with pytest.raises(InvalidField):
            call_in(when)


@pytest.mark.parametrize("letter", ["0001-01-01", "1999-12-31", "9999-12-31", "not a date"])
def test_an_implausible_letter_date_is_refused(letter: str) -> None:
    with pytest.raises(InvalidField) as error:
        call_in(NOW + timedelta(days=3), letter)
    assert error.value.field == "letter_date"
    call_in(NOW + timedelta(days=3), date(2026, 11, 1).isoformat())


def test_an_implausible_shift_end_is_refused_everywhere() -> None:
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
    for when in IMPLAUSIBLE:
        with pytest.raises(InvalidField):
            shift.end_shift(token="t", ended_at=when, now=NOW)
        with pytest.raises(InvalidField):
            shift.amend(token="t", changes={"ended_at": when.isoformat()}, now=NOW)
    with pytest.raises(InvalidField):  # amended to before its start
        shift.amend(
            token="t", changes={"ended_at": (NOW - timedelta(hours=4)).isoformat()}, now=NOW
        )
