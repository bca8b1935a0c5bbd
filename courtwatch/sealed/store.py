"""The sealed parts, the organisation's public sealing keys and the audit of reads.

The only SQL naming these tables. No table here holds a key that can unseal
anything: ``sealed_envelopes`` keeps ciphertext and the data key *wrapped* for
the organisation's public key; ``sealed_org_keys`` keeps public keys only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from courtwatch.infrastructure.database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS sealed_org_keys (
    fingerprint text PRIMARY KEY,
    public_key bytea NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS sealed_envelopes (
    report_id uuid PRIMARY KEY,
    key_fingerprint text NOT NULL,
    fields text[] NOT NULL,
    wrapped_key bytea,
    ciphertext bytea,
    created_at timestamptz NOT NULL,
    redacted_at timestamptz,
    CHECK ((redacted_at IS NULL) = (wrapped_key IS NOT NULL AND ciphertext IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS sealed_reads (
    id bigserial PRIMARY KEY,
    report_id uuid NOT NULL,
    member_id uuid,
    reader text NOT NULL,
    action text NOT NULL CHECK (action IN ('read', 'disclose', 'redact')),
    fields text[] NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sealed_reads_at ON sealed_reads (at DESC);
CREATE TABLE IF NOT EXISTS sealed_photos (
    photo_id uuid PRIMARY KEY,
    report_id uuid NOT NULL,
    content_type text NOT NULL,
    key_fingerprint text NOT NULL,
    wrapped_key bytea,
    ciphertext bytea,
    created_at timestamptz NOT NULL,
    redacted_at timestamptz,
    -- Pixels only, re-encoded (courtwatch/photos.py), once a responder marked it safe.
    public_copy bytea
);
CREATE INDEX IF NOT EXISTS sealed_photos_report ON sealed_photos (report_id);
"""


@dataclass(frozen=True)
class Envelope:
    report_id: UUID
    key_fingerprint: str
    fields: tuple[str, ...]
    wrapped_key: bytes | None
    ciphertext: bytes | None
    created_at: datetime
    redacted_at: datetime | None


@dataclass(frozen=True)
class SealedRead:
    report_id: UUID
    member_id: UUID | None
    reader: str
    action: str
    fields: tuple[str, ...]
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_id": str(self.report_id),
            "member_id": str(self.member_id) if self.member_id else None,
            "reader": self.reader,
            "action": self.action,
            "fields": list(self.fields),
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class Photo:
    photo_id: UUID
    report_id: UUID
    content_type: str
    wrapped_key: bytes | None
    ciphertext: bytes | None
    redacted_at: datetime | None
    public_copy: bytes | None


_INSERT_ENVELOPE = (
    "INSERT INTO sealed_envelopes (report_id, key_fingerprint, fields, wrapped_key, "
    "ciphertext, created_at) VALUES (%s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (report_id) DO NOTHING"
)
_INSERT_PHOTO = (
    "INSERT INTO sealed_photos (photo_id, report_id, content_type, key_fingerprint, "
    "wrapped_key, ciphertext, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (photo_id) DO NOTHING"
)


class PendingEnvelope:
    """A sealed row inserted in an open transaction: committed once the report's events are."""

    def __init__(
        self,
        database: Database,
        row: tuple[Any, ...],
        commitments: dict[str, str],
        insert: str = _INSERT_ENVELOPE,
    ):
        self.commitments = commitments
        self._stack = contextlib.ExitStack()
        conn = self._stack.enter_context(database.pooled())
        try:
            # A replay's row exists already: the first one stays.
            conn.execute(insert, row)
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        self._stack.close()  # the pool's context commits on a clean exit

    def rollback(self) -> None:
        self._stack.__exit__(RuntimeError, RuntimeError("rolled back"), None)


class SealedStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def install(self) -> None:
        with self.database.connect(autocommit=True) as conn:
            conn.execute(SCHEMA)

    # -- keys ----------------------------------------------------------------------

    def public_keys(self, *, pooled: bool = True) -> list[tuple[str, bytes]]:
        """(fingerprint, raw public key), newest first: the first one seals.

        ``pooled=False`` at start-up and in the CLI: a process that never
        serves a sealed request keeps no pooled connection open for it.
        """
        with self.database.pooled() if pooled else self.database.connect() as conn:
            rows = conn.execute(
                "SELECT fingerprint, public_key FROM sealed_org_keys ORDER BY created_at DESC"
            ).fetchall()
        return [(row[0], bytes(row[1])) for row in rows]

    def add_public_key(self, fingerprint: str, public_key: bytes, now: datetime) -> None:
        with self.database.connect() as conn:  # rare: start-up and the CLI
            conn.execute(
                "INSERT INTO sealed_org_keys (fingerprint, public_key, created_at) "
                "VALUES (%s, %s, %s) ON CONFLICT (fingerprint) DO NOTHING",
                (fingerprint, public_key, now),
            )

    # -- envelopes -------------------------------------------------------------------

    def pending(
        self,
        report_id: UUID,
        *,
        key_fingerprint: str,
        fields: tuple[str, ...],
        wrapped_key: bytes,
        ciphertext: bytes,
        commitments: dict[str, str],
        now: datetime,
    ) -> PendingEnvelope:
        row = (report_id, key_fingerprint, list(fields), wrapped_key, ciphertext, now)
        return PendingEnvelope(self.database, row, commitments)

    def envelope(self, report_id: UUID) -> Envelope | None:
        with self.database.pooled() as conn:
            row = conn.execute(
                "SELECT report_id, key_fingerprint, fields, wrapped_key, ciphertext, created_at, "
                "redacted_at FROM sealed_envelopes WHERE report_id = %s",
                (report_id,),
            ).fetchone()
        if row is None:
            return None
        return Envelope(
            report_id=row[0],
            key_fingerprint=row[1],
            fields=tuple(row[2]),
            wrapped_key=bytes(row[3]) if row[3] is not None else None,
            ciphertext=bytes(row[4]) if row[4] is not None else None,
            created_at=row[5],
            redacted_at=row[6],
        )

    def pending_photo(
        self,
        photo_id: UUID,
        report_id: UUID,
        *,
        content_type: str,
        key_fingerprint: str,
        wrapped_key: bytes,
        ciphertext: bytes,
        now: datetime,
    ) -> PendingEnvelope:
        row = (photo_id, report_id, content_type, key_fingerprint, wrapped_key, ciphertext, now)
        return PendingEnvelope(self.database, row, {}, _INSERT_PHOTO)

    def photo(self, report_id: UUID, photo_id: UUID) -> Photo | None:
        with self.database.pooled() as conn:
            row = conn.execute(
                "SELECT photo_id, report_id, content_type, wrapped_key, ciphertext, redacted_at, "
                "public_copy FROM sealed_photos WHERE photo_id = %s AND report_id = %s",
                (photo_id, report_id),
            ).fetchone()
        if row is None:
            return None
        blob = [bytes(v) if v is not None else None for v in (row[3], row[4], row[6])]
        return Photo(row[0], row[1], row[2], blob[0], blob[1], row[5], blob[2])

    def set_public_copy(self, photo_id: UUID, data: bytes) -> None:
        with self.database.pooled() as conn:
            conn.execute(
                "UPDATE sealed_photos SET public_copy = %s "
                "WHERE photo_id = %s AND redacted_at IS NULL AND public_copy IS NULL",
                (data, photo_id),
            )

    def replace_sealed(
        self,
        report_id: UUID,
        change: Callable[[Envelope], tuple[bytes, bytes, str, tuple[str, ...]]],
    ) -> None:
        """Re-seal an envelope under a row lock: ``change`` gets the row and gives
        (ciphertext, wrapped key, key fingerprint, fields). Two partial redactions
        at once apply one after the other, so neither brings back what the other erased."""
        with self.database.pooled() as conn:
            row = conn.execute(
                "SELECT report_id, key_fingerprint, fields, wrapped_key, ciphertext, created_at, "
                "redacted_at FROM sealed_envelopes WHERE report_id = %s FOR UPDATE",
                (report_id,),
            ).fetchone()
            if row is None:
                raise LookupError(report_id)
            envelope = Envelope(
                row[0],
                row[1],
                tuple(row[2]),
                bytes(row[3]) if row[3] is not None else None,
                bytes(row[4]) if row[4] is not None else None,
                row[5],
                row[6],
            )
            ciphertext, wrapped, fingerprint, fields = change(envelope)
            conn.execute(
                "UPDATE sealed_envelopes SET ciphertext = %s, wrapped_key = %s, "
                "key_fingerprint = %s, fields = %s WHERE report_id = %s",
                (ciphertext, wrapped, fingerprint, list(fields), report_id),
            )
        with self.database.connect(autocommit=True) as conn:
            conn.execute("VACUUM (FREEZE) sealed_envelopes")

    def destroy(self, report_id: UUID, now: datetime) -> bool:
        """Drop the wrapped data keys, the ciphertexts and public copies of the
        report's sealed part and photos; False if there was nothing to destroy."""
        with self.database.pooled() as conn:
            done = conn.execute(
                "UPDATE sealed_envelopes SET wrapped_key = NULL, ciphertext = NULL, "
                "redacted_at = %s WHERE report_id = %s AND redacted_at IS NULL",
                (now, report_id),
            ).rowcount
            done += conn.execute(
                "UPDATE sealed_photos SET wrapped_key = NULL, ciphertext = NULL, "
                "public_copy = NULL, redacted_at = %s WHERE report_id = %s "
                "AND redacted_at IS NULL",
                (now, report_id),
            ).rowcount
        # The old row version stays in the table file until vacuumed: vacuum now
        # (outside a transaction), so the bytes are not left for the next dump
        # of the data folder. WAL and backups are the operator's (docs/sealed-data.md).
        with self.database.connect(autocommit=True) as conn:
            conn.execute("VACUUM (FREEZE) sealed_envelopes")
            conn.execute("VACUUM (FREEZE) sealed_photos")
        return bool(done)

    # -- the audit of reads ---------------------------------------------------------

    def record_read(
        self,
        report_id: UUID,
        *,
        member_id: UUID | None,
        reader: str,
        action: str,
        fields: tuple[str, ...],
        now: datetime,
    ) -> None:
        with self.database.pooled() as conn:
            conn.execute(
                "INSERT INTO sealed_reads (report_id, member_id, reader, action, fields, at) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (report_id, member_id, reader, action, list(fields), now),
            )

    def reads(self, report_id: UUID | None = None, limit: int = 200) -> list[SealedRead]:
        query = "SELECT report_id, member_id, reader, action, fields, at FROM sealed_reads"
        params: tuple[Any, ...] = ()
        if report_id is not None:
            query += " WHERE report_id = %s"
            params = (report_id,)
        query += " ORDER BY at DESC, id DESC LIMIT %s"
        with self.database.pooled() as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [SealedRead(r[0], r[1], r[2], r[3], tuple(r[4]), r[5]) for r in rows]
