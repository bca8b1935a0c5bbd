"""The S-Comm pipeline fields of arrests and call-ins (issue 14).

A local police contact (a booking: fingerprints go through the FBI to DHS) is
often followed by ICE: a detainer, an arrest at court, or a call-in letter.
These fields say whether there was such a contact, when (a date only), which
kind of agency, what came of it, whether a detainer was known to be lodged
and, for arrests, whether the person was on the way to or from court.

Every field is optional and a closed vocabulary. Reports stored before these
fields existed have none of them: :func:`with_defaults` reads them as "not
known" (the fold and the aggregate both call it), so old events fold, can be
amended to add the fields, and are counted as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from courtwatch.domain.errors import InvalidField
from courtwatch.domain.vocabulary import Kind

POLICE_CONTACT = "police_contact"
POLICE_CONTACT_DATE = "police_contact_date"
POLICE_AGENCY = "police_agency"
POLICE_OUTCOME = "police_outcome"
DETAINER_LODGED = "detainer_lodged"
TO_OR_FROM_COURT = "to_or_from_court"

_COMMON: dict[str, Any] = {
    POLICE_CONTACT: "unknown",
    POLICE_CONTACT_DATE: None,
    POLICE_AGENCY: "unknown",
    POLICE_OUTCOME: "unknown",
    DETAINER_LODGED: "unknown",
}
# The fields each kind gained, at the values that mean "not recorded".
ADDED_FIELDS: dict[str, dict[str, Any]] = {
    Kind.COURTHOUSE_ARREST.value: {**_COMMON, TO_OR_FROM_COURT: "unknown"},
    Kind.CALL_IN.value: dict(_COMMON),
}
# What a police contact said "no" cannot also have: a date, an agency or an outcome.
ABOUT_THE_CONTACT = (POLICE_CONTACT_DATE, POLICE_AGENCY, POLICE_OUTCOME)


def with_defaults(kind: str | None, details: Mapping[str, Any]) -> dict[str, Any]:
    """``details`` with every pipeline field its kind has (stored ones win)."""
    return {**ADDED_FIELDS.get(kind or "", {}), **details}


def unrecorded_dropped(details: Mapping[str, Any]) -> dict[str, Any]:
    """``details`` without pipeline fields left at "not recorded": what a report
    said before these fields existed. Import row keys are fixed forever
    (courtwatch/importing/importer.py), so they are taken over this."""
    added = ADDED_FIELDS[Kind.COURTHOUSE_ARREST.value]
    return {k: v for k, v in details.items() if not (k in added and v == added[k])}


def ice_action_day(kind: str, observed_at: datetime, details: Mapping[str, Any]) -> date | None:
    """The day ICE acted, for the lag: an arrest's own day (on its own clock), a
    call-in letter's date. A call-in without a letter date has none."""
    if kind == Kind.COURTHOUSE_ARREST.value:
        return observed_at.date()
    if kind == Kind.CALL_IN.value:
        letter = details.get("letter_date")
        return _day(letter) if isinstance(letter, str) else None
    return None


def lag_days(kind: str, observed_at: datetime, details: Mapping[str, Any]) -> int | None:
    """Days from the police contact to the ICE action, when both are known."""
    if details.get(POLICE_CONTACT) != "yes":
        return None
    contact = details.get(POLICE_CONTACT_DATE)
    action = ice_action_day(kind, observed_at, details)
    if not isinstance(contact, str) or action is None:
        return None
    contact_day = _day(contact)
    if contact_day is None:
        return None
    # Never negative: check_police_contact refuses a contact after the action.
    return max(0, (action - contact_day).days)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def check_police_contact(kind: str, observed_at: datetime, details: Mapping[str, Any]) -> None:
    """Rules across the pipeline fields: "no contact" has no date, agency or
    outcome; the contact was not after ICE acted (nor after a call-in's appointment)."""
    if kind not in ADDED_FIELDS:
        return
    if details.get(POLICE_CONTACT) == "no":
        for name in ABOUT_THE_CONTACT:
            if details.get(name) not in (None, "unknown"):
                raise InvalidField(name, "there was no police contact")
    contact = details.get(POLICE_CONTACT_DATE)
    if not isinstance(contact, str):
        return
    contact_day = _day(contact)
    if contact_day is None:
        raise InvalidField(POLICE_CONTACT_DATE, "a date as YYYY-MM-DD")
    action = ice_action_day(kind, observed_at, details) or observed_at.date()
    if contact_day > min(action, observed_at.date()):
        raise InvalidField(POLICE_CONTACT_DATE, "cannot be after the ICE action")
