"""Where members, invites, passkeys, sessions and API tokens are kept (PostgreSQL).

Every secret that proves who someone is (invite links, session cookies, API
tokens) is stored only as its SHA-256: a copy of the database lets no one sign
in. Nothing here knows an IP address or a user agent, and the member log lines
name member ids and roles only.

Times come from ``clock`` so that tests can move them (an invite expiring).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from courtwatch.infrastructure.database import Database
from courtwatch.members.model import (
    ApiToken,
    DisplayNameTaken,
    Invite,
    InviteNotUsable,
    Member,
    MemberNotFound,
    OpenInvite,
    Passkey,
    PasskeyRefused,
    Session,
    TooManyCeremonies,
    check_display_name,
    check_label,
    check_roles,
    name_key,
)

log = logging.getLogger("courtwatch.members")

Clock = Callable[[], datetime]

INVITE_LIFETIME = timedelta(hours=48)
CHALLENGE_LIFETIME = timedelta(minutes=5)
# Open ceremonies at once, across the site. A team signs in a few at a time;
# /api/members/signin/options needs no session, so without a ceiling anyone
# could add rows as fast as they can send requests.
MOST_LIVE_CHALLENGES = 1000
# A session's idle clock is restarted at most this often: every request by
# cookie used to write its row, about 1 ms a request for a 12-hour timeout
# that a minute's granularity serves as well.
SESSION_TOUCH_EVERY = timedelta(minutes=1)
DEFAULT_SESSION_IDLE = timedelta(hours=12)
# However busy: a session older than this ends (a stolen cookie, or a console
# left open on a shared laptop, is not good forever).
DEFAULT_SESSION_LIFETIME = timedelta(days=7)
# An open invite is named by the start of its hash (the link itself is never kept).
INVITE_ID_LENGTH = 16
INVITE_ID = re.compile(r"[0-9a-f]{16}")
# An API token names itself, so a leaked one is easy to recognise in a log or a paste.
API_TOKEN_PREFIX = "cwm_"

SCHEMA = """
CREATE TABLE IF NOT EXISTS courtwatch_members (
    id uuid PRIMARY KEY,
    display_name text NOT NULL,
    roles text[] NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE TABLE IF NOT EXISTS courtwatch_member_invites (
    token_sha256 text PRIMARY KEY,
    roles text[] NOT NULL,
    invited_by uuid,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    used_by uuid
);
CREATE TABLE IF NOT EXISTS courtwatch_member_passkeys (
    credential_id bytea PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES courtwatch_members (id),
    public_key bytea NOT NULL,
    sign_count bigint NOT NULL,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS courtwatch_member_passkeys_member
    ON courtwatch_member_passkeys (member_id);
CREATE TABLE IF NOT EXISTS courtwatch_member_sessions (
    id_sha256 text PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES courtwatch_members (id),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS courtwatch_member_sessions_member
    ON courtwatch_member_sessions (member_id);
-- The passkey a session was opened with: revoking it ends the session.
ALTER TABLE courtwatch_member_sessions ADD COLUMN IF NOT EXISTS passkey_id bytea;
CREATE TABLE IF NOT EXISTS courtwatch_member_api_tokens (
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES courtwatch_members (id),
    label text NOT NULL,
    token_sha256 text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE TABLE IF NOT EXISTS courtwatch_webauthn_challenges (
    challenge bytea PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('register', 'signin')),
    member_id uuid,
    invite_sha256 text,
    expires_at timestamptz NOT NULL
);
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _member(row: Any) -> Member:
    return Member(
        id=row[0], display_name=row[1], roles=frozenset(row[2]), revoked=row[3] is not None
    )


_MEMBER_COLUMNS = "m.id, m.display_name, m.roles, m.revoked_at"


class MemberStore:
    """The members' tables: writes and queries; plain types in and out."""

    def __init__(
        self,
        database: Database,
        *,
        session_idle: timedelta = DEFAULT_SESSION_IDLE,
        session_lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
        clock: Clock = _now,
    ) -> None:
        self.database = database
        self.session_idle = session_idle
        self.session_lifetime = session_lifetime
        self.most_live_challenges = MOST_LIVE_CHALLENGES
        self.clock = clock

    def install(self) -> None:
        with self.database.connect(autocommit=True) as conn:
            conn.execute(SCHEMA)

    # -- invites ---------------------------------------------------------------

    def invite(self, roles: Iterable[str], invited_by: UUID | None = None) -> Invite:
        granted = check_roles(list(roles))
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + INVITE_LIFETIME
        with self.database.pooled() as conn:
            conn.execute(
                "INSERT INTO courtwatch_member_invites "
                "(token_sha256, roles, invited_by, created_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s)",
                (digest(token), sorted(granted), invited_by, now, expires),
            )
        log.info(
            "member invite issued",
            extra={
                "member_event": "invite_issued",
                "roles": sorted(granted),
                "by_member": str(invited_by) if invited_by else "cli",
            },
        )
        return Invite(token=token, roles=granted, expires_at=expires)

    def usable_invite(self, token: str) -> frozenset[str]:
        """The roles an invite grants, if it can still be used (else InviteNotUsable)."""
        with self.database.pooled() as conn:
            row = conn.execute(
                "SELECT roles FROM courtwatch_member_invites "
                "WHERE token_sha256 = %s AND used_at IS NULL AND expires_at > %s",
                (digest(token), self.clock()),
            ).fetchone()
        if row is None:
            raise InviteNotUsable()
        return frozenset(row[0])

    def open_invites(self) -> list[OpenInvite]:
        """Invites that could still be used, newest first: a leaked link is
        found here and cancelled (cancel_invite) instead of waiting 48 hours."""
        with self.database.pooled() as conn:
            rows = conn.execute(
                "SELECT left(token_sha256, %s), roles, invited_by, created_at, expires_at "
                "FROM courtwatch_member_invites WHERE used_at IS NULL AND expires_at > %s "
                "ORDER BY created_at DESC",
                (INVITE_ID_LENGTH, self.clock()),
            ).fetchall()
        return [OpenInvite(r[0], frozenset(r[1]), r[2], r[3], r[4]) for r in rows]

    def cancel_invite(self, invite_id: str, by: UUID | None) -> bool:
        """Make an open invite unusable at once (it expires now); False if there
        is no such open invite."""
        if not isinstance(invite_id, str) or not INVITE_ID.fullmatch(invite_id):
            return False
        now = self.clock()
        with self.database.pooled() as conn:
            cur = conn.execute(
                "UPDATE courtwatch_member_invites SET expires_at = %s "
                "WHERE left(token_sha256, %s) = %s AND used_at IS NULL AND expires_at > %s",
                (now, INVITE_ID_LENGTH, invite_id, now),
            )
        if cur.rowcount:
            log.info(
                "member invite cancelled",
                extra={"member_event": "invite_cancelled", "by_member": str(by) if by else "cli"},
            )
        return cur.rowcount > 0

    # -- WebAuthn challenges -------------------------------------------------------

    def remember_challenge(
        self,
        challenge: bytes,
        purpose: str,
        member_id: UUID | None = None,
        invite_token: str | None = None,
    ) -> None:
        now = self.clock()
        with self.database.pooled() as conn:
            # Old unused challenges go as new ones come: the table stays small.
            conn.execute(
                "DELETE FROM courtwatch_webauthn_challenges WHERE expires_at <= %s", (now,)
            )
            counted = conn.execute(
                "SELECT count(*), min(expires_at) FROM courtwatch_webauthn_challenges"
            ).fetchone()
            live, first_to_expire = counted if counted else (0, None)
            if live >= self.most_live_challenges:
                wait = (first_to_expire - now).total_seconds() if first_to_expire else 1
                raise TooManyCeremonies(max(1, math.ceil(wait)))
            conn.execute(
                "INSERT INTO courtwatch_webauthn_challenges "
                "(challenge, purpose, member_id, invite_sha256, expires_at) "
                "VALUES (%s, %s, %s, %s, %s)",
                (
                    challenge,
                    purpose,
                    member_id,
                    digest(invite_token) if invite_token else None,
                    now + CHALLENGE_LIFETIME,
                ),
            )

    def take_challenge(
        self, challenge: bytes, purpose: str, invite_token: str | None = None
    ) -> UUID | None:
        """Use up a challenge (once only): the member id it was issued for, if any."""
        with self.database.pooled() as conn:
            row = conn.execute(
                "DELETE FROM courtwatch_webauthn_challenges "
                "WHERE challenge = %s AND purpose = %s AND expires_at > %s "
                "AND invite_sha256 IS NOT DISTINCT FROM %s "
                "RETURNING member_id",
                (
                    challenge,
                    purpose,
                    self.clock(),
                    digest(invite_token) if invite_token else None,
                ),
            ).fetchone()
        if row is None:
            raise PasskeyRefused("this sign-in attempt is unknown, used or expired; try again")
        return row[0]  # type: ignore[no-any-return]

    # -- members and passkeys -------------------------------------------------------

    def join(
        self,
        invite_token: str,
        member_id: UUID,
        display_name: str,
        credential_id: bytes,
        public_key: bytes,
        sign_count: int,
    ) -> Session:
        """Use an invite: a new member with its first passkey, signed in.

        The invite is marked used in the same transaction, guarded so that two
        concurrent uses cannot both succeed.
        """
        name = check_display_name(display_name)
        now = self.clock()
        with self.database.pooled() as conn:
            row = conn.execute(
                "UPDATE courtwatch_member_invites SET used_at = %s, used_by = %s "
                "WHERE token_sha256 = %s AND used_at IS NULL AND expires_at > %s "
                "RETURNING roles",
                (now, member_id, digest(invite_token), now),
            ).fetchone()
            if row is None:
                raise InviteNotUsable()
            roles = sorted(row[0])
            self._check_name_free(conn, name)
            conn.execute(
                "INSERT INTO courtwatch_members (id, display_name, roles, created_at) "
                "VALUES (%s, %s, %s, %s)",
                (member_id, name, roles, now),
            )
            self._add_passkey(conn, member_id, credential_id, public_key, sign_count, now)
            session = self._open_session(
                conn,
                Member(id=member_id, display_name=name, roles=frozenset(roles)),
                now,
                passkey_id=credential_id,
            )
        log.info(
            "member invite used",
            extra={"member_event": "invite_used", "member": str(member_id), "roles": roles},
        )
        return session

    def create_member(self, display_name: str, roles: Iterable[str]) -> Member:
        """A member without a passkey (yet): for API-only use and for tests."""
        member = Member(
            id=uuid4(),
            display_name=check_display_name(display_name),
            roles=check_roles(list(roles)),
        )
        with self.database.pooled() as conn:
            self._check_name_free(conn, member.display_name)
            conn.execute(
                "INSERT INTO courtwatch_members (id, display_name, roles, created_at) "
                "VALUES (%s, %s, %s, %s)",
                (member.id, member.display_name, sorted(member.roles), self.clock()),
            )
        log.info(
            "member created",
            extra={
                "member_event": "created",
                "member": str(member.id),
                "roles": sorted(member.roles),
            },
        )
        return member

    @staticmethod
    def _check_name_free(conn: Any, display_name: str) -> None:
        """Refuse a display name a member not revoked already uses (see name_key).

        Events and pages name members by display name, so two alike would make
        who-did-what ambiguous. A revoked member's name may be taken again: a
        member who lost every passkey rejoins under it once the coordinator has
        revoked the old record. The lock makes concurrent joins take turns (the
        key is computed here, not in SQL, so no index can hold it).
        """
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('courtwatch_members.display_name'))")
        wanted = name_key(display_name)
        rows = conn.execute(
            "SELECT display_name FROM courtwatch_members WHERE revoked_at IS NULL"
        ).fetchall()
        if any(name_key(row[0]) == wanted for row in rows):
            raise DisplayNameTaken()

    def add_passkey(
        self, member_id: UUID, credential_id: bytes, public_key: bytes, sign_count: int
    ) -> None:
        with self.database.pooled() as conn:
            self._add_passkey(conn, member_id, credential_id, public_key, sign_count, self.clock())

    @staticmethod
    def _add_passkey(
        conn: Any,
        member_id: UUID,
        credential_id: bytes,
        public_key: bytes,
        sign_count: int,
        now: datetime,
    ) -> None:
        inserted = conn.execute(
            "INSERT INTO courtwatch_member_passkeys "
            "(credential_id, member_id, public_key, sign_count, created_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (credential_id) DO NOTHING",
            (credential_id, member_id, public_key, sign_count, now),
        )
        if inserted.rowcount != 1:
            raise PasskeyRefused("this passkey is already registered")

    def passkey_for_signin(self, credential_id: bytes) -> tuple[UUID, bytes, int]:
        """(member id, public key, sign count) of a usable passkey of a member not revoked."""
        with self.database.pooled() as conn:
            row = conn.execute(
                "SELECT p.member_id, p.public_key, p.sign_count "
                "FROM courtwatch_member_passkeys p JOIN courtwatch_members m ON m.id = p.member_id "
                "WHERE p.credential_id = %s AND p.revoked_at IS NULL AND m.revoked_at IS NULL",
                (credential_id,),
            ).fetchone()
        if row is None:
            raise PasskeyRefused("this passkey is not known here")
        return row[0], bytes(row[1]), int(row[2])

    def sign_in(self, credential_id: bytes, seen_count: int, new_count: int) -> Session:
        """Record a verified assertion and open a session.

        The sign count moves only forward from the value the assertion was
        checked against: a second assertion checked concurrently against the
        same old count loses here (unless the authenticator keeps no count).
        """
        now = self.clock()
        with self.database.pooled() as conn:
            row = conn.execute(
                "UPDATE courtwatch_member_passkeys SET sign_count = %s, last_used_at = %s "
                "WHERE credential_id = %s AND sign_count = %s AND revoked_at IS NULL "
                "RETURNING member_id",
                (new_count, now, credential_id, seen_count),
            ).fetchone()
            if row is None:
                raise PasskeyRefused("this passkey was used again meanwhile; try again")
            member = conn.execute(
                f"SELECT {_MEMBER_COLUMNS} FROM courtwatch_members m "
                "WHERE m.id = %s AND m.revoked_at IS NULL",
                (row[0],),
            ).fetchone()
            if member is None:
                raise PasskeyRefused("this passkey is not known here")
            return self._open_session(conn, _member(member), now, passkey_id=credential_id)

    def passkeys(self, member_id: UUID) -> list[Passkey]:
        with self.database.pooled() as conn:
            rows = conn.execute(
                "SELECT credential_id, member_id, created_at, last_used_at "
                "FROM courtwatch_member_passkeys WHERE member_id = %s AND revoked_at IS NULL "
                "ORDER BY created_at",
                (member_id,),
            ).fetchall()
        return [Passkey(bytes(r[0]), r[1], r[2], r[3]) for r in rows]

    def revoke_passkey(self, member_id: UUID, credential_id: bytes) -> bool:
        """Revoke one passkey, and end the sessions it opened in the same commit
        (a lost phone's open sessions must not outlive its passkey)."""
        now = self.clock()
        with self.database.pooled() as conn:
            cur = conn.execute(
                "UPDATE courtwatch_member_passkeys SET revoked_at = %s "
                "WHERE member_id = %s AND credential_id = %s AND revoked_at IS NULL",
                (now, member_id, credential_id),
            )
            conn.execute(
                "UPDATE courtwatch_member_sessions SET revoked_at = %s "
                "WHERE member_id = %s AND passkey_id = %s AND revoked_at IS NULL",
                (now, member_id, credential_id),
            )
        if cur.rowcount:
            log.info(
                "member passkey revoked",
                extra={"member_event": "passkey_revoked", "member": str(member_id)},
            )
        return cur.rowcount > 0

    def members(self) -> list[Member]:
        with self.database.pooled() as conn:
            rows = conn.execute(
                f"SELECT {_MEMBER_COLUMNS} FROM courtwatch_members m "
                "ORDER BY m.revoked_at IS NOT NULL, lower(m.display_name), m.id"
            ).fetchall()
        return [_member(r) for r in rows]

    def member(self, member_id: UUID) -> Member:
        with self.database.pooled() as conn:
            row = conn.execute(
                f"SELECT {_MEMBER_COLUMNS} FROM courtwatch_members m WHERE m.id = %s",
                (member_id,),
            ).fetchone()
        if row is None:
            raise MemberNotFound(member_id)
        return _member(row)

    def set_roles(self, member_id: UUID, roles: Iterable[str], by: UUID | None) -> Member:
        granted = check_roles(list(roles))
        with self.database.pooled() as conn:
            row = conn.execute(
                "UPDATE courtwatch_members m SET roles = %s WHERE id = %s AND revoked_at IS NULL "
                f"RETURNING {_MEMBER_COLUMNS}",
                (sorted(granted), member_id),
            ).fetchone()
        if row is None:
            raise MemberNotFound(member_id)
        log.info(
            "member roles changed",
            extra={
                "member_event": "roles_changed",
                "member": str(member_id),
                "roles": sorted(granted),
                "by_member": str(by) if by else "cli",
            },
        )
        return _member(row)

    def revoke(self, member_id: UUID, by: UUID | None) -> bool:
        """Revoke a member: its sessions and API tokens stop working in the same commit."""
        now = self.clock()
        with self.database.pooled() as conn:
            cur = conn.execute(
                "UPDATE courtwatch_members SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL",
                (now, member_id),
            )
            if cur.rowcount == 0:
                return False
            for table in ("courtwatch_member_sessions", "courtwatch_member_api_tokens"):
                conn.execute(
                    f"UPDATE {table} SET revoked_at = %s "  # table: one of two literals
                    "WHERE member_id = %s AND revoked_at IS NULL",
                    (now, member_id),
                )
        log.info(
            "member revoked",
            extra={
                "member_event": "revoked",
                "member": str(member_id),
                "by_member": str(by) if by else "cli",
            },
        )
        return True

    # -- sessions -----------------------------------------------------------------

    def _open_session(
        self, conn: Any, member: Member, now: datetime, passkey_id: bytes | None = None
    ) -> Session:
        # Dead sessions (ended, idle too long, too old) go as new ones open:
        # they can never be used again and the table would only grow.
        conn.execute(
            "DELETE FROM courtwatch_member_sessions WHERE revoked_at IS NOT NULL "
            "OR last_seen_at <= %s OR created_at <= %s",
            (now - self.session_idle, now - self.session_lifetime),
        )
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        conn.execute(
            "INSERT INTO courtwatch_member_sessions "
            "(id_sha256, member_id, csrf_token, created_at, last_seen_at, passkey_id) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (digest(session_id), member.id, csrf, now, now, passkey_id),
        )
        return Session(id=session_id, member=member, csrf_token=csrf)

    def session(self, session_id: str, *, touch: bool = True) -> tuple[Member, str] | None:
        """The member and CSRF token of a live session: not ended, used within
        session_idle, opened within session_lifetime.

        ``touch`` (a request the member made) restarts its idle time; a check
        the server makes by itself (an open console socket's heartbeat) must
        not, or a socket left open would keep the session alive for ever.
        """
        now = self.clock()
        live = (
            "s.id_sha256 = %s AND s.revoked_at IS NULL AND s.last_seen_at > %s "
            "AND s.created_at > %s AND m.id = s.member_id AND m.revoked_at IS NULL"
        )
        args = (digest(session_id), now - self.session_idle, now - self.session_lifetime)
        with self.database.pooled() as conn:
            row = conn.execute(
                f"SELECT {_MEMBER_COLUMNS}, s.csrf_token, s.last_seen_at "
                f"FROM courtwatch_member_sessions s, courtwatch_members m WHERE {live}",
                args,
            ).fetchone()
            if row is not None and touch and row[5] <= now - SESSION_TOUCH_EVERY:
                conn.execute(
                    "UPDATE courtwatch_member_sessions SET last_seen_at = %s "
                    "WHERE id_sha256 = %s AND last_seen_at < %s",
                    (now, args[0], now),
                )
        if row is None:
            return None
        return _member(row), str(row[4])

    def end_session(self, session_id: str) -> None:
        with self.database.pooled() as conn:
            conn.execute(
                "UPDATE courtwatch_member_sessions SET revoked_at = %s "
                "WHERE id_sha256 = %s AND revoked_at IS NULL",
                (self.clock(), digest(session_id)),
            )

    # -- API tokens -----------------------------------------------------------------

    def issue_api_token(self, member_id: UUID, label: str = "") -> tuple[ApiToken, str]:
        """A new bearer token for a member: (its listing, the token shown once)."""
        text = check_label(label)
        token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        token_id = uuid4()
        with self.database.pooled() as conn:
            row = conn.execute(
                "INSERT INTO courtwatch_member_api_tokens "
                "(id, member_id, label, token_sha256, created_at) "
                "SELECT %s, id, %s, %s, %s FROM courtwatch_members "
                "WHERE id = %s AND revoked_at IS NULL RETURNING id",
                (token_id, text, digest(token), now, member_id),
            ).fetchone()
        if row is None:
            raise MemberNotFound(member_id)
        log.info(
            "member api token issued",
            extra={"member_event": "api_token_issued", "member": str(member_id)},
        )
        return ApiToken(token_id, member_id, text, now, None), token

    def api_tokens(self, member_id: UUID) -> list[ApiToken]:
        with self.database.pooled() as conn:
            rows = conn.execute(
                "SELECT id, member_id, label, created_at, last_used_at "
                "FROM courtwatch_member_api_tokens WHERE member_id = %s AND revoked_at IS NULL "
                "ORDER BY created_at",
                (member_id,),
            ).fetchall()
        return [ApiToken(*r) for r in rows]

    def revoke_api_token(self, member_id: UUID, token_id: UUID) -> bool:
        with self.database.pooled() as conn:
            cur = conn.execute(
                "UPDATE courtwatch_member_api_tokens SET revoked_at = %s "
                "WHERE id = %s AND member_id = %s AND revoked_at IS NULL",
                (self.clock(), token_id, member_id),
            )
        if cur.rowcount:
            log.info(
                "member api token revoked",
                extra={"member_event": "api_token_revoked", "member": str(member_id)},
            )
        return cur.rowcount > 0

    def member_for_api_token(self, token: str) -> Member | None:
        hashed = digest(token)
        with self.database.pooled() as conn:
            row = conn.execute(
                "UPDATE courtwatch_member_api_tokens t SET last_used_at = %s "
                "FROM courtwatch_members m "
                "WHERE t.token_sha256 = %s AND t.revoked_at IS NULL "
                "AND m.id = t.member_id AND m.revoked_at IS NULL "
                f"RETURNING {_MEMBER_COLUMNS}, t.token_sha256",
                (self.clock(), hashed),
            ).fetchone()
        if row is None or not hmac.compare_digest(str(row[4]), hashed):
            return None
        return _member(row)
