"""What the web and the CLI do with sealed details: seal at submission, read
(audited), redact (destroy the data key, then log it), disclose one field.

Where the unsealing key lives is the operator's choice (docs/sealed-data.md):

- ``COURTWATCH_UNSEALING_KEY`` unset: a file under the data folder,
  ``<data>/sealing/unsealing.key`` (mode 0600), made on first start;
- a path: that file;
- ``offline``: nowhere on this server. The web process can seal but never
  unseal; a lawyer reads with ``courtwatch sealed read --key FILE`` on their
  own machine, against the database.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4, uuid5

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from courtwatch import photos
from courtwatch.application import Courtwatch, ReportNotFound, SubmitResult
from courtwatch.domain.errors import DomainError
from courtwatch.infrastructure.config import ConfigError, Settings
from courtwatch.infrastructure.database import Database
from courtwatch.intake import ValidationFailed
from courtwatch.sealed.store import PendingEnvelope, SealedRead, SealedStore
from courtwatch.sealing import keys
from courtwatch.sealing.disclosure import make_disclosure, make_photo_disclosure
from courtwatch.sealing.envelope import Opened, reseal, seal, seal_blob, unseal, unseal_blob
from courtwatch.sealing.fields import SEALED_FIELDS, SealedFieldProblem, clean_sealed_values

log = logging.getLogger("courtwatch.sealed")

OFFLINE = "offline"
# Photo ids from (report id, client key): a retried upload is the same photo.
SEALING_KEY_TTL = 30.0
PHOTO_IDS = UUID("6d1f3c2a-8b7e-4f0a-9c55-1d2e3f405162")


class NoSealingKey(DomainError):
    """No public sealing key is installed: sealed details cannot be accepted."""


class UnsealingKeyAbsent(DomainError):
    """This server holds no unsealing key (offline mode, or the key file is elsewhere)."""


class SealedDataErased(DomainError):
    """The report's sealed details were redacted: they no longer exist anywhere."""


def _now() -> datetime:
    return datetime.now(UTC)


def unsealing_key_path(settings: Settings) -> Path | None:
    setting = settings.unsealing_key_setting
    if setting == OFFLINE:
        return None
    return Path(setting) if setting else settings.data_dir / "sealing" / "unsealing.key"


