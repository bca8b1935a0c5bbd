"""The application façade: plain types in, plain types out.

The web layer and the CLI speak to courtwatch only through :class:`Courtwatch`.
Its methods are synchronous (eventsourcing's PostgreSQL recorder is), so async
callers run them in a worker thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from courtwatch.domain.courthouses import GAZETTEER_ID, Gazetteer
from courtwatch.domain.errors import InvalidField, WrongAuthorToken
from courtwatch.domain.fold import WHERE_AND_WHEN
from courtwatch.domain.pipeline import with_defaults
from courtwatch.domain.reports import (
    KIND_OF,
    OUTCOME_FIELDS,
    PRESENCE_EVENTS,
    REPORT_CLASSES,
    WITHHELD_PRESENCE_FIELDS,
    Report,
    evolve,
    is_report_event,
)
from courtwatch.domain.vocabulary import DisputeReason, Kind
from courtwatch.gazetteer import Courthouse, immigration_courts, local_courthouse
from courtwatch.group_commit import GroupCommitter
from courtwatch.infrastructure import event_log
from courtwatch.intake import (
    COMMON_FIELDS,
    FieldProblem,
    ValidationFailed,
    check_plain_values,
    details_of,
    parse_amendment,
    parse_submission,
)

CLIENT_KEY = re.compile(r"^[A-Za-z0-9_.:-]{16,128}$")
# A dropped pin is rounded to ~110 m: enough to find a courthouse entrance or a
# parked van, not enough to single out the reporter's doorstep.
PIN_DECIMALS = 3
# Fields of an event that say who acted, kept out of what the public sees.
PRIVATE_EVENT_FIELDS = frozenset({"author_token_hash", "corroborator_hash"})
LOCAL_COURTHOUSES_TTL = 5.0
# A responder's name on "I'm going" or "on scene" says where a person is right
# now: anyone who can read public views (a hostile author who made up a report
# to see who comes, say) must not learn it while it is true. Public views show
# these events without the name until they are this old; the evidence bundle,
# which must carry every event verbatim, waits as long (docs/members.md).
PRESENCE_EMBARGO = timedelta(hours=24)
# Two writers of one aggregate at once: the loser's save() hits the unique
# (originator_id, originator_version) and its command is run again on the new
# state. Writers in one application instance queue on a lock first, so retries
# only happen between processes. A loser conflicts again only if another save
# lands inside its read-to-save window, so even a writer in a tight loop next
# door loses 20 times in a row rarely; then the answer is 503 with Retry-After.
WRITE_ATTEMPTS = 20
RETRY_PAUSE = 0.005
WRITE_LOCK_STRIPES = 64


class ReportNotFound(LookupError):
    def __init__(self, report_id: UUID | str) -> None:
        super().__init__(f"no report with id {report_id}")
        self.report_id = report_id


class ShiftStillRunning(ReportNotFound):
    """A running watch shift is not public: its start time and place would
    locate a watcher who is still there. It is shown once it has ended."""

    def __init__(self, report_id: UUID | str) -> None:
        super().__init__(report_id)
        self.args = (f"report {report_id} is a watch shift still running: shown once it has ended",)


class NamesWithheld(Exception):
    """A public view would show a member's name that says where they are now."""

    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__(
            "this report names a team member who went there in the last 24 hours; "
            f"its evidence bundle is public from {until.isoformat()} (members may fetch it now)"
        )
        self.retry_after = max(1, int((until - now).total_seconds()) + 1)


class IdempotencyConflict(Exception):
    """A client key was reused for a different report."""


class WriteContention(Exception):
    """Other writers kept changing the record for every attempt; nothing was stored."""


def _client_coordinate(value: float | None) -> float | None:
    # A pin a client sends is rounded to ~110 m on every path (submit with or
    # without a courthouse, amend): it may be where the reporter stands.
    return None if value is None else round(value, PIN_DECIMALS)


@dataclass(frozen=True)
class SubmitResult:
    report_id: UUID
    author_token: str
    created: bool  # False when this was a replay of an earlier submission
    position: int | None  # notification id of the Submitted event, when created


class PreparedSeal(Protocol):
    """A report's sealed part, written but not committed until its events are stored."""

    commitments: dict[str, str]

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


