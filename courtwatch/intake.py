"""Parse what a client sent into a submission the domain can accept.

Pydantic collects *every* bad field with its reason in one pass, which is what
a watcher on a phone needs to fix a form at once (422 with each field named).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from courtwatch.domain import pipeline
from courtwatch.domain.errors import InvalidField
from courtwatch.domain.vocabulary import (
    Agency,
    Answer,
    ArrestOutcome,
    CallInOutcome,
    IceOffice,
    Place,
    PoliceAgency,
    PoliceOutcome,
    Role,
    TakenTo,
    Warrant,
)

# Fields every kind has; the rest of a submission is its kind's "details".
COMMON_FIELDS = frozenset({"kind", "courthouse_code", "lat", "lon", "observed_at"})
# Control characters (C0, DEL, C1), lone surrogates and bidirectional overrides:
# PostgreSQL's jsonb refuses NUL and UTF-8 cannot encode a lone surrogate, so
# such text would fail later inside a projection, on every retry; the bidi
# controls make public text read differently from what is stored.
REFUSED_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# Bodies are flat objects with at most one nested object ("changes", "outcome"):
# anything much deeper is a probe, refused before any recursive code sees it.
DEEPEST_BODY = 8
COURTHOUSE_CODE = r"^[A-Z0-9][A-Z0-9-]{1,23}$"


def _not_a_boolean(value: Any) -> Any:
    # Pydantic's lax mode reads true as 1: a client that sends true for a count
    # or a coordinate has a bug, and its report must not say "1 agent".
    if isinstance(value, bool):
        raise ValueError("a number, not true or false")
    return value


Count = Annotated[int, BeforeValidator(_not_a_boolean), Field(ge=0, le=100)] | None
Latitude = (
    Annotated[float, BeforeValidator(_not_a_boolean), Field(ge=-90, le=90, allow_inf_nan=False)]
    | None
)
Longitude = (
    Annotated[float, BeforeValidator(_not_a_boolean), Field(ge=-180, le=180, allow_inf_nan=False)]
    | None
)


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


def check_plain_values(value: Any, field: str = "body") -> None:
    """Refuse control characters in any string (keys too) and nesting deeper than
    DEEPEST_BODY. Iterative, so a hostile depth cannot exhaust the stack."""
    pending: list[tuple[Any, str, int]] = [(value, field, 0)]
    while pending:
        item, where, depth = pending.pop()
        if depth > DEEPEST_BODY:
            raise ValidationFailed.single(where, "nested too deeply")
        if isinstance(item, str):
            if REFUSED_CHARACTERS.search(item):
                raise ValidationFailed.single(where, "contains control characters")
        elif isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str) or REFUSED_CHARACTERS.search(key):
                    raise ValidationFailed.single(where, "a field name contains control characters")
                name = key if where == "body" else f"{where}.{key}"
                pending.append((inner, name, depth + 1))
        elif isinstance(item, list):
            pending.extend((inner, where, depth + 1) for inner in item)


class _Common(BaseModel):
    # extra="forbid": an unexpected field is a client bug or a probe, never data to keep.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    courthouse_code: str | None = Field(None, pattern=COURTHOUSE_CODE)
    lat: Latitude = None
    lon: Longitude = None
    observed_at: AwareDatetime


class _PoliceContact(BaseModel):
    """The S-Comm pipeline fields arrests and call-ins share (courtwatch/domain/pipeline.py)."""

    police_contact: Answer = Answer.UNKNOWN
    police_contact_date: date | None = None
    police_agency: PoliceAgency = PoliceAgency.UNKNOWN
    police_outcome: PoliceOutcome = PoliceOutcome.UNKNOWN
    detainer_lodged: Answer = Answer.UNKNOWN

    @model_validator(mode="after")
    def _contact_before_ice(self) -> Any:
        # The domain checks it again (and the date's range, by its clock); here
        # the watcher hears it with every other refused field at once.
        if self.police_contact != Answer.NO and self.police_contact_date is None:
            # Nothing check_police_contact could refuse (most reports, most
            # imported rows): no need to serialise the whole submission.
            return self
        fields = self.model_dump(mode="json")
        observed_at = getattr(self, "observed_at", None)
        if observed_at is None:
            return self
        try:
            pipeline.check_police_contact(fields["kind"], observed_at, fields)
        except InvalidField as refused:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", refused.reason),
                        loc=(refused.field,),
                        input=fields.get(refused.field),
                    )
                ],
            ) from None
        return self


class ArrestSubmission(_Common, _PoliceContact):
    kind: Literal["courthouse_arrest"]
    place: Place = Place.UNKNOWN
    agents_count: Count = None
    agency: Agency = Agency.UNKNOWN
    plain_clothes: Answer = Answer.UNKNOWN
    identification_shown: Answer = Answer.UNKNOWN
    warrant: Warrant = Warrant.UNKNOWN
    person_role: Role = Role.UNKNOWN
    outcome: ArrestOutcome = ArrestOutcome.UNKNOWN
    taken_to: TakenTo | None = TakenTo.UNKNOWN
    attorney_present: Answer = Answer.UNKNOWN
    to_or_from_court: Answer = Answer.UNKNOWN


class SightingSubmission(_Common):
    kind: Literal["sighting"]
    place: Place = Place.UNKNOWN
    agents_count: Count = None
    vehicles_count: Count = None
    agency: Agency = Agency.UNKNOWN
    plain_clothes: Answer = Answer.UNKNOWN


class CallInSubmission(_Common, _PoliceContact):
    """observed_at is the appointment time."""

    kind: Literal["call_in"]
    letter_date: date | None = None
    office: IceOffice | None = IceOffice.UNKNOWN
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
    check_plain_values(dict(payload))
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
    check_plain_values(dict(changes), "changes")
    try:
        return model.model_validate({**current, **changes, "kind": kind})
    except ValidationError as error:
        # A value stored before a vocabulary was closed (free text in taken_to)
        # must not lock its report: an unchanged field that fails is left to its
        # default for this check, and only the changed fields are judged.
        stale = {str(item["loc"][0]) for item in error.errors() if item["loc"]} - set(changes)
        if not stale:
            raise ValidationFailed(problems_from(error, tagged=False)) from None
    kept = {name: value for name, value in current.items() if name not in stale}
    try:
        return model.model_validate({**kept, **changes, "kind": kind})
    except ValidationError as error:
        raise ValidationFailed(problems_from(error, tagged=False)) from None
