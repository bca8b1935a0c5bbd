"""Custody of the log's signing key: never a silent new identity.

The private key lives only in ``<COURTWATCH_DATA_DIR>/keys/log-signing.key`` of
the process that signs (``courtwatch project``, ``serve`` when it runs the
projections, or a CLI command). Its public half is recorded in ``log_keys`` so
that the web process serves it without ever opening the private key.

A key is made only on first use, while the log has no checkpoint and no key on
record. After that, a missing, empty, corrupt, group/other-readable or different
key file stops whatever would sign, with one line saying how to restore it from
backup or rotate on purpose (``courtwatch log-key rotate``, which records a
statement signed by the old and the new key).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import psycopg

from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.transparency.checkpoint import (
    CheckpointError,
    SigningKey,
    generate_signing_key,
    load_signing_key,
    parse_and_verify_checkpoint,
    parse_vkey,
    save_signing_key,
)
from courtwatch.transparency.rotation import parse_and_verify_rotation, sign_rotation

log = logging.getLogger(__name__)

KEY_FILE = Path("keys") / "log-signing.key"
_KEY_LOCK = 0x636F7572746B6579  # "courtkey": one process registers or rotates at a time
_lock = threading.Lock()


class SigningKeyUnavailable(Exception):
    """The log has an identity, and the key file on disk is not (or no longer) it."""


@dataclass(frozen=True)
class LogKey:
    vkey: str
    after_size: int
    """This key signs checkpoints of more than ``after_size`` leaves."""
    statement: str | None


def key_path(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def registered_keys(conn: psycopg.Connection) -> list[LogKey]:
    rows = conn.execute("SELECT vkey, after_size, statement FROM log_keys ORDER BY seq").fetchall()
    return [LogKey(r[0], int(r[1]), r[2]) for r in rows]


def key_for_size(keys: list[LogKey], size: int) -> LogKey | None:
    """The key that signs a checkpoint of ``size`` leaves."""
    found = None
    for key in keys:
        if key.after_size < size:
            found = key
    return found


def check_chain(keys: list[LogKey]) -> None:
    """Every key after the first must come with a statement signed by it and its predecessor."""
    for before, after in itertools.pairwise(keys):
        if after.statement is None:
            raise CheckpointError(f"key {after.vkey} replaced {before.vkey} without a statement")
        rotation = parse_and_verify_rotation(after.statement)
        if (str(rotation.old), str(rotation.new), rotation.after_size) != (
            before.vkey,
            after.vkey,
            after.after_size,
        ):
            raise CheckpointError(f"the rotation statement of key {after.vkey} names other keys")


def _restore_hint(settings: Settings, vkey: str) -> str:
    which = f" (the key with fingerprint {parse_vkey(vkey).fingerprint()})" if vkey else ""
    return (
        f"restore {key_path(settings)} from your backup{which}, mode 0600; "
        "or, with the old key in place, change keys on purpose with `courtwatch log-key rotate`"
    )


def load_for_signing(conn: psycopg.Connection, settings: Settings) -> SigningKey:
    """The log's key, made on first use only; ``SigningKeyUnavailable`` otherwise.

    ``conn`` must be in a transaction: the key is registered in it.
    """
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_KEY_LOCK,))
    keys = registered_keys(conn)
    row = conn.execute(
        "SELECT note, tree_size FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1"
    ).fetchone()
    path = key_path(settings)
    with _lock:
        if not keys and row is None and not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                save_signing_key(generate_signing_key(settings.log_origin), path)
                log.warning("created the log signing key; back it up", extra={"path": str(path)})
            except FileExistsError:
                pass  # another process made it first: use theirs
        try:
            key = load_signing_key(path)
        except (OSError, CheckpointError, ValueError) as e:
            problem = "is missing" if isinstance(e, FileNotFoundError) else f"cannot be used ({e})"
            if not keys and row is None:
                raise SigningKeyUnavailable(
                    f"the log signing key {path} {problem}; fix or remove it "
                    "(the log has no checkpoint yet, so a new key may then be made)"
                ) from None
            hint = _restore_hint(settings, keys[-1].vkey) if keys else _restore_hint(settings, "")
            had = "signed checkpoints" if row is not None else "a key on record"
            raise SigningKeyUnavailable(
                f"the log signing key {path} {problem}, but this log already has {had}. "
                f"Never make a new one silently: {hint}"
            ) from None
    if keys:
        if keys[-1].vkey != key.vkey:
            raise SigningKeyUnavailable(
                f"the log signing key {path} is not the log's key on record "
                f"({keys[-1].vkey}): {_restore_hint(settings, keys[-1].vkey)}"
            )
        return key
    if row is not None:
        # A log from before keys were recorded: the file must be the key that
        # signed its newest checkpoint, or it is a new identity.
        try:
            parse_and_verify_checkpoint(row[0], key.vkey)
        except CheckpointError:
            raise SigningKeyUnavailable(
                f"the log signing key {path} did not sign the log's newest checkpoint "
                f"(tree size {row[1]}): restore the original key from your backup"
            ) from None
    conn.execute("INSERT INTO log_keys (vkey, after_size) VALUES (%s, 0)", (key.vkey,))
    return key


def rotate(database: Database, settings: Settings) -> str:
    """Replace the key on purpose; return the rotation statement (signed by both keys).

    The old key must load: a rotation is a statement by the old identity that the
    new one continues it. The new key is staged next to the old one, recorded with
    the statement, and only then put in place; the old key is kept as
    ``log-signing.key.retired-<key id>``.
    """
    path = key_path(settings)
    staged = path.with_name(path.name + ".new")
    with database.connect() as conn, conn.transaction():
        old = load_for_signing(conn, settings)
        row = conn.execute("SELECT coalesce(max(tree_size), 0) FROM log_checkpoints").fetchone()
        after = int(row[0]) if row else 0
        new = generate_signing_key(settings.log_origin)
        statement = sign_rotation(settings.log_origin, old, new, after)
        save_signing_key(new, staged)  # O_EXCL: a half-done rotation is never overwritten
        conn.execute(
            "INSERT INTO log_keys (vkey, after_size, statement) VALUES (%s, %s, %s)",
            (new.vkey, after, statement),
        )
    retired = path.with_name(f"{path.name}.retired-{parse_vkey(old.vkey).key_id.hex()}")
    os.link(path, retired)  # old checkpoints stay attributable to the old key
    os.replace(staged, path)
    log.warning("log signing key rotated; back up the new key", extra={"path": str(path)})
    return statement


def current_vkey(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT vkey FROM log_keys ORDER BY seq DESC LIMIT 1").fetchone()
    return str(row[0]) if row else None
