"""Report aggregates: each report is an append-only history of events.

A report changes only by appending: its author amends it (proving authorship
with the secret token handed out at submission, of which only a hash is
kept), others corroborate it, a verifier verifies or disputes it, an outcome
is recorded, a watch shift is ended. Nothing is updated in place.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from courtwatch.domain import fold, pipeline
from courtwatch.domain.errors import (
    AlreadyCorroborated,
    AlreadyResolved,
    CorroborationsFull,
    InvalidField,
    NotApplicable,
    ShiftAlreadyEnded,
    WrongAuthorToken,
)
from courtwatch.domain.fold import ReportState, status_of
from courtwatch.domain.vocabulary import DisputeReason, Kind, RedactionReason, Status

# Reports may be sent from a phone whose clock runs a little ahead.
CLOCK_SKEW = timedelta(minutes=5)
# A watch shift longer than this is almost certainly a typo in the end time.
LONGEST_SHIFT = timedelta(hours=16)
# Call-in appointments are often reported before they happen, so that someone
# can go along; further ahead than this is a typo.
FURTHEST_APPOINTMENT = timedelta(days=120)
# Nothing courtwatch documents happened before this; anything earlier is a typo
# or a probe, and year-1 or year-9999 times overflow date arithmetic downstream.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Real UTC offsets run from -12:00 to +14:00, in steps of 15 minutes since 2000.
WIDEST_OFFSET = timedelta(hours=14)
OFFSET_STEP = timedelta(minutes=15)
# Anonymous "I see it too" is counted up to this many per report and no
# further: anyone can make keys, so more would say nothing more, and every
# stored one is replayed whenever the report is read.
MOST_CORROBORATIONS = 25
# Photos per report: enough for a van, a badge, a document; each is a sealed blob.
MOST_PHOTOS = 6
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_imported_source(source_sha256: Any, source_row: Any) -> None:
    if not (isinstance(source_sha256, str) and SHA256_HEX.fullmatch(source_sha256)):
        raise InvalidField("source_sha256", "64 lowercase hexadecimal digits")
    if isinstance(source_row, bool) or not isinstance(source_row, int) or source_row < 1:
        raise InvalidField("source_row", "a line number of the source file")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def presence_nonce() -> str:
    """128 random bits for a presence event, made in the command (never in the
    apply, which replays). The log's leaf hash covers the event, and the leaf
    hash is public at once: without a secret in it, hashing each candidate
    name (every verifier's name is public) would reveal the withheld one."""
    return secrets.token_hex(16)


def check_position(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise InvalidField("lat" if lat is None else "lon", "give both lat and lon, or neither")
    if lat is not None and not -90.0 <= lat <= 90.0:
        raise InvalidField("lat", "latitude must be between -90 and 90")
    if lon is not None and not -180.0 <= lon <= 180.0:
        raise InvalidField("lon", "longitude must be between -180 and 180")


def check_place(courthouse_code: str | None, lat: float | None, lon: float | None) -> None:
    """A report says where: a courthouse, a pin, or both; never neither."""
    check_position(lat, lon)
    if courthouse_code is None and lat is None:
        raise InvalidField("courthouse_code", "pick a courthouse or drop a pin")


def check_plausible_time(
    field: str, when: datetime, now: datetime, ahead: timedelta = CLOCK_SKEW
) -> None:
    """A real time: with a real UTC offset, not before 2000, not later than now + ahead."""
    offset = when.utcoffset() if isinstance(when, datetime) else None
    if offset is None:
        raise InvalidField(field, "a time must carry its time zone")
    if abs(offset) > WIDEST_OFFSET or offset % OFFSET_STEP:
        raise InvalidField(field, "not a real UTC offset")
    # Compare the calendar year first: converting year 1 or 9999 to UTC overflows.
    if when.year < EARLIEST.year - 1 or when < EARLIEST:
        raise InvalidField(field, "cannot be before 2000")
    if when.year > (now + ahead).year + 1 or when > now + ahead:
        raise InvalidField(
            field, "cannot be in the future" if ahead == CLOCK_SKEW else "too far in the future"
        )


def check_not_future(field: str, when: datetime, now: datetime) -> None:
    check_plausible_time(field, when, now)


def check_dispute_reason(reason: str) -> None:
    # Closed: the reason is public and forever (DisputeReason says why).
    if reason not in set(DisputeReason):
        raise InvalidField("reason", "one of: " + ", ".join(r.value for r in DisputeReason))


def check_member_name(member: str) -> None:
    # The member store checks display names; this keeps an empty or absurd one
    # out of the log whatever the caller.
    if not isinstance(member, str) or not member.strip() or len(member) > 60:
        raise InvalidField("member", "a member's display name")


def check_redaction_reason(reason: str) -> None:
    # Closed: the Redacted event is public and forever (RedactionReason says why).
    if reason not in set(RedactionReason):
        raise InvalidField("reason", "one of: " + ", ".join(r.value for r in RedactionReason))


def check_plausible_date(field: str, value: str, now: datetime) -> None:
    """A calendar date (ISO text, as details hold it) between 2000 and today."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidField(field, "a date as YYYY-MM-DD") from None
    if day < EARLIEST.date():
        raise InvalidField(field, "cannot be before 2000")
    if day > (now + CLOCK_SKEW + WIDEST_OFFSET).date():
        raise InvalidField(field, "cannot be in the future")


class Report(Aggregate):
    """What all four kinds share: where, when, its author, and its lifecycle."""

    # No class-level annotations on aggregates: eventsourcing would turn them
    # into dataclass fields and give subclasses a generated __init__.

    if TYPE_CHECKING:  # made at runtime by the @event decorators below

        class Submitted(Aggregate.Created):
            courthouse_code: str | None
            lat: float | None
            lon: float | None
            observed_at: datetime
            details: dict[str, Any]
            author_token_hash: str

        class Amended(Aggregate.Event):
            changes: dict[str, Any]

        class Corroborated(Aggregate.Event):
            corroborator_hash: str

        # ``verifier_id`` (the member's id) is absent from verdicts stored
        # before members had ids in events: it reads as None.
        class Verified(Aggregate.Event):
            verifier: str
            verifier_id: str | None

        class Disputed(Aggregate.Event):
            verifier: str
            reason: str
            verifier_id: str | None

        class Claimed(Aggregate.Event):
            member: str
            nonce: str
            member_id: str | None

        class ConfirmedOnScene(Aggregate.Event):
            member: str
            nonce: str
            member_id: str | None

        class Resolved(Aggregate.Event):
            member: str
            nonce: str
            member_id: str | None

        class DetailsSealed(Aggregate.Event):
            commitments: dict[str, str]

        class Redacted(Aggregate.Event):
            by: str
            fields: list[str]
            reason: str

        class PhotoSealed(Aggregate.Event):
            photo_id: str
            commitment: str

        class PhotoPublished(Aggregate.Event):
            photo_id: str
            by: str
            public_sha256: str

        class Imported(Aggregate.Event):
            source_sha256: str
            source_row: int

    @event("Submitted")
    def __init__(
        self,
        id: UUID,
        *,
        courthouse_code: str | None,
        lat: float | None,
        lon: float | None,
        observed_at: datetime,
        details: dict[str, Any],
        author_token_hash: str,
    ) -> None:
        self.courthouse_code = courthouse_code
        self.lat = lat
        self.lon = lon
        self.observed_at = observed_at
        # Events stored before a kind gained fields read them as "not known".
        self.details = pipeline.with_defaults(self.kind.value, details)
        self.author_token_hash = author_token_hash
        self.corroborator_hashes: list[str] = []
        self.verdict: str | None = None
        self.verdict_by: str | None = None
        self.verdict_by_id: str | None = None
        self.verdict_reason: str | None = None
        self.claimed_by: list[str] = []
        self.on_scene_by: list[str] = []
        self.resolved_by: str | None = None
        # Members' ids, beside the fold's display names: "already said" goes by
        # who a member is, not by a name two members might share.
        self.claimed_ids: list[str] = []
        self.on_scene_ids: list[str] = []

    @property
    def kind(self) -> Kind:
        return KIND_OF[type(self).__name__]

    @property
    def status(self) -> Status:
        return status_of(self.verdict)

    # Guards -----------------------------------------------------------------

    def check_author(self, token: str) -> None:
        if not hmac.compare_digest(hash_token(token), self.author_token_hash):
            raise WrongAuthorToken()

    def check_details(self, details: dict[str, Any], now: datetime) -> None:
        """Kind-specific rules over the detail fields; subclasses extend."""

    def check_consistency(self, observed_at: datetime, details: dict[str, Any]) -> None:
        """Rules across fields, once each field is plausible on its own; subclasses extend."""

    # Commands ---------------------------------------------------------------

    def amend(self, *, token: str, changes: dict[str, Any], now: datetime) -> None:
        self.check_author(token)
        if not changes:
            raise InvalidField("changes", "nothing to amend")
        # A retried amendment whose first answer was lost changes nothing the
        # second time: it stores nothing rather than a duplicate event.
        changes = {k: v for k, v in changes.items() if not self._already_says(k, v)}
        if not changes:
            return
        if {"courthouse_code", "lat", "lon"} & set(changes):
            check_place(
                changes.get("courthouse_code", self.courthouse_code),
                changes.get("lat", self.lat),
                changes.get("lon", self.lon),
            )
        if "observed_at" in changes:
            self.check_observed_at(changes["observed_at"], now)
        merged = {**self.details, **{k: v for k, v in changes.items() if k in self.details}}
        self.check_details(merged, now)
        self.check_consistency(changes.get("observed_at", self.observed_at), merged)
        self._amended(changes=changes)

    def _already_says(self, name: str, value: Any) -> bool:
        if name in fold.WHERE_AND_WHEN:
            return bool(getattr(self, name) == value)
        return name in self.details and bool(self.details[name] == value)

    @event("Amended")
    def _amended(self, changes: dict[str, Any]) -> None:
        self._take(fold.amended(self._state(), changes))

    def _state(self) -> ReportState:
        """What the fold needs of this report (the corroborators' hashes stay here)."""
        return {
            **{name: getattr(self, name) for name in fold.WHERE_AND_WHEN},
            "details": self.details,
            "verdict": self.verdict,
            "claimed_by": self.claimed_by,
            "on_scene_by": self.on_scene_by,
            "resolved_by": self.resolved_by,
        }

    def _take(self, state: ReportState) -> None:
        for name in fold.WHERE_AND_WHEN:
            setattr(self, name, state[name])
        self.details = state["details"]
        self.verdict = state["verdict"]
        self.claimed_by = state["claimed_by"]
        self.on_scene_by = state["on_scene_by"]
        self.resolved_by = state["resolved_by"]

    def corroborate(self, *, corroborator_hash: str) -> None:
        if corroborator_hash in self.corroborator_hashes:
            raise AlreadyCorroborated()
        if len(self.corroborator_hashes) >= MOST_CORROBORATIONS:
            raise CorroborationsFull(MOST_CORROBORATIONS)
        self._corroborated(corroborator_hash=corroborator_hash)

    @event("Corroborated")
    def _corroborated(self, corroborator_hash: str) -> None:
        self.corroborator_hashes.append(corroborator_hash)

    # A verdict the same verifier has already given, on the report as it
    # stands, is a retry: it stores nothing (commands are idempotent by state).

    def _verdict_given_by(self, verifier: str, verifier_id: str | None) -> bool:
        if verifier_id is not None or self.verdict_by_id is not None:
            return self.verdict_by_id == verifier_id
        return self.verdict_by == verifier  # verdicts from before members had ids

    def verify(self, verifier: str, verifier_id: str | None = None) -> None:
        if self.verdict == "verified" and self._verdict_given_by(verifier, verifier_id):
            return
        self._verified(verifier=verifier, verifier_id=verifier_id)

    @event("Verified")
    def _verified(self, verifier: str, verifier_id: str | None = None) -> None:
        self._take(fold.given_verdict(self._state(), "verified"))
        self.verdict_by = verifier
        self.verdict_by_id = verifier_id
        self.verdict_reason = None

    def dispute(self, verifier: str, reason: str, verifier_id: str | None = None) -> None:
        check_dispute_reason(reason)
        if (self.verdict, self.verdict_reason) == ("disputed", reason) and self._verdict_given_by(
            verifier, verifier_id
        ):
            return
        self._disputed(verifier=verifier, reason=reason, verifier_id=verifier_id)

    @event("Disputed")
    def _disputed(self, verifier: str, reason: str, verifier_id: str | None = None) -> None:
        self._take(fold.given_verdict(self._state(), "disputed"))
        self.verdict_by = verifier
        self.verdict_by_id = verifier_id
        self.verdict_reason = reason

    # Members' presence: who is going, who is there, when it is over. Each is
    # idempotent by state: a member saying again what the report already
    # says of them stores nothing.

    def check_presence(self, member: str) -> None:
        check_member_name(member)
        if self.kind is Kind.WATCH_SHIFT:
            raise NotApplicable("a watch shift is not something to go to")

    def check_open(self) -> None:
        # Checked after "already said": a retry whose first answer was lost
        # stores nothing and succeeds, even if someone resolved it meanwhile.
        if self.resolved_by is not None:
            raise AlreadyResolved()

    def claim(self, member: str, member_id: str | None = None) -> None:
        self.check_presence(member)
        if member_id in self.claimed_ids if member_id else member in self.claimed_by:
            return
        self.check_open()
        self._claimed(member=member, nonce=presence_nonce(), member_id=member_id)

    @event("Claimed")
    def _claimed(self, member: str, nonce: str, member_id: str | None = None) -> None:
        self._take(fold.claimed(self._state(), member))
        if member_id:
            self.claimed_ids.append(member_id)

    def confirm_on_scene(self, member: str, member_id: str | None = None) -> None:
        self.check_presence(member)
        if member_id:
            if member_id in self.on_scene_ids and self.verdict in fold.VOUCHING:
                return
        elif fold.confirmed_on_scene(self._state(), member) == self._state():
            return
        self.check_open()
        self._confirmed_on_scene(member=member, nonce=presence_nonce(), member_id=member_id)

    @event("ConfirmedOnScene")
    def _confirmed_on_scene(self, member: str, nonce: str, member_id: str | None = None) -> None:
        self._take(fold.confirmed_on_scene(self._state(), member))
        if member_id:
            self.on_scene_ids.append(member_id)

    def resolve(self, member: str, member_id: str | None = None) -> None:
        check_member_name(member)
        if self.kind is Kind.WATCH_SHIFT:
            raise NotApplicable("a watch shift ends, it is not resolved")
        if self.resolved_by is not None:
            return  # resolved already, by whoever: there is nothing more to close
        self._resolved(member=member, nonce=presence_nonce(), member_id=member_id)

    @event("Resolved")
    def _resolved(self, member: str, nonce: str, member_id: str | None = None) -> None:
        self._take(fold.resolved(self._state(), member))

    def record_outcome(
        self,
        *,
        token: str | None,
        outcome: dict[str, Any],
        member: str | None = None,
        member_id: str | None = None,
    ) -> None:
        raise NotApplicable(f"a {self.kind.value} has no outcome to record")

    # Sealed details (courtwatch/sealing): the event carries only salted
    # commitments; the values are sealed outside the log. These events change
    # nothing the fold shows, so they are not in REPORT_TOPICS: the map and the
    # trends never see them, the transparency log (every topic) does.

    @property
    def sealed_commitments(self) -> dict[str, str] | None:
        return getattr(self, "_sealed_commitments", None)

    @property
    def erased_fields(self) -> frozenset[str]:
        """Sealed fields (and "photos") that Redacted events erased."""
        return frozenset(getattr(self, "_erased", ()))

    @property
    def redacted(self) -> bool:
        """The whole sealed part, and every photo, was erased."""
        erased = self.erased_fields
        return (
            bool(erased)
            and set(self.sealed_commitments or {}) <= erased
            and (not self.photos or "photos" in erased)
        )

    def attach_sealed(self, *, commitments: dict[str, str]) -> None:
        if self.sealed_commitments is not None:
            raise NotApplicable("this report already has sealed details")
        self._details_sealed(commitments=dict(commitments))

    @event("DetailsSealed")
    def _details_sealed(self, commitments: dict[str, str]) -> None:
        self._sealed_commitments = commitments

    def redact(self, *, token: str | None, by: str, fields: list[str], reason: str) -> None:
        """Record that the sealed details were erased (token None: a coordinator asked)."""
        if token is not None:
            self.check_author(token)
        check_redaction_reason(reason)
        if self.sealed_commitments is None and not self.photos:
            raise NotApplicable("this report has no sealed details to redact")
        if fields and set(fields) <= self.erased_fields:
            return  # erased already: a retry stores nothing
        self._redacted(by=by, fields=sorted(fields), reason=reason)

    @event("Redacted")
    def _redacted(self, by: str, fields: list[str], reason: str) -> None:
        self._erased = self.erased_fields | set(fields)

    @property
    def photos(self) -> dict[str, str]:
        """Photo id -> its logged commitment (sealed originals)."""
        return dict(getattr(self, "_photos", {}))

    @property
    def published_photos(self) -> dict[str, str]:
        """Photo id -> SHA-256 of its public copy."""
        return dict(getattr(self, "_published", {}))

    def attach_photo(self, *, token: str, photo_id: str, commitment: str) -> None:
        self.check_author(token)
        if photo_id in self.photos:
            return  # a retried upload: stored once
        if self.redacted:
            raise NotApplicable("this report's sealed details were redacted")
        if len(self.photos) >= MOST_PHOTOS:
            raise NotApplicable(f"a report keeps at most {MOST_PHOTOS} photos")
        self._photo_sealed(photo_id=photo_id, commitment=commitment)

    @event("PhotoSealed")
    def _photo_sealed(self, photo_id: str, commitment: str) -> None:
        self._photos = {**self.photos, photo_id: commitment}

    def publish_photo(self, *, photo_id: str, by: str, public_sha256: str) -> None:
        if photo_id not in self.photos:
            raise NotApplicable("no such photo on this report")
        if self.redacted:
            raise NotApplicable("this report's sealed details were redacted")
        if photo_id in self.published_photos:
            return
        self._photo_published(photo_id=photo_id, by=by, public_sha256=public_sha256)

    @event("PhotoPublished")
    def _photo_published(self, photo_id: str, by: str, public_sha256: str) -> None:
        self._published = {**self.published_photos, photo_id: public_sha256}

    # Imported from a program's historical records (courtwatch/importing): a
    # nested event in the same save as Submitted, so the Submitted event of a
    # report sent from a phone keeps its exact stored form, old events decode
    # as before, and the log (every topic) carries which file the row came from.

    @property
    def imported_from(self) -> str | None:
        """SHA-256 of the file this report was imported from, or None."""
        return getattr(self, "_imported_from", None)

    def mark_imported(self, *, source_sha256: str, source_row: int) -> None:
        if self.version != 1 or self.imported_from is not None:
            raise NotApplicable("only a report being submitted can be marked as imported")
        check_imported_source(source_sha256, source_row)
        self._imported(source_sha256=source_sha256, source_row=source_row)

    @event("Imported")
    def _imported(self, source_sha256: str, source_row: int) -> None:
        self._imported_from = source_sha256

    def end_shift(self, *, token: str, ended_at: datetime, now: datetime) -> None:
        raise NotApplicable(f"a {self.kind.value} is not a watch shift")

    def check_observed_at(self, observed_at: datetime, now: datetime) -> None:
        check_not_future("observed_at", observed_at, now)

    @classmethod
    def check_submission(
        cls,
        courthouse_code: str | None,
        lat: float | None,
        lon: float | None,
        observed_at: datetime,
        details: dict[str, Any],
        now: datetime,
    ) -> None:
        """Every rule a new report of this kind must pass (submit's guards)."""
        check_place(courthouse_code, lat, lon)
        prototype = cls.__new__(cls)
        prototype.check_observed_at(observed_at, now)
        prototype.check_details(details, now)
        prototype.check_consistency(observed_at, details)

    @classmethod
    def imported_events(
        cls,
        report_id: UUID,
        *,
        courthouse_code: str | None,
        lat: float | None,
        lon: float | None,
        observed_at: datetime,
        details: dict[str, Any],
        author_token_hash: str,
        source_sha256: str,
        source_row: int,
    ) -> tuple[Report.Submitted, Report.Imported]:
        """The two events submit() then mark_imported() record, made directly.

        An import makes thousands of reports only to store their events: the
        aggregate built around them (eventsourcing's generic keyword filtering,
        mutating a new object) was half of a row's CPU. The caller has run
        check_submission; mark_imported's own checks are repeated here. The
        stored events are the same, field for field
        (tests/importing/test_fast_events.py compares them).
        """
        check_imported_source(source_sha256, source_row)
        # The kind's own Submitted class (eventsourcing makes one per subclass
        # for the decorated __init__).
        submitted_class = cls.Submitted
        submitted = submitted_class(  # type: ignore[call-arg]
            originator_topic=get_topic(cls),
            originator_id=report_id,
            originator_version=cls.INITIAL_VERSION,
            timestamp=submitted_class.create_timestamp(),
            courthouse_code=courthouse_code,
            lat=lat,
            lon=lon,
            observed_at=observed_at,
            details=details,
            author_token_hash=author_token_hash,
        )
        # Not the kind's own Imported: eventsourcing triggers a decorated
        # method's event with the class made where the method is defined, so
        # every kind's Imported event is stored as Report.Imported.
        imported_class = Report.Imported
        imported = imported_class(  # type: ignore[call-arg]
            originator_id=report_id,
            originator_version=cls.INITIAL_VERSION + 1,
            timestamp=imported_class.create_timestamp(),
            source_sha256=source_sha256,
            source_row=source_row,
        )
        return submitted, imported

    @classmethod
    def submit(
        cls,
        report_id: UUID,
        *,
        courthouse_code: str | None,
        lat: float | None,
        lon: float | None,
        observed_at: datetime,
        details: dict[str, Any],
        author_token: str,
        now: datetime,
    ) -> Report:
        cls.check_submission(courthouse_code, lat, lon, observed_at, details, now)
        return cls(
            report_id,
            courthouse_code=courthouse_code,
            lat=lat,
            lon=lon,
            observed_at=observed_at,
            details=details,
            author_token_hash=hash_token(author_token),
        )


class ReportWithOutcome(Report):
    """Reports whose outcome is often learned later: by the author or a verifier."""

    if TYPE_CHECKING:
        # ``member`` and ``member_id``: the responder who recorded it (None
        # when the author did, and on outcomes stored before they existed).
        class OutcomeRecorded(Aggregate.Event):
            outcome: dict[str, Any]
            member: str | None
            member_id: str | None

    def check_details(self, details: dict[str, Any], now: datetime) -> None:
        contact = details.get(pipeline.POLICE_CONTACT_DATE)
        if contact is not None:
            check_plausible_date(pipeline.POLICE_CONTACT_DATE, contact, now)

    def check_consistency(self, observed_at: datetime, details: dict[str, Any]) -> None:
        pipeline.check_police_contact(self.kind.value, observed_at, details)

    def record_outcome(
        self,
        *,
        token: str | None,
        outcome: dict[str, Any],
        member: str | None = None,
        member_id: str | None = None,
    ) -> None:
        # token None means the caller is an authenticated member, named in the
        # event like a verdict; the author stays anonymous.
        if token is not None:
            self.check_author(token)
            member = member_id = None
        elif member is not None:
            check_member_name(member)
        unknown = set(outcome) - set(OUTCOME_FIELDS[self.kind])
        if unknown:
            raise InvalidField(sorted(unknown)[0], "not an outcome field of this report")
        if not outcome:
            raise InvalidField("outcome", "nothing to record")
        if all(name in self.details and self.details[name] == v for name, v in outcome.items()):
            return  # a retry of an outcome already recorded
        self._outcome_recorded(outcome=outcome, member=member, member_id=member_id)

    @event("OutcomeRecorded")
    def _outcome_recorded(
        self, outcome: dict[str, Any], member: str | None = None, member_id: str | None = None
    ) -> None:
        self._take(fold.outcome_recorded(self._state(), outcome))


class CourthouseArrest(ReportWithOutcome):
    """An arrest at or around a courthouse."""


class Sighting(Report):
    """Agents or vehicles seen at a place, no arrest known."""


class CallInAppearance(ReportWithOutcome):
    def check_observed_at(self, observed_at: datetime, now: datetime) -> None:
        # observed_at is the appointment time: it may lie ahead.
        check_plausible_time("observed_at", observed_at, now, ahead=FURTHEST_APPOINTMENT)

    def check_details(self, details: dict[str, Any], now: datetime) -> None:
        super().check_details(details, now)
        letter = details.get("letter_date")
        if letter is not None:
            check_plausible_date("letter_date", letter, now)


class WatchShift(Report):
    """A watcher was present at a courthouse from observed_at to ended_at.

    "Nothing happened" is data: shifts are the denominator of every trend.
    """

    if TYPE_CHECKING:

        class Ended(Aggregate.Event):
            ended_at: datetime

    @property
    def ended_at(self) -> datetime | None:
        value = self.details.get("ended_at")
        return datetime.fromisoformat(value) if value else None

    def check_details(self, details: dict[str, Any], now: datetime) -> None:
        ended = details.get("ended_at")
        if ended is None:
            return
        try:
            ended_at = datetime.fromisoformat(ended)
        except (TypeError, ValueError):
            raise InvalidField("ended_at", "an ISO 8601 time with its offset") from None
        check_not_future("ended_at", ended_at, now)

    def check_shift(self, started_at: datetime, ended_at: datetime) -> None:
        if ended_at <= started_at:
            raise InvalidField("ended_at", "must be after the start of the shift")
        if ended_at - started_at > LONGEST_SHIFT:
            raise InvalidField("ended_at", "a shift cannot be longer than 16 hours")

    def check_consistency(self, observed_at: datetime, details: dict[str, Any]) -> None:
        ended = details.get("ended_at")
        if ended is not None:
            self.check_shift(observed_at, datetime.fromisoformat(ended))

    def end_shift(self, *, token: str, ended_at: datetime, now: datetime) -> None:
        self.check_author(token)
        if self.ended_at is not None:
            if self.ended_at == ended_at:
                return  # a retry of this very end: nothing more to store
            raise ShiftAlreadyEnded()
        check_not_future("ended_at", ended_at, now)
        self.check_shift(self.observed_at, ended_at)
        self._ended(ended_at=ended_at)

    @event("Ended")
    def _ended(self, ended_at: datetime) -> None:
        self._take(fold.shift_ended(self._state(), ended_at))


REPORT_CLASSES: dict[Kind, type[Report]] = {
    Kind.COURTHOUSE_ARREST: CourthouseArrest,
    Kind.SIGHTING: Sighting,
    Kind.CALL_IN: CallInAppearance,
    Kind.WATCH_SHIFT: WatchShift,
}
KIND_OF: dict[str, Kind] = {cls.__name__: kind for kind, cls in REPORT_CLASSES.items()}
OUTCOME_FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.COURTHOUSE_ARREST: ("outcome", "taken_to"),
    Kind.CALL_IN: ("outcome",),
}
# Members' presence on a report: who is going, who is there, who closed it.
# Each carries the member's display name in ``member`` and a random ``nonce``;
# public views withhold both for a while (courtwatch.application.PRESENCE_EMBARGO).
PRESENCE_EVENTS = ("Claimed", "ConfirmedOnScene", "Resolved")
# What public views leave out of a presence event while it is recent.
WITHHELD_PRESENCE_FIELDS = ("member", "member_id", "nonce")
# Every event that changes a report, as stored topics: what a read model of
# reports subscribes to (the gazetteer's events are not reports).
REPORT_TOPICS: tuple[str, ...] = (
    *(get_topic(cls.Submitted) for cls in REPORT_CLASSES.values()),  # type: ignore[attr-defined]
    *(get_topic(getattr(Report, n)) for n in ("Amended", "Corroborated", "Verified", "Disputed")),
    *(get_topic(getattr(Report, n)) for n in PRESENCE_EVENTS),
    get_topic(ReportWithOutcome.OutcomeRecorded),  # type: ignore[attr-defined]
    get_topic(WatchShift.Ended),  # type: ignore[attr-defined]
)


def evolve(state: ReportState | None, domain_event: Any) -> ReportState:
    """A report's state after one of its events: the fold every read model uses."""
    if isinstance(domain_event, Report.Submitted):
        kind = next(k for k, c in REPORT_CLASSES.items() if isinstance(domain_event, c.Submitted))  # type: ignore[attr-defined]
        return fold.submitted(
            kind,
            courthouse_code=domain_event.courthouse_code,
            lat=domain_event.lat,
            lon=domain_event.lon,
            observed_at=domain_event.observed_at,
            details=domain_event.details,
        )
    if state is None:
        raise ValueError(f"{type(domain_event).__qualname__} for a report never submitted")
    if isinstance(domain_event, Report.Amended):
        return fold.amended(state, domain_event.changes)
    if isinstance(domain_event, Report.Corroborated):
        return fold.corroborated(state)
    if isinstance(domain_event, Report.Verified):
        return fold.given_verdict(state, "verified")
    if isinstance(domain_event, Report.Disputed):
        return fold.given_verdict(state, "disputed")
    if isinstance(domain_event, Report.Claimed):
        return fold.claimed(state, domain_event.member)
    if isinstance(domain_event, Report.ConfirmedOnScene):
        return fold.confirmed_on_scene(state, domain_event.member)
    if isinstance(domain_event, Report.Resolved):
        return fold.resolved(state, domain_event.member)
    if isinstance(domain_event, ReportWithOutcome.OutcomeRecorded):  # type: ignore[attr-defined]
        return fold.outcome_recorded(state, domain_event.outcome)
    if isinstance(domain_event, WatchShift.Ended):  # type: ignore[attr-defined]
        return fold.shift_ended(state, domain_event.ended_at)
    raise TypeError(f"not a report event: {type(domain_event).__qualname__}")


def is_imported(report_id: UUID) -> bool:
    """Whether a report was imported from historical records (courtwatch/importing).

    Their ids, and theirs only, are UUIDv5 (of the normalised row): reports
    sent from phones get version-4 ids (Courtwatch.report_id_for). Projections
    that see only report topics, and so never the nested Imported event, can
    tell an imported report from its Submitted event alone.
    """
    return report_id.version == 5


def is_report_event(domain_event: Any) -> bool:
    """Whether ``domain_event`` changes a report (the gazetteer's events do not)."""
    return get_topic(type(domain_event)) in REPORT_TOPICS
