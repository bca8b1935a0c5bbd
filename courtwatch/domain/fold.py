"""One fold of a report's state: how each event changes what a report says.

The aggregate, the live map and the trend view all keep a report's current
state; each used to spell out for itself what an amendment or an outcome
changes, and the copies drifted. They all fold events with :func:`evolve`
now, so the map can never show a report the log does not say.

The state is plain data: ``kind``, ``courthouse_code``, ``lat``, ``lon``,
``observed_at`` (an aware datetime), ``details`` (JSON values), ``verdict``
(None, "verified" or "disputed") and ``corroborations`` (a count).
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


def status_of(verdict: str | None, corroborations: int) -> Status:
    """A verifier's latest verdict wins; otherwise corroboration; otherwise unverified."""
    if verdict == "disputed":
        return Status.DISPUTED
    if verdict == "verified":
        return Status.VERIFIED
    if corroborations:
        return Status.CORROBORATED
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
    return new


def corroborated(state: ReportState) -> ReportState:
    return {**state, "corroborations": state["corroborations"] + 1}


def given_verdict(state: ReportState, verdict: str) -> ReportState:
    return {**state, "verdict": verdict}


def outcome_recorded(state: ReportState, outcome: dict[str, Any]) -> ReportState:
    return {**state, "details": {**state["details"], **plain(outcome)}}


def shift_ended(state: ReportState, ended_at: datetime) -> ReportState:
    return {**state, "details": {**state["details"], "ended_at": ended_at.isoformat()}}
