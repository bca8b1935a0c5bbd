"""Who may verify, dispute, or add courthouses: named bearer tokens.

Reporters stay anonymous; verifiers and coordinators are known to the
operators, and their *name* (a pseudonym is fine) goes into the events they
cause, so a verification can always be traced to who made it.
Only a SHA-256 of each token is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from courtwatch.infrastructure.database import Database

ROLES = ("verifier", "coordinator")

SCHEMA = """
CREATE TABLE IF NOT EXISTS courtwatch_credentials (
    name text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('verifier', 'coordinator')),
    token_sha256 text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS courtwatch_secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL
);
"""


@dataclass(frozen=True)
class Credential:
    name: str
    role: str

    def may(self, role: str) -> bool:
        # A coordinator may also verify.
        return self.role == role or self.role == "coordinator"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def install(db: Database) -> None:
    with db.connect(autocommit=True) as conn:
        conn.execute(SCHEMA)


def server_secret(db: Database) -> bytes:
    """The key that turns client keys into report ids and author tokens.

    Kept in the database so every web process derives the same ids.
    """
    with db.connect(autocommit=True) as conn:
        conn.execute(
            "INSERT INTO courtwatch_secrets (name, value) VALUES ('client-keys', %s) "
            "ON CONFLICT (name) DO NOTHING",
            (secrets.token_bytes(32),),
        )
        row = conn.execute(
            "SELECT value FROM courtwatch_secrets WHERE name = 'client-keys'"
        ).fetchone()
    assert row is not None
    return bytes(row[0])


def add(db: Database, name: str, role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = secrets.token_urlsafe(32)
    with db.connect(autocommit=True) as conn:
        conn.execute(
            "INSERT INTO courtwatch_credentials (name, role, token_sha256) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, "
            "token_sha256 = EXCLUDED.token_sha256, created_at = now()",
            (name, role, _digest(token)),
        )
    return token


def revoke(db: Database, name: str) -> bool:
    with db.connect(autocommit=True) as conn:
        cur = conn.execute("DELETE FROM courtwatch_credentials WHERE name = %s", (name,))
        return cur.rowcount > 0


def authenticate(db: Database, token: str) -> Credential | None:
    digest = _digest(token)
    with db.connect(autocommit=True) as conn:
        row = conn.execute(
            "SELECT name, role, token_sha256 FROM courtwatch_credentials WHERE token_sha256 = %s",
            (digest,),
        ).fetchone()
    if row is None or not hmac.compare_digest(row[2], digest):
        return None
    return Credential(name=row[0], role=row[1])
