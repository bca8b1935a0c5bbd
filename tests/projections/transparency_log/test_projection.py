"""The projection builds the log from the stored rows: dense leaves, the RFC 9162 tree."""

from __future__ import annotations

import functools
import itertools
import os
import stat
import subprocess
import sys
import time
from dataclasses import replace
from uuid import UUID

import psycopg
import pytest

from courtwatch.services import Services
from courtwatch.transparency.canonical import event_leaf_hash
from courtwatch.transparency.checkpoint import parse_and_verify_checkpoint
from courtwatch.transparency.merkle import MemoryTree, verify_consistency, verify_inclusion
from projections.transparency_log import store as audit_log
from tests.projections.transparency_log.conftest import project, submit_reports


def stored_events(services: Services) -> list[tuple[int, UUID, int, str, bytes]]:
    with services.database.connect() as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM courtwatch_events ORDER BY notification_id"
        ).fetchall()
    return [(int(n), rid, int(v), t, bytes(s)) for n, rid, v, t, s in rows]


def test_leaves_are_dense_over_gapped_notification_ids_and_match_a_memory_tree(
    services: Services,
) -> None:
    submit_reports(services, 3)
    project(services.database)  # catch-up: one batch
    with services.database.connect() as conn:  # a rolled-back save leaves a gap like this
        conn.execute(
            "SELECT nextval(pg_get_serial_sequence('courtwatch_events', 'notification_id'))"
        )
        conn.commit()
    submit_reports(services, 2)
    project(services.database)  # resumes from its tracking record

    events = stored_events(services)
    ids = [e[0] for e in events]
    assert any(b - a > 1 for a, b in itertools.pairwise(ids)), "expected a gap"
    with services.database.connect() as conn:
        leaves = conn.execute(
            "SELECT leaf_index, notification_id, originator_id, originator_version, leaf_hash "
            "FROM log_leaves ORDER BY leaf_index"
        ).fetchall()
        size = audit_log.tree_size(conn)
        root = audit_log.root_at(conn, size)
    assert [leaf[0] for leaf in leaves] == list(range(len(events)))
    assert [leaf[1] for leaf in leaves] == ids

    tree = MemoryTree()
    for _, rid, version, topic, state in events:
        tree.append_hash(event_leaf_hash(rid, version, topic, state))
    assert size == tree.size and root == tree.root()
    assert [bytes(leaf[4]) for leaf in leaves] == [tree.nodes[(0, i)] for i in range(size)]

    for index in range(size):
        proof = audit_log.inclusion(services.database, index, size)
        verify_inclusion(tree.nodes[(0, index)], index, size, proof, root)
    for old in range(1, size):
        proof = audit_log.consistency(services.database, old, size)
        verify_consistency(old, size, tree.root(old), root, proof)


def test_checkpoints_are_signed_kept_and_only_made_when_the_tree_grows(
    logged: tuple[Services, list[UUID]],
) -> None:
    services, _ = logged
    database, settings = services.database, services.settings
    first = audit_log.publish_checkpoint(database, settings)
    assert first is not None
    mode = os.stat(audit_log.key_path(settings)).st_mode
    assert stat.S_IMODE(mode) == 0o600
    vkey = audit_log.public_key(database)
    signed = parse_and_verify_checkpoint(first.note, vkey, origin=settings.log_origin)
    assert (signed.size, signed.root) == (first.tree_size, first.root_hash)

    again = audit_log.publish_checkpoint(database, settings)
    assert again == first  # nothing new: no second checkpoint of the same tree
    submit_reports(services, 1)
    project(database)
    second = audit_log.publish_checkpoint(database, settings)
    assert second is not None and second.tree_size == first.tree_size + 2
    assert [c.tree_size for c in audit_log.checkpoints(database)] == [
        first.tree_size,
        second.tree_size,
    ]


@pytest.mark.parametrize("table", ["log_leaves", "log_nodes", "log_checkpoints"])
def test_the_database_refuses_to_update_or_delete_the_log(
    logged: tuple[Services, list[UUID]], table: str
) -> None:
    services, _ = logged
    audit_log.publish_checkpoint(services.database, services.settings)
    column = {"log_leaves": "leaf_hash", "log_nodes": "hash", "log_checkpoints": "root_hash"}[table]
    for statement in (f"UPDATE {table} SET {column} = '\\x00'", f"DELETE FROM {table}"):
        with services.database.connect() as conn, pytest.raises(psycopg.Error, match="append-only"):
            conn.execute(statement)


def test_checkpoints_are_published_on_a_schedule(logged: tuple[Services, list[UUID]]) -> None:
    services, _ = logged
    settings = replace(services.settings, checkpoint_interval_seconds=0.05)
    scheduler = audit_log.CheckpointScheduler(services.database, settings).start()
    try:
        deadline = time.monotonic() + 10
        while audit_log.latest_checkpoint(services.database) is None:
            assert time.monotonic() < deadline, "no scheduled checkpoint within 10 s"
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert len(audit_log.checkpoints(services.database)) == 1  # and no repeat while idle


def test_checkpoint_and_public_key_commands(logged: tuple[Services, list[UUID]]) -> None:
    services, _ = logged
    env = {
        **os.environ,
        "DATABASE_URL": services.database.url,
        "COURTWATCH_DATA_DIR": str(services.settings.data_dir),
    }
    run = functools.partial(
        subprocess.run, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    note = run([sys.executable, "-m", "courtwatch", "checkpoint"]).stdout
    vkey = run([sys.executable, "-m", "courtwatch", "public-key"]).stdout.strip()
    assert vkey == audit_log.public_key(services.database)
    assert parse_and_verify_checkpoint(note, vkey).size == 12
