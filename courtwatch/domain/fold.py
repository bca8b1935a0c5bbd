"""One fold of a report's state: how each event changes what a report says.

The aggregate, the live map and the trend view all keep a report's current
state; each used to spell out for itself what an amendment or an outcome
changes, and the copies drifted. They all fold events with :func:`evolve`
now, so the map can never show a report the log does not say.

The state is plain data: ``kind``, ``courthouse_code``, ``lat``, ``lon``,
``observed_at`` (an aware datetime), ``details`` (JSON values), ``verdict``
and ``corroborations`` (a count of anonymous "I see it too").

``verdict`` is what a member's word says *now*: None, "verified",
"disputed", "corroborated" (a member confirmed it on scene), or
"amended_after_verdict" when the author changed a verified or confirmed
report afterwards. A verification vouches for what the report said when it was
given, so it stops standing once the report changes, and the report needs a
new verdict. A dispute stands through an amendment: an author must not be able
to wash a dispute off the map by editing the report.

Members' presence on a report (docs/members.md, "The console") is kept as
``claimed_by`` and ``on_scene_by`` (display names, in order) and
``resolved_by`` (a display name or None; an author's amendment, or an
outcome that needs a new verdict, sets it back to None). Those names are for signed-in
members only; public views never take them from this state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from courtwatch.domain import pipeline
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
# A member on scene saw it: the only thing besides a verdict that moves a status.
CONFIRMED_ON_SCENE = Status.CORROBORATED.value
# Verdicts that vouch for what the report said when given: an author's change
# afterwards means they no longer stand.
VOUCHING = ("verified", CONFIRMED_ON_SCENE)


def status_of(verdict: str | None) -> Status:
    """Only a member's word sets a status; without one a report is unverified.

    Anonymous corroborations are counted and shown, but never change the
    status: twenty keys are twenty POSTs from anyone, not twenty witnesses.
    A member's on-scene confirmation does ("corroborated").
    """
    if verdict == "disputed":
        return Status.DISPUTED
    if verdict == "verified":
        return Status.VERIFIED
    if verdict == AMENDED_AFTER_VERDICT:
        return Status.AMENDED_AFTER_VERDICT
    if verdict == CONFIRMED_ON_SCENE:
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
        # Events stored before a kind gained fields read them as "not known".
        "details": pipeline.with_defaults(kind.value, plain(details)),
        "verdict": None,
        "corroborations": 0,
        "claimed_by": [],
        "on_scene_by": [],
        "resolved_by": None,
    }


def amended(state: ReportState, changes: dict[str, Any]) -> ReportState:
    """Where, when and detail fields the author changed; unknown names change nothing."""
    # A state kept before a kind gained fields (a read model's) takes them now,
    # so an amendment that fills one in is not dropped as an unknown name.
    new = {**state, "details": pipeline.with_defaults(state.get("kind"), state["details"])}
    for name in WHERE_AND_WHEN:
        if name in changes:
            new[name] = changes[name]
    new["details"].update({k: plain(v) for k, v in changes.items() if k in new["details"]})
    if state["verdict"] in VOUCHING:
        new["verdict"] = AMENDED_AFTER_VERDICT
    # The author says something new: whatever closed the response closed it
    # for what the report said then, so it is back in the console's queue.
    new["resolved_by"] = None
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
    if state["verdict"] in VOUCHING and rewritten:
        new["verdict"] = AMENDED_AFTER_VERDICT
        new["resolved_by"] = None  # needs a new word: back in the queue, as for an amendment
    return new


def shift_ended(state: ReportState, ended_at: datetime) -> ReportState:
    return {**state, "details": {**state["details"], "ended_at": ended_at.isoformat()}}


def _with_name(names: Any, member: str) -> list[str]:
    names = list(names or [])
    return names if member in names else [*names, member]


def claimed(state: ReportState, member: str) -> ReportState:
    """A member said "I'm going": shown to members so two don't drive to one place."""
    return {**state, "claimed_by": _with_name(state.get("claimed_by"), member)}


def confirmed_on_scene(state: ReportState, member: str) -> ReportState:
    """A member on scene confirmed it: corroborated, unless already verified.

    It is a member's word like a verdict, so the latest one stands: a report
    disputed earlier and then confirmed by someone standing there is
    corroborated. A verification is the stronger word and is kept.
    """
    verdict = state["verdict"] if state["verdict"] == "verified" else CONFIRMED_ON_SCENE
    return {
        **state,
        "verdict": verdict,
        "on_scene_by": _with_name(state.get("on_scene_by"), member),
    }


def resolved(state: ReportState, member: str) -> ReportState:
    """The response is over: the report leaves the console's queue."""
    return {**state, "resolved_by": member}
