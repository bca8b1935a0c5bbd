"""Issue 14: the police-contact fields in the domain: old events fold, the rules hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from courtwatch.domain import pipeline
from courtwatch.domain.errors import InvalidField
from courtwatch.domain.reports import CallInAppearance, CourthouseArrest, evolve, hash_token

NOW = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
ARRESTED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
TOKEN = "author-token"


def _old_arrest() -> CourthouseArrest:
    # Built as an event stored before the fields existed would replay: no pipeline keys.
    return CourthouseArrest(uuid4(), courthouse_code="NYC", lat=40.7, lon=-74.0,
                            observed_at=ARRESTED, details={"agency": "ice_ero"},
                            author_token_hash=hash_token(TOKEN))  # fmt: skip


def test_an_event_stored_before_the_fields_folds_with_them_unknown_and_can_be_amended() -> None:
    report = _old_arrest()
    submitted = report.pending_events[0]
    assert "police_contact" not in submitted.details  # type: ignore[attr-defined]
    state = evolve(None, submitted)
    assert state["details"] == {**pipeline.ADDED_FIELDS["courthouse_arrest"], "agency": "ice_ero"}
    assert report.details == state["details"]
    report.amend(token=TOKEN, changes={"police_contact": "yes",
                                       "police_contact_date": "2026-11-06"}, now=NOW)  # fmt: skip
    amended = evolve(state, report.pending_events[-1])
    assert amended["details"] == report.details
    assert pipeline.lag_days("courthouse_arrest", ARRESTED, report.details) == 14
    # A read model's state kept before the fields (no pipeline keys) takes the amendment too.
    bare = {**state, "details": {"agency": "ice_ero"}}
    assert evolve(bare, report.pending_events[-1])["details"]["police_contact_date"] == "2026-11-06"


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"police_contact": "yes", "police_contact_date": "2026-11-21"}, "police_contact_date"),
        ({"police_contact": "yes", "police_contact_date": "2026-11-30"}, "police_contact_date"),
        ({"police_contact": "yes", "police_contact_date": "1999-12-31"}, "police_contact_date"),
        ({"police_contact": "yes", "police_contact_date": "2026-13-01"}, "police_contact_date"),
        ({"police_contact": "no", "police_contact_date": "2026-11-01"}, "police_contact_date"),
        ({"police_contact": "no", "police_outcome": "felony"}, "police_outcome"),
    ],
)
def test_an_implausible_or_contradictory_police_contact_is_refused(
    details: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidField) as refused:
        CourthouseArrest.submit(uuid4(), courthouse_code="NYC", lat=40.7, lon=-74.0,
                                observed_at=ARRESTED, details=details, author_token=TOKEN,
                                now=NOW)  # fmt: skip
    assert refused.value.field == field


def test_a_call_in_lag_runs_to_the_letter_and_the_contact_cannot_follow_it() -> None:
    appointment = NOW + timedelta(days=10)
    details = {"letter_date": "2026-11-18", "police_contact": "yes",
               "police_contact_date": "2026-11-04"}  # fmt: skip
    report = CallInAppearance.submit(uuid4(), courthouse_code=None, lat=40.7, lon=-74.0,
                                     observed_at=appointment, details=details,
                                     author_token=TOKEN, now=NOW)  # fmt: skip
    assert pipeline.lag_days("call_in", appointment, report.details) == 14
    no_letter = {**details, "letter_date": None}
    assert pipeline.lag_days("call_in", appointment, no_letter) is None
    with pytest.raises(InvalidField):
        report.amend(token=TOKEN, changes={"police_contact_date": "2026-11-19"}, now=NOW)


def test_moving_the_arrest_before_its_police_contact_is_refused() -> None:
    report = _old_arrest()
    report.amend(token=TOKEN, changes={"police_contact": "yes",
                                       "police_contact_date": "2026-11-18"}, now=NOW)  # fmt: skip
    with pytest.raises(InvalidField) as refused:
        report.amend(token=TOKEN, changes={"observed_at": ARRESTED - timedelta(days=5)}, now=NOW)
    assert refused.value.field == "police_contact_date"
