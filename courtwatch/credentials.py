"""The server secret (kept in the database, so every web process derives the same ids).

Who may verify, dispute or add courthouses is no longer decided here: team
members sign in with passkeys or use their own API tokens (courtwatch/members).
"""

from __future__ import annotations

import secrets

from courtwatch.infrastructure.database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS courtwatch_secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL
);
"""


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