class Courtwatch(Application[UUID]):
    name = "Courtwatch"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        secret: bytes | None = None,
        clock: Callable[[], datetime] = utcnow,
        courthouses: Sequence[Courthouse] | None = None,
    ) -> None:
        super().__init__(env)
        # A fixed list instead of the gazetteer's: an import's worker process
        # (courtwatch/importing/workers.py) has no database to read it from.
        self._fixed_courthouses = None if courthouses is None else list(courthouses)
        self._fixed_by_code: dict[str, Courthouse] | None = None
        # Derives report ids and author tokens from client keys. Projection
        # runners construct the application without it: they never submit.
        self._secret = secret
        self._clock = clock
        self._local_courthouses: tuple[float, list[Courthouse]] | None = None
        # Striped, so memory stays bounded however many reports are written.
        self._write_locks = tuple(threading.Lock() for _ in range(WRITE_LOCK_STRIPES))
        # Concurrent submissions share one insert transaction (one table lock,
        # one commit) instead of queueing for it one by one: see group_commit.
        self.submissions = GroupCommitter(self.recorder.insert_events)

    def _write_lock(self, aggregate_id: UUID) -> threading.Lock:
        return self._write_locks[aggregate_id.int % WRITE_LOCK_STRIPES]

    # Identity ---------------------------------------------------------------

    def _derive(self, purpose: bytes, client_key: str) -> bytes:
        if self._secret is None:
            raise RuntimeError("this Courtwatch instance was built without a secret")
        return hmac.new(self._secret, purpose + b"\0" + client_key.encode(), "sha256").digest()

    def report_id_for(self, client_key: str) -> UUID:
        """A retried submission maps to the same report, so it is stored once."""
        return UUID(bytes=self._derive(b"report-id", client_key)[:16], version=4)

    def _author_token_for(self, client_key: str) -> str:
        # Derived, not random, so a retry whose first answer was lost still
        # gets the token back; only its hash enters the log.
        return base64.urlsafe_b64encode(self._derive(b"author-token", client_key)).decode()[:43]

    # Courthouses ------------------------------------------------------------

    def courthouses(self) -> list[Courthouse]:
        # Every submission checks its courthouse; coordinators add one rarely.
        if self._fixed_courthouses is not None:
            return self._fixed_courthouses
        # A few seconds' staleness across processes is the price of not
        # reading the gazetteer's events on every report.
        now = time.monotonic()
        if (
            self._local_courthouses is None
            or now - self._local_courthouses[0] > LOCAL_COURTHOUSES_TTL
        ):
            local = [local_courthouse(c) for c in self._gazetteer().courthouses.values()]
            self._local_courthouses = (now, local)
        return [*immigration_courts(), *self._local_courthouses[1]]

    def courthouse(self, code: str) -> Courthouse | None:
        if self._fixed_courthouses is not None:
            # An import's worker asks once per row: a dict, not a scan.
            if self._fixed_by_code is None:
                self._fixed_by_code = {}
                for c in self._fixed_courthouses:
                    self._fixed_by_code.setdefault(c.code, c)  # the first, as the scan found
            return self._fixed_by_code.get(code)
        return next((c for c in self.courthouses() if c.code == code), None)

    def _known_courthouse(self, code: str) -> Courthouse:
        courthouse = self.courthouse(code)
        if courthouse is None:
            raise ValidationFailed.single("courthouse_code", "unknown courthouse")
        return courthouse

    def _gazetteer(self) -> Gazetteer:
        try:
            return self.repository.get(GAZETTEER_ID)
        except AggregateNotFoundError:
            return Gazetteer(GAZETTEER_ID)

    def add_courthouse(self, courthouse: Mapping[str, Any]) -> None:
        check_plain_values(dict(courthouse))
        taken = {c.code for c in immigration_courts()}
        with self._write_lock(GAZETTEER_ID):
            for attempt in range(WRITE_ATTEMPTS):
                gazetteer = self._gazetteer()
                gazetteer.add_courthouse(dict(courthouse), taken)
                try:
                    self.save(gazetteer)
                except IntegrityError:
                    _pause(attempt)
                    continue
                self._local_courthouses = None
                return
        raise WriteContention("the gazetteer kept changing; try again")

    # Reports ----------------------------------------------------------------

    def submit(
        self,
        payload: Mapping[str, Any],
        client_key: str,
        sealing: Callable[[UUID], PreparedSeal] | None = None,
    ) -> SubmitResult:
        if not isinstance(client_key, str) or not CLIENT_KEY.fullmatch(client_key):
            raise ValidationFailed.single(
                "client_key", "16-128 letters, digits or . _ : - (generate one per report)"
            )
        report_id = self.report_id_for(client_key)
        token = self._author_token_for(client_key)
        report = self._new_report(payload, token, lambda _: report_id)
        if sealing is None:
            return self._store_submission(report_id, token, report)
        # The sealed part's row is written first and committed only once the
        # events are stored: a refused or failed submission leaves nothing, and a
        # replay (events already stored) keeps the sealed part it was first sent with.
        prepared = sealing(report_id)
        try:
            report.attach_sealed(commitments=prepared.commitments)
            result = self._store_submission(report_id, token, report)
        except BaseException:
            prepared.rollback()
            raise
        if result.created:
            prepared.commit()
            return result
        prepared.rollback()
        if self._report(report_id).sealed_commitments is None:
            # The first submission under this key had no sealed part: saying
            # "stored" now would lose the sealed details the client just sent.
            raise IdempotencyConflict(
                "this client key was already used for a report without sealed details"
            )
        return result

    def _new_report(
        self, payload: Mapping[str, Any], token: str, id_of: Callable[[Any], UUID]
    ) -> Report:
        """A report as a submission would make it, every check passed, not yet saved.

        The one way a report comes to be: the web form, the JSON API and the
        importer all pass here, so none can store what another would refuse.
        ``id_of`` gives the report's id from the validated submission (the
        importer's ids are derived from its normalised content).
        """
        report_class, report_id, fields = self._parsed_submission(
            payload, lambda submission, _details: id_of(submission)
        )
        try:
            return report_class.submit(  # type: ignore[attr-defined,no-any-return]
                report_id, **fields, author_token=token, now=self._clock()
            )
        except InvalidField as error:
            raise ValidationFailed.single(error.field, error.reason) from None

    def _parsed_submission(
        self, payload: Mapping[str, Any], id_of: Callable[[Any, dict[str, Any]], UUID]
    ) -> tuple[type[Report], UUID, dict[str, Any]]:
        """A submission through intake, its courthouse known: the report's
        class, its id (``id_of(submission, details)``) and its fields, for
        the domain's checks."""
        submission = parse_submission(payload)
        details = details_of(submission)
        report_id = id_of(submission, details)
        lat, lon = _client_coordinate(submission.lat), _client_coordinate(submission.lon)
        if submission.courthouse_code is not None:
            courthouse = self._known_courthouse(submission.courthouse_code)
            if lat is None:
                lat, lon = courthouse.lat, courthouse.lon
        fields = {"courthouse_code": submission.courthouse_code, "lat": lat, "lon": lon,
                  "observed_at": submission.observed_at, "details": details}  # fmt: skip
        kind = Kind(submission.kind)  # type: ignore[attr-defined]
        return REPORT_CLASSES[kind], report_id, fields

    # Imports (courtwatch/importing) ------------------------------------------

    def prepare_import(
        self,
        payload: Mapping[str, Any],
        id_of: Callable[[Any], UUID],
        source_sha256: str,
        source_row: int,
        author_token: str,
    ) -> Report:
        """An imported row as a report (same checks as any submission), marked
        as imported from ``source_sha256``; saved later with store_imports.
        The import command uses prepare_import_events, which must store the
        same bytes (tests/importing/test_fast_events.py compares them).

        ``author_token`` is random and handed to no one (see import_token): a
        historical record has no author on this system to amend it; members
        verify, dispute and redact it like any report.
        """
        report = self._new_report(payload, author_token, id_of)
        try:
            report.mark_imported(source_sha256=source_sha256, source_row=source_row)
        except InvalidField as error:
            raise ValidationFailed.single(error.field, error.reason) from None
        return report

    def prepare_import_events(
        self,
        payload: Mapping[str, Any],
        id_of: Callable[[Any, dict[str, Any]], UUID],
        source_sha256: str,
        source_row: int,
        author_token_hash: str,
    ) -> tuple[UUID, list[StoredEvent]]:
        """What prepare_import then serialising its events gives, without
        building the report: the same checks, the same stored events (an
        import's CPU went mostly into the aggregate around them).
        ``id_of(submission, details)`` gives the id from the validated
        submission and its details as stored."""
        report_class, report_id, fields = self._parsed_submission(payload, id_of)
        try:
            report_class.check_submission(**fields, now=self._clock())  # type: ignore[attr-defined]
            events = report_class.imported_events(  # type: ignore[attr-defined]
                report_id, **fields, author_token_hash=author_token_hash,
                source_sha256=source_sha256, source_row=source_row,
            )  # fmt: skip
        except InvalidField as error:
            raise ValidationFailed.single(error.field, error.reason) from None
        to_stored = self.mapper.to_stored_event
        return report_id, [to_stored(e) for e in events]

    @staticmethod
    def import_token() -> str:
        """An author token for one import run, kept by no one. One per run, not
        per row: its hash would link the run's reports, which their Imported
        events (the same file's SHA-256) link already."""
        return secrets.token_urlsafe(32)

    def store_imports(self, reports: Sequence[Report]) -> list[SubmitResult]:
        """Save prepared imports in one transaction (see store_imported_events)."""
        to_stored = self.mapper.to_stored_event
        return self.store_imported_events(
            [(r.id, [to_stored(e) for e in r.collect_events()]) for r in reports]
        )

    def store_imported_events(
        self, reports: Sequence[tuple[UUID, Sequence[StoredEvent]]]
    ) -> list[SubmitResult]:
        """Save imported reports' events, already serialised (an import's worker
        processes serialise them), in one transaction: the recorder's one insert
        under eventsourcing's table lock gives every event its position in
        commit order, as save() does for any writer.

        A report already stored (a re-run, or another importer racing this
        one) makes the batch fail as a whole: then each is stored on its own,
        and one already stored with the same content is a replay, not an error.
        """
        every = [event for _, events in reports for event in events]
        try:
            if isinstance(self.recorder, PostgresApplicationRecorder):
                positions: Sequence[int] | None = event_log.insert_events_as_arrays(
                    self.recorder, every
                )
            else:  # in memory (tests, an import's workers never store)
                positions = self.recorder.insert_events(every)
        except IntegrityError:
            return [self._store_imported(report_id, events) for report_id, events in reports]
        # Each report's events are consecutive in the insert: its position is
        # its last event's (counted, not read back from 500 events' ids).
        positions = list(positions or ())
        results, end = [], 0
        for report_id, events in reports:
            end += len(events)
            position = positions[end - 1] if events and end <= len(positions) else None
            results.append(SubmitResult(report_id, "", created=True, position=position))
        return results

    def _store_imported(self, report_id: UUID, events: Sequence[StoredEvent]) -> SubmitResult:
        try:
            positions = self.recorder.insert_events(events)
        except IntegrityError:
            self._check_replay(report_id, self.mapper.to_domain_event(events[0]))
            return SubmitResult(report_id, "", created=False, position=None)
        return SubmitResult(
            report_id, "", created=True, position=positions[-1] if positions else None
        )

    def _store_submission(self, report_id: UUID, token: str, report: Report) -> SubmitResult:
        # Serialised here, in the submitting thread; stored with whatever other
        # submissions are waiting, in one transaction, committed before this returns.
        stored = [self.mapper.to_stored_event(event) for event in report.collect_events()]
        try:
            positions = self.submissions.store(stored)
        except IntegrityError:
            self._check_replay(report_id, report)
            return SubmitResult(report_id, token, created=False, position=None)
        return SubmitResult(
            report_id, token, created=True, position=positions[-1] if positions else None
        )

    def _check_replay(self, report_id: UUID, attempted: object) -> None:
        first = next(iter(self.events.get(report_id, lte=1)), None)
        if first is None:  # pragma: no cover - the unique violation says it exists
            raise ReportNotFound(report_id)
        # save() has already collected the attempt's events: compare its state
        # (or, for an import's serialised events, its own Submitted event).
        kind = (
            type(attempted).__qualname__
            if isinstance(attempted, Report.Submitted)
            else f"{type(attempted).__name__}.Submitted"
        )
        # Details as the aggregate reads them: a retry sent after a kind gained
        # fields carries them at "not known", which the first event lacks.
        report_kind = KIND_OF.get(kind.split(".", 1)[0])
        kind_value = None if report_kind is None else report_kind.value
        same = (
            type(first).__qualname__ == kind
            and with_defaults(kind_value, first.details)  # type: ignore[attr-defined]
            == with_defaults(kind_value, attempted.details)  # type: ignore[attr-defined]
            and all(
                getattr(first, name) == getattr(attempted, name)
                for name in ("courthouse_code", "lat", "lon", "observed_at")
            )
        )
        if not same:
            raise IdempotencyConflict("this client key was already used for a different report")

    def _report(self, report_id: UUID) -> Report:
        try:
            report: Any = self.repository.get(report_id)
        except AggregateNotFoundError:
            raise ReportNotFound(report_id) from None
        if not isinstance(report, Report):
            raise ReportNotFound(report_id)
        return report

    def amend(self, report_id: UUID, token: str, changes: Mapping[str, Any]) -> int | None:
        def command(report: Report) -> None:
            amended = parse_amendment(report.kind.value, _as_submitted(report), changes)
            normalised = amended.model_dump(mode="python", include=set(changes))
            new_details = details_of(amended)
            plain = {
                name: (new_details[name] if name not in COMMON_FIELDS else normalised[name])
                for name in changes
            }
            for name in ("lat", "lon"):
                if name in plain:
                    plain[name] = _client_coordinate(plain[name])
            if plain.get("courthouse_code") is not None:
                courthouse = self._known_courthouse(plain["courthouse_code"])
                # The event carries the new courthouse's position, so every read
                # model that folds it moves the pin (a report at a listed
                # courthouse takes the courthouse's position, as on submission).
                if "lat" not in plain and "lon" not in plain:
                    plain["lat"], plain["lon"] = courthouse.lat, courthouse.lon
            report.amend(token=token, changes=plain, now=self._clock())

        return self._apply(report_id, command)

    def corroborate(self, report_id: UUID, corroborator_key: str) -> int | None:
        if not isinstance(corroborator_key, str) or not CLIENT_KEY.fullmatch(corroborator_key):
            raise ValidationFailed.single("client_key", "16-128 letters, digits or . _ : -")
        # Derived with the report's id: the same key gives unrelated hashes on
        # two reports, so public bundles cannot link one person's corroborations.
        purpose = b"corroborator\0" + report_id.bytes
        digest = hashlib.sha256(self._derive(purpose, corroborator_key)).hexdigest()
        return self._apply(report_id, lambda report: report.corroborate(corroborator_hash=digest))

    # A member acts under their display name and their id: the id tells apart
    # two members a name alone would not (and stays when a name is reused).

    def verify(self, report_id: UUID, verifier: str, verifier_id: str | None = None) -> int | None:
        return self._apply(report_id, lambda report: report.verify(verifier, verifier_id))

    def dispute(
        self, report_id: UUID, verifier: str, reason: str, verifier_id: str | None = None
    ) -> int | None:
        return self._apply(report_id, lambda report: report.dispute(verifier, reason, verifier_id))

    def claim(self, report_id: UUID, member: str, member_id: str | None = None) -> int | None:
        return self._apply(report_id, lambda report: report.claim(member, member_id))

    def confirm_on_scene(
        self, report_id: UUID, member: str, member_id: str | None = None
    ) -> int | None:
        return self._apply(report_id, lambda report: report.confirm_on_scene(member, member_id))

    def resolve(self, report_id: UUID, member: str, member_id: str | None = None) -> int | None:
        return self._apply(report_id, lambda report: report.resolve(member, member_id))

    def presence_embargo_ends(self, report_id: UUID) -> datetime | None:
        """When the last member name withheld from public views of this report
        may be shown, or None when nothing is withheld any more."""
        now = self._clock()
        ends = [
            e.timestamp + PRESENCE_EMBARGO  # type: ignore[attr-defined]
            for e in self.events.get(report_id)
            if type(e).__name__ in PRESENCE_EVENTS
        ]
        latest = max(ends, default=None)
        return latest if latest is not None and latest > now else None

    def check_names_may_be_public(self, report_id: UUID) -> None:
        """Raise NamesWithheld while a verbatim copy of this report's events would
        name a member on their way or on scene (the evidence bundle)."""
        until = self.presence_embargo_ends(report_id)
        if until is not None:
            raise NamesWithheld(until, self._clock())

    def record_outcome(
        self,
        report_id: UUID,
        token: str | None,
        outcome: Mapping[str, Any],
        member: str | None = None,
        member_id: str | None = None,
    ) -> int | None:
        """An outcome from the author (``token``) or from a member (``member``,
        ``member_id``: who, named in the event like a verdict)."""
        if token is not None and not isinstance(token, str):
            raise ValidationFailed.single("token", "the author token, as text")

        def command(report: Report) -> None:
            allowed = OUTCOME_FIELDS.get(report.kind)
            if allowed is None:  # the report refuses: this kind has no outcome
                report.record_outcome(token=token, outcome=dict(outcome))
                return
            unknown = sorted(set(outcome) - set(allowed))
            if unknown:
                raise ValidationFailed(
                    [FieldProblem(field=name, reason="not an outcome field") for name in unknown]
                )
            checked = details_of(parse_amendment(report.kind.value, _as_submitted(report), outcome))
            plain = {name: checked[name] for name in outcome}
            report.record_outcome(token=token, outcome=plain, member=member, member_id=member_id)

        return self._apply(report_id, command)

    def end_shift(self, report_id: UUID, token: str, ended_at: datetime) -> int | None:
        return self._apply(
            report_id,
            lambda report: report.end_shift(token=token, ended_at=ended_at, now=self._clock()),
        )

    def redact(
        self, report_id: UUID, *, token: str | None, by: str, fields: list[str], reason: str
    ) -> int | None:
        """Append Redacted (the caller has already destroyed the data key)."""
        if token is not None and not isinstance(token, str):
            raise ValidationFailed.single("token", "the author token, as text")
        return self._apply(
            report_id,
            lambda report: report.redact(token=token, by=by, fields=fields, reason=reason),
        )

    def check_author_of(self, report_id: UUID, token: str) -> None:
        self._report(report_id).check_author(token)

    def attach_photo(
        self, report_id: UUID, token: str, photo_id: str, commitment: str
    ) -> int | None:
        return self._apply(
            report_id,
            lambda r: r.attach_photo(token=token, photo_id=photo_id, commitment=commitment),
        )

    def publish_photo(self, report_id: UUID, photo_id: str, by: str, sha256: str) -> int | None:
        return self._apply(
            report_id,
            lambda r: r.publish_photo(photo_id=photo_id, by=by, public_sha256=sha256),
        )

    def check_may_redact(self, report_id: UUID, token: str | None, reason: str) -> Report:
        """Everything ``redact`` checks, before anything is destroyed."""
        report = self._report(report_id)  # a copy: its pending event is never saved
        try:
            report.redact(token=token, by="check", fields=[], reason=reason)
        except InvalidField as error:
            raise ValidationFailed.single(error.field, error.reason) from None
        return report

    def _apply(self, report_id: UUID, command: Callable[[Report], None]) -> int | None:
        """Run a command on the report's current state and store its event.

        Commands are idempotent by state: one that would change nothing (a
        client retrying after a lost answer) stores nothing and gives None.

        save() is the last thing that can fail: once it returns, the event is
        stored and the caller must answer 2xx. A version conflict (another
        writer got there first) runs the command again on the new state, so it
        answers 409 only if the command no longer applies to that state.
        """
        with self._write_lock(report_id):
            for attempt in range(WRITE_ATTEMPTS):
                report = self._report(report_id)
                try:
                    command(report)
                except InvalidField as error:
                    raise ValidationFailed.single(error.field, error.reason) from None
                if not report.pending_events:
                    return None  # the report already says this: a retry stores nothing
                try:
                    recordings = self.save(report)
                except IntegrityError:
                    _pause(attempt)
                    continue
                return recordings[-1].notification.id
        raise WriteContention("this report kept changing while it was written; try again")

    # Reading ----------------------------------------------------------------

    def public_report(self, report_id: UUID, *, for_members: bool = False) -> dict[str, Any]:
        """What anyone may read of a report: everything, except a running watch shift.

        Report ids are not secret (every leaf of the transparency log names
        one), so a running shift's start time and place must not be served to
        whoever holds its id; its author acts on it with the edit key.
        """
        report = self.report_with_history(report_id, for_members=for_members)
        if report["kind"] == Kind.WATCH_SHIFT.value and not report["details"].get("ended_at"):
            raise ShiftStillRunning(report_id)
        return report

    def report_for_author(self, report_id: UUID, token: str) -> dict[str, Any]:
        """The report as its author may see it (a running shift included), given its edit key.

        Members' names stay withheld as for anyone: an author is anonymous, and
        a made-up report must not tell its author who came.
        """
        if not isinstance(token, str) or not token or len(token) > 200:
            raise WrongAuthorToken()
        self._report(report_id).check_author(token)
        return self.report_with_history(report_id)

    def report_with_history(self, report_id: UUID, *, for_members: bool = False) -> dict[str, Any]:
        """The report and its history; ``for_members`` adds who is going and who is there.

        Without it (anyone, including the report's author) the names on
        presence events younger than PRESENCE_EMBARGO are withheld.
        """
        # One read of the events serves both the state and the history: every
        # command answers with this, so reading twice doubled its cost.
        events = list(self.events.get(report_id))
        report: Any = project_aggregate(None, events)
        if not isinstance(report, Report):
            raise ReportNotFound(report_id)
        shown_from = self._clock() - PRESENCE_EMBARGO
        history = []
        state: dict[str, Any] | None = None
        for e in events:
            data = _public_event_data(e)
            before = _values_before(state, e)
            state = evolve(state, e) if is_report_event(e) else state
            withheld = (
                not for_members and type(e).__name__ in PRESENCE_EVENTS and e.timestamp > shown_from  # type: ignore[attr-defined]
            )
            if withheld:
                for name in WITHHELD_PRESENCE_FIELDS:
                    data.pop(name, None)
            history.append(
                {
                    "version": e.originator_version,
                    "event": type(e).__name__,
                    "timestamp": e.timestamp.isoformat(),  # type: ignore[attr-defined]
                    "data": data,
                    **({"before": before} if before is not None else {}),
                    **({"withheld": list(WITHHELD_PRESENCE_FIELDS)} if withheld else {}),
                }
            )
        members_only = (
            {
                "claimed_by": list(report.claimed_by),
                "on_scene_by": list(report.on_scene_by),
                "resolved_by": report.resolved_by,
            }
            if for_members
            else {}
        )
        return {
            **members_only,
            "id": str(report.id),
            "kind": report.kind.value,
            "status": report.status.value,
            "courthouse_code": report.courthouse_code,
            "lat": report.lat,
            "lon": report.lon,
            "observed_at": report.observed_at.isoformat(),
            "details": report.details,
            "version": report.version,
            "created_at": report.created_on.isoformat(),
            "updated_at": report.modified_on.isoformat(),
            "corroborations": len(report.corroborator_hashes),
            "history": history,
        }


