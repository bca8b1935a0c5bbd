"""One fold of a report's state: how each event changes what a report says.

The aggregate, the live map and the trend view all keep a report's current
state; each used to spell out for itself what an amendment or an outcome
changes, and the copies drifted. They all fold events with :func:`evolve`
now, so the map can never show a report the log does not say.

The state is plain data: ``kind``, ``courthouse_code``, ``lat``, ``lon``,
``observed_at`` (an aware datetime), ``details`` (JSON values), ``verdict``
and ``corroborations`` (a count of anonymous "I see it too").

``verdict`` is what a verifier's word says *now*: None, "verified",
"disputed", or "amended_after_verdict" when the author changed a verified
report afterwards. A verification vouches for what the report said when it was
given, so it stops standing once the report changes, and the report needs a
new verdict. A dispute stands through an amendment: an author must not be able
to wash a dispute off the map by editing the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from courtwatch.domain.vocabulary import Kind, Status

ReportState = dict[str, Any]

# Fields every kind has; the rest of a report is its kind's details.
WHERE_AND_WHEN = ("courthouse_code", "lat", "lon", "observed_at")


def plain(value: Any) -> Any:
    """JSON-ready copies of event values (datetimes as ISO 8601)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


# The verdict an amendment leaves behind when it changes a verified report.
AMENDED_AFTER_VERDICT = Status.AMENDED_AFTER_VERDICT.value


def status_of(verdict: str | None) -> Status:
    """Only a verifier's word sets a status; without one a report is unverified.

    Anonymous corroborations are counted and shown, but never change the
    status: twenty keys are twenty POSTs from anyone, not twenty witnesses.
    """
    if verdict == "disputed":
        return Status.DISPUTED
    if verdict == "verified":
        return Status.VERIFIED
    if verdict == AMENDED_AFTER_VERDICT:
        return Status.AMENDED_AFTER_VERDICT
    return Status.UNVERIFIED


def submitted(
    kind: Kind,
    *,
    courthouse_code: str | None,
    lat: float | None,
    lon: float | None,
    observed_at: datetime,
    details: dict[str, Any],
) -> ReportState:
    return {
        "kind": kind.value,
        "courthouse_code": courthouse_code,
        "lat": lat,
        "lon": lon,
        "observed_at": observed_at,
        "details": plain(details),
        "verdict": None,
        "corroborations": 0,
    }


def amended(state: ReportState, changes: dict[str, Any]) -> ReportState:
    """Where, when and detail fields the author changed; unknown names change nothing."""
    new = {**state, "details": dict(state["details"])}
    for name in WHERE_AND_WHEN:
        if name in changes:
            new[name] = changes[name]
    new["details"].update({k: plain(v) for k, v in changes.items() if k in state["details"]})
    if state["verdict"] == "verified":
        new["verdict"] = AMENDED_AFTER_VERDICT
    return new


def corroborated(state: ReportState) -> ReportState:
    return {**state, "corroborations": state["corroborations"] + 1}


def given_verdict(state: ReportState, verdict: str) -> ReportState:
    return {**state, "verdict": verdict}


# Outcome values that say nothing is known yet: filling one in after a
# verification is news learned later; replacing a known value rewrites what
# was verified.
NOT_YET_KNOWN = (None, "unknown", "pending")


def outcome_recorded(state: ReportState, outcome: dict[str, Any]) -> ReportState:
    new = {**state, "details": {**state["details"], **plain(outcome)}}
    rewritten = any(
        state["details"].get(name) not in NOT_YET_KNOWN
        and state["details"].get(name) != new["details"][name]
        for name in outcome
    )
    if state["verdict"] == "verified" and rewritten:
        new["verdict"] = AMENDED_AFTER_VERDICT
    return new


def shift_ended(state: ReportState, ended_at: datetime) -> ReportState:
    return {**state, "details": {**state["details"], "ended_at": ended_at.isoformat()}}
