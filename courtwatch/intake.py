"""Parse what a client sent into a submission the domain can accept.

Pydantic collects *every* bad field with its reason in one pass, which is what
a watcher on a phone needs to fix a form at once (422 with each field named).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from courtwatch.domain.vocabulary import (
    Agency,
    Answer,
    ArrestOutcome,
    CallInOutcome,
    Place,
    Role,
    Warrant,
)

# Fields every kind has; the rest of a submission is its kind's "details".
COMMON_FIELDS = frozenset({"kind", "courthouse_code", "lat", "lon", "observed_at"})
SHORT_TEXT = 120


class FieldProblem(BaseModel):
    field: str
    reason: str


class ValidationFailed(Exception):
    """One or more fields of a request are invalid; nothing was stored."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems

    @classmethod
    def single(cls, field: str, reason: str) -> ValidationFailed:
        return cls([FieldProblem(field=field, reason=reason)])


class _Common(BaseModel):
    # extra="forbid": an unexpected field is a client bug or a probe, never data to keep.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    courthouse_code: str | None = Field(None, min_length=2, max_length=24)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    observed_at: AwareDatetime


class ArrestSubmission(_Common):
    kind: Literal["courthouse_arrest"]
    place: Place = Place.UNKNOWN
    agents_count: int | None = Field(None, ge=0, le=100)
    agency: Agency = Agency.UNKNOWN
    plain_clothes: Answer = Answer.UNKNOWN
    identification_shown: Answer = Answer.UNKNOWN
    warrant: Warrant = Warrant.UNKNOWN
    person_role: Role = Role.UNKNOWN
    outcome: ArrestOutcome = ArrestOutcome.UNKNOWN
    taken_to: str | None = Field(None, max_length=SHORT_TEXT)
    attorney_present: Answer = Answer.UNKNOWN


class SightingSubmission(_Common):
    kind: Literal["sighting"]
    place: Place = Place.UNKNOWN
    agents_count: int | None = Field(None, ge=0, le=100)
    vehicles_count: int | None = Field(None, ge=0, le=100)
    agency: Agency = Agency.UNKNOWN
    plain_clothes: Answer = Answer.UNKNOWN


class CallInSubmission(_Common):
    """observed_at is the appointment time."""

    kind: Literal["call_in"]
    letter_date: date | None = None
    office: str | None = Field(None, max_length=SHORT_TEXT)
    accompanied: Answer = Answer.UNKNOWN
    outcome: CallInOutcome = CallInOutcome.PENDING


class ShiftSubmission(_Common):
    """observed_at is the start of the shift."""

    kind: Literal["watch_shift"]
    ended_at: AwareDatetime | None = None


Submission = Annotated[
    ArrestSubmission | SightingSubmission | CallInSubmission | ShiftSubmission,
    Field(discriminator="kind"),
]
SUBMISSION = TypeAdapter(Submission)
MODELS: dict[str, type[_Common]] = {
    "courthouse_arrest": ArrestSubmission,
    "sighting": SightingSubmission,
    "call_in": CallInSubmission,
    "watch_shift": ShiftSubmission,
}


def problems_from(error: ValidationError, *, tagged: bool) -> list[FieldProblem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
            field, reason = "kind", "one of " + ", ".join(MODELS)
        else:
            # A discriminated union puts the kind first in the location.
            if tagged and loc and loc[0] in MODELS:
                loc = loc[1:]
            field = ".".join(loc) or "body"
            reason = item["msg"]
            if item["type"] == "extra_forbidden":
                reason = "unknown field"
        problems.append(FieldProblem(field=field, reason=reason))
    return problems


def parse_submission(payload: Mapping[str, Any]) -> _Common:
    try:
        return SUBMISSION.validate_python(dict(payload))
    except ValidationError as error:
        raise ValidationFailed(problems_from(error, tagged=True)) from None


def details_of(submission: _Common) -> dict[str, Any]:
    """The kind-specific fields, as plain JSON values for the event."""
    return submission.model_dump(mode="json", exclude=set(COMMON_FIELDS))


def parse_amendment(kind: str, current: Mapping[str, Any], changes: Mapping[str, Any]) -> _Common:
    """Validate an amendment as the whole report it would produce."""
    model = MODELS[kind]
    unknown = set(changes) - set(model.model_fields) | ({"kind"} & set(changes))
    if unknown:
        raise ValidationFailed(
            [FieldProblem(field=name, reason="cannot be amended") for name in sorted(unknown)]
        )
    try:
        return model.model_validate({**current, **changes, "kind": kind})
    except ValidationError as error:
        raise ValidationFailed(problems_from(error, tagged=False)) from None
