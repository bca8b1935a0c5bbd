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

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from courtwatch.application import Courtwatch, ReportNotFound, SubmitResult
from courtwatch.domain.errors import DomainError
from courtwatch.infrastructure.config import ConfigError, Settings
from courtwatch.infrastructure.database import Database
from courtwatch.intake import ValidationFailed
from courtwatch.sealed.store import PendingEnvelope, SealedRead, SealedStore
from courtwatch.sealing import keys
from courtwatch.sealing.disclosure import make_disclosure
from courtwatch.sealing.envelope import Opened, seal, unseal
from courtwatch.sealing.fields import SealedFieldProblem, clean_sealed_values

log = logging.getLogger("courtwatch.sealed")

OFFLINE = "offline"


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

    @classmethod
    def open(cls, database: Database, app: Courtwatch, settings: Settings) -> SealedDetails:
        """Install the tables; with a key file, make or read it and install its public key."""
        store = SealedStore(database)
        store.install()
        path = unsealing_key_path(settings)
        private: X25519PrivateKey | None = None
        try:
            if path is not None and not path.exists() and not store.public_keys():
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
        found = self.store.public_keys()
        if not found:
            raise NoSealingKey(
                "no sealing key is installed: run `courtwatch sealed install-public-key`"
            )
        return X25519PublicKey.from_public_bytes(found[0][1])

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
            fields=tuple(sorted(shown)),
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
    ) -> int | None:
        """Destroy the data key, then append Redacted.

        In this order: if the event cannot be stored, the values are gone
        anyway (the safe failure) and a retry appends the event.
        """
        self.app.check_may_redact(report_id, token, reason)
        envelope = self.store.envelope(report_id)
        if envelope is None:
            raise ReportNotFound(report_id)
        self.store.destroy(report_id, self._clock())
        position = self.app.redact(
            report_id, token=token, by=by, fields=list(envelope.fields), reason=reason
        )
        self.store.record_read(
            report_id,
            member_id=member_id,
            reader=by,
            action="redact",
            fields=envelope.fields,
            now=self._clock(),
        )
        log.info(
            "sealed details redacted",
            extra={"sealed_event": "redacted", "report_id": str(report_id), "reason": reason},
        )
        return position