def _as_submitted(report: Report) -> dict[str, Any]:
    """The report's current fields in the shape a submission has, to validate a change."""
    return {
        "courthouse_code": report.courthouse_code,
        "lat": report.lat,
        "lon": report.lon,
        "observed_at": report.observed_at,
        **report.details,
    }


def _values_before(state: dict[str, Any] | None, domain_event: Any) -> dict[str, Any] | None:
    """What an amendment or an outcome changed, as it was before: the history
    shows "before -> after" (both are public: each is in an earlier event)."""
    if state is None:
        return None
    if isinstance(domain_event, Report.Amended):
        changed = domain_event.changes
    elif type(domain_event).__name__ == "OutcomeRecorded":
        changed = domain_event.outcome
    else:
        return None
    return {
        name: _json_ready(state[name] if name in WHERE_AND_WHEN else state["details"].get(name))
        for name in changed
    }


def _pause(attempt: int) -> None:
    # Jittered, growing a little with each attempt, so contending writers spread out.
    time.sleep(random.uniform(0, RETRY_PAUSE * (attempt + 1)))


def _public_event_data(domain_event: Any) -> dict[str, Any]:
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    data = {
        name: _json_ready(value)
        for name, value in vars(domain_event).items()
        if name not in skip and name not in PRIVATE_EVENT_FIELDS
    }
    # Disputes stored before reasons were a closed list hold free text, which
    # may name someone: read views show it as "other". (The log keeps the
    # stored event, which its hashes cover; erasing it is redaction's work.)
    disputed = type(domain_event).__name__ == "Disputed"
    if disputed and "reason" in data and data["reason"] not in set(DisputeReason):
        data["reason"] = DisputeReason.OTHER.value
    return data


def _json_ready(value: Any) -> Any:
    """Event values as JSON: times (at any depth, e.g. an amended observed_at
    inside `changes`) as ISO 8601 text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value