class SealedDetails:
    def __init__(
        self,
        database: Database,
        app: Courtwatch,
        private_key: X25519PrivateKey | None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = SealedStore(database)
        self.app = app
        self._private = private_key
        self._clock = clock
        self._sealing_key: tuple[float, X25519PublicKey] | None = None

    @classmethod
    def open(cls, database: Database, app: Courtwatch, settings: Settings) -> SealedDetails:
        """Install the tables; with a key file, make or read it and install its public key."""
        store = SealedStore(database)
        store.install()
        path = unsealing_key_path(settings)
        private: X25519PrivateKey | None = None
        try:
            if path is not None and not path.exists() and not store.public_keys(pooled=False):
                # First start with the embedded default: one key pair, the private half here.
                keys.write_private_key(path, keys.generate())
                log.info("made a new unsealing key", extra={"sealing_key_file": str(path)})
            if path is not None and path.exists():
                private = keys.read_private_key(path)
                public = private.public_key()
                store.add_public_key(keys.fingerprint(public), keys.public_bytes(public), _now())
            elif path is not None:
                # Sealing keys exist but not this file: never make a second key
                # pair behind the operator's back (new reports would be sealed to it).
                log.warning(
                    "no unsealing key file: this process can seal but not unseal",
                    extra={"sealing_key_file": str(path)},
                )
        except (keys.SealingKeyError, OSError) as error:
            raise ConfigError(f"COURTWATCH_UNSEALING_KEY: {error}") from None
        return cls(database, app, private)

    @property
    def can_unseal(self) -> bool:
        return self._private is not None

    def sealing_key(self) -> X25519PublicKey:
        # Read at most every SEALING_KEY_TTL seconds: a key installed with the
        # CLI is used by every process within that time.
        now = time.monotonic()
        if self._sealing_key is None or now - self._sealing_key[0] > SEALING_KEY_TTL:
            found = self.store.public_keys()
            if not found:
                raise NoSealingKey(
                    "no sealing key is installed: run `courtwatch sealed install-public-key`"
                )
            self._sealing_key = (now, X25519PublicKey.from_public_bytes(found[0][1]))
        return self._sealing_key[1]

    # -- sealing ------------------------------------------------------------------

    def submit(self, payload: Mapping[str, Any], client_key: str, sealed: Any) -> SubmitResult:
        """Submit a report; its sealed part (if any value) is sealed and stored with it."""
        try:
            values = clean_sealed_values(sealed)
        except SealedFieldProblem as problem:
            raise ValidationFailed.single(problem.field, problem.reason) from None
        if not values:
            return self.app.submit(payload, client_key)
        organisation = self.sealing_key()

        def prepare(report_id: UUID) -> PendingEnvelope:
            sealed_part = seal(report_id, values, organisation)
            return self.store.pending(
                report_id,
                key_fingerprint=sealed_part.key_fingerprint,
                fields=sealed_part.fields,
                wrapped_key=sealed_part.wrapped_key,
                ciphertext=sealed_part.ciphertext,
                commitments=sealed_part.commitments,
                now=self._clock(),
            )

        return self.app.submit(payload, client_key, sealing=prepare)

    # -- reading ------------------------------------------------------------------

    def _opened(self, report_id: UUID, private: X25519PrivateKey | None) -> dict[str, Opened]:
        if private is None:
            raise UnsealingKeyAbsent(
                "this server holds no unsealing key: sealed details are read with "
                "`courtwatch sealed read` on the machine that has it"
            )
        envelope = self.store.envelope(report_id)
        if envelope is None:
            raise ReportNotFound(report_id)
        if envelope.redacted_at is not None:
            raise SealedDataErased(
                f"the sealed details of report {report_id} were redacted and no longer exist"
            )
        return unseal(report_id, envelope.ciphertext, envelope.wrapped_key, private)

    def read(
        self,
        report_id: UUID,
        *,
        member_id: UUID | None,
        reader: str,
        private: X25519PrivateKey | None = None,
    ) -> dict[str, str]:
        """The sealed values (empty fields left out). The read is recorded first:
        if it cannot be recorded, nothing is shown."""
        opened = self._opened(report_id, private or self._private)
        shown = {name: item.value for name, item in opened.items() if item.value}
        self.store.record_read(
            report_id,
            member_id=member_id,
            reader=reader,
            action="read",
            fields=tuple(name for name in SEALED_FIELDS if name in shown),
            now=self._clock(),
        )
        log.info(
            "sealed details read",
            extra={
                "sealed_event": "read",
                "report_id": str(report_id),
                "by_member": str(member_id) if member_id else "cli",
            },
        )
        return shown

    def reads(self, report_id: UUID | None = None, limit: int = 200) -> list[SealedRead]:
        return self.store.reads(report_id, limit)

    def disclose(
        self,
        report_id: UUID,
        field: str,
        *,
        reader: str,
        member_id: UUID | None = None,
        private: X25519PrivateKey | None = None,
    ) -> dict[str, Any]:
        opened = self._opened(report_id, private or self._private)
        if field not in opened:
            raise ValidationFailed.single("field", "not a sealed field")
        report = self.app._report(report_id)
        logged = (report.sealed_commitments or {}).get(field)
        if logged is None:
            raise ReportNotFound(report_id)
        self.store.record_read(
            report_id,
            member_id=member_id,
            reader=reader,
            action="disclose",
            fields=(field,),
            now=self._clock(),
        )
        item = opened[field]
        return make_disclosure(report_id, field, item.value, item.salt, logged)

    # -- redaction -----------------------------------------------------------------

    def redact(
        self,
        report_id: UUID,
        *,
        token: str | None,
        by: str,
        member_id: UUID | None,
        reason: str,
        fields: list[str] | None = None,
    ) -> int | None:
        """Destroy the data key, then append Redacted.

        In this order: if the event cannot be stored, the values are gone
        anyway (the safe failure) and a retry appends the event.

        ``fields`` (some sealed fields, not all) erases only those: the rest is
        re-sealed under a new data key, which needs the unsealing key here.
        """
        if fields is not None and not set(SEALED_FIELDS) <= set(fields):
            return self._redact_some(
                report_id, token=token, by=by, member_id=member_id, reason=reason, fields=fields
            )
        report = self.app.check_may_redact(report_id, token, reason)
        envelope = self.store.envelope(report_id)
        # Every sealed field is named, given or not: the public event must not say
        # which details (a name, an A-number) the report held, as its commitments don't.
        fields = [*(SEALED_FIELDS if envelope else ()), *(["photos"] if report.photos else [])]
        self.store.destroy(report_id, self._clock())
        position = self.app.redact(report_id, token=token, by=by, fields=fields, reason=reason)
        if position is None:
            return None  # redacted before: a retry (its keys destroyed again, if restored)
        self.store.record_read(
            report_id,
            member_id=member_id,
            reader=by,
            action="redact",
            fields=tuple(fields),
            now=self._clock(),
        )
        log.info(
            "sealed details redacted",
            extra={"sealed_event": "redacted", "report_id": str(report_id), "reason": reason},
        )
        return position

    def _redact_some(
        self,
        report_id: UUID,
        *,
        token: str | None,
        by: str,
        member_id: UUID | None,
        reason: str,
        fields: list[str],
    ) -> int | None:
        unknown = sorted(set(fields) - set(SEALED_FIELDS))
        if unknown or not fields:
            raise ValidationFailed.single("fields", "sealed field names, e.g. person_name")
        report = self.app.check_may_redact(report_id, token, reason)
        if report.sealed_commitments is None or report.redacted:
            raise SealedDataErased("this report has no sealed fields left to redact")
        private = self._private
        if private is None:
            raise UnsealingKeyAbsent(
                "erasing some fields re-seals the rest, which needs the unsealing key: "
                "redact every field, or do it where the key is"
            )
        organisation = self.sealing_key()

        def without_fields(envelope: Any) -> tuple[bytes, bytes, str, tuple[str, ...]]:
            opened = unseal(report_id, envelope.ciphertext, envelope.wrapped_key, private)
            kept = {name: item for name, item in opened.items() if name not in fields}
            resealed = reseal(report_id, kept, organisation)
            return (
                resealed.ciphertext,
                resealed.wrapped_key,
                resealed.key_fingerprint,
                resealed.fields,
            )

        try:
            self.store.replace_sealed(report_id, without_fields)
        except LookupError:
            raise ReportNotFound(report_id) from None
        position = self.app.redact(
            report_id, token=token, by=by, fields=sorted(set(fields)), reason=reason
        )
        if position is not None:
            self._record(report_id, member_id, by, "redact", tuple(sorted(set(fields))))
        return position

    # -- photos --------------------------------------------------------------------

    def attach_photo(
        self,
        report_id: UUID,
        token: str,
        data: bytes,
        client_key: str | None,
        checked: photos.Checked | None = None,
    ) -> tuple[UUID, int | None]:
        """Seal a photo the author adds; PhotoRefused (4xx) stores nothing.

        With a client key a retried upload maps to the same photo and is stored once.
        ``checked``: what photos.check found in these bytes (the report form
        checks every photo before it stores the report); used only if it
        describes these very bytes, else the photo is decoded here.
        """
        self.app.check_author_of(report_id, token)  # before decoding anything
        if checked is not None and checked.describes(data):
            info = checked.info
        else:
            info = photos.inspect(data)
        photo_id = uuid5(PHOTO_IDS, f"{report_id}:{client_key}") if client_key else uuid4()
        organisation = self.sealing_key()
        blob = seal_blob(report_id, f"photo:{photo_id}", data, organisation)
        pending = self.store.pending_photo(
            photo_id,
            report_id,
            content_type=info.content_type,
            key_fingerprint=keys.fingerprint(organisation),
            wrapped_key=blob.wrapped_key,
            ciphertext=blob.ciphertext,
            now=self._clock(),
        )
        try:
            position = self.app.attach_photo(report_id, token, str(photo_id), blob.commitment)
        except BaseException:
            pending.rollback()
            raise
        (pending.commit if position is not None else pending.rollback)()
        return photo_id, position

    def _photo(
        self, report_id: UUID, photo_id: UUID, private: X25519PrivateKey | None
    ) -> tuple[str, bytes, bytes]:
        """(content type, salt, original bytes)."""
        if private is None:
            raise UnsealingKeyAbsent("this server holds no unsealing key")
        found = self.store.photo(report_id, photo_id)
        if found is None:
            raise ReportNotFound(report_id)
        if found.redacted_at is not None:
            raise SealedDataErased("this photo was redacted and no longer exists")
        salt, data = unseal_blob(
            report_id, f"photo:{photo_id}", found.ciphertext, found.wrapped_key, private
        )
        return found.content_type, salt, data

    def photo_original(
        self, report_id: UUID, photo_id: UUID, *, member_id: UUID | None, reader: str
    ) -> tuple[str, bytes]:
        content_type, _, data = self._photo(report_id, photo_id, self._private)
        self._record(report_id, member_id, reader, "read", (f"photo:{photo_id}",))
        return content_type, data

    def photo_preview(
        self, report_id: UUID, photo_id: UUID, *, member_id: UUID | None, reader: str
    ) -> bytes:
        """What the public copy would be: for a responder deciding whether it is safe."""
        _, _, data = self._photo(report_id, photo_id, self._private)
        self._record(report_id, member_id, reader, "read", (f"preview:{photo_id}",))
        return photos.public_copy(data)

    def publish_photo(
        self, report_id: UUID, photo_id: UUID, *, member_id: UUID | None, by: str
    ) -> int | None:
        _, _, data = self._photo(report_id, photo_id, self._private)
        public = photos.public_copy(data)
        digest = hashlib.sha256(public).hexdigest()
        self.store.set_public_copy(photo_id, public)
        return self.app.publish_photo(report_id, str(photo_id), by, digest)

    def disclose_photo(
        self,
        report_id: UUID,
        photo_id: UUID,
        file_name: str,
        *,
        reader: str,
        private: X25519PrivateKey | None = None,
    ) -> tuple[dict[str, Any], bytes]:
        """The original file and the disclosure that ties it to the logged commitment."""
        _, salt, data = self._photo(report_id, photo_id, private or self._private)
        logged = self.app._report(report_id).photos.get(str(photo_id))
        if logged is None:
            raise ReportNotFound(report_id)
        self._record(report_id, None, reader, "disclose", (f"photo:{photo_id}",))
        return make_photo_disclosure(report_id, str(photo_id), file_name, salt, logged), data

    def public_photo(self, report_id: UUID, photo_id: UUID) -> bytes:
        found = self.store.photo(report_id, photo_id)
        if found is None or found.public_copy is None:
            raise ReportNotFound(report_id)
        return found.public_copy

    def _record(
        self,
        report_id: UUID,
        member_id: UUID | None,
        reader: str,
        action: str,
        fields: tuple[str, ...],
    ) -> None:
        self.store.record_read(
            report_id,
            member_id=member_id,
            reader=reader,
            action=action,
            fields=fields,
            now=self._clock(),
        )
