"""Tampering with the stored log is detected by `courtwatch audit`, naming the leaf.

Each test acts as an attacker with full database access after events were logged
and a checkpoint signed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from courtwatch.services import Services
from courtwatch.transparency.canonical import event_leaf_hash
from courtwatch.transparency.merkle import MemoryTree
from projections.transparency_log import store as audit_log
from projections.transparency_log.auditor import AuditReport, audit
from tests.projections.transparency_log.conftest import project

Logged = tuple[Services, list[UUID]]


def run_audit(services: Services) -> AuditReport:
    return audit(services.database, origin=services.settings.log_origin)


def leaf(services: Services, index: int) -> tuple[int, UUID, int]:
    with services.database.connect() as conn:
        row = conn.execute(
            "SELECT notification_id, originator_id, originator_version FROM log_leaves "
            "WHERE leaf_index = %s",
            (index,),
        ).fetchone()
    assert row is not None
    return int(row[0]), row[1], int(row[2])


@pytest.fixture
def signed(logged: Logged) -> Services:
    services, _ = logged
    assert audit_log.publish_checkpoint(services.database, services.settings) is not None
    assert run_audit(services).ok
    return services


def test_an_untouched_log_passes_the_audit_cli(signed: Services) -> None:
    result = cli(signed, "audit")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_one_changed_byte_in_a_stored_event_is_named(signed: Services) -> None:
    nid, rid, version = leaf(signed, 5)
    with signed.database.connect() as conn:
        row = conn.execute(
            "SELECT state FROM courtwatch_events WHERE notification_id = %s", (nid,)
        ).fetchone()
        assert row is not None
        state = bytearray(row[0])
        at = max(i for i, b in enumerate(state) if chr(b).isdigit())
        state[at] = ord("7") if state[at] != ord("7") else ord("8")  # one byte, still valid JSON
        conn.execute(
            "UPDATE courtwatch_events SET state = %s WHERE notification_id = %s",
            (bytes(state), nid),
        )

    report = run_audit(signed)
    first = report.first_leaf
    assert first is not None and (first.kind, first.leaf_index) == ("edited", 5)
    assert (first.report_id, first.version) == (rid, version)
    assert any(f.checkpoint_size is not None for f in report.findings)  # the signature too
    # The command line says the same, and fails.
    result = cli(signed, "audit")
    assert result.returncode == 1
    assert "First leaf that differs: leaf 5" in result.stdout and str(rid) in result.stdout


def test_a_deleted_events_row_is_named(signed: Services) -> None:
    nid, rid, version = leaf(signed, 3)
    with signed.database.connect() as conn:
        conn.execute("DELETE FROM courtwatch_events WHERE notification_id = %s", (nid,))
    first = run_audit(signed).first_leaf
    assert first is not None and (first.kind, first.leaf_index) == ("missing", 3)
    assert (first.report_id, first.version) == (rid, version)


def test_two_swapped_rows_are_named(signed: Services) -> None:
    a, b = leaf(signed, 2)[0], leaf(signed, 7)[0]
    with signed.database.connect() as conn:
        # Swap everything but the position (the primary key forces a detour).
        conn.execute(
            """
            WITH pair AS (SELECT notification_id, originator_id, originator_version, topic, state
                          FROM courtwatch_events WHERE notification_id IN (%(a)s, %(b)s))
            UPDATE courtwatch_events e SET originator_version = -e.notification_id
            FROM pair WHERE e.notification_id = pair.notification_id""",
            {"a": a, "b": b},
        )
        conn.execute(
            """
            UPDATE courtwatch_events e SET originator_id = o.originator_id,
                   originator_version = o.v, topic = o.topic, state = o.state
            FROM (SELECT notification_id, originator_id, topic, state,
                         (SELECT originator_version FROM log_leaves l
                          WHERE l.notification_id = x.notification_id) AS v
                  FROM courtwatch_events x WHERE notification_id IN (%(a)s, %(b)s)) o
            WHERE e.notification_id = %(a)s + %(b)s - o.notification_id""",
            {"a": a, "b": b},
        )
    first = run_audit(signed).first_leaf
    assert first is not None and (first.kind, first.leaf_index) == ("reordered", 2)
    assert "leaf 7" in first.message


def watch_shift(services: Services, courthouse: str) -> None:
    """A report whose history is one event, so it becomes exactly one leaf."""
    observed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    payload = {"kind": "watch_shift", "courthouse_code": courthouse, "observed_at": observed}
    services.app.submit(payload, uuid.uuid4().hex)


def rewrite_everything(services: Services, notification_id: int, state: bytes) -> None:
    """Edit an event and rebuild log_leaves/log_nodes to match: a thorough attacker."""
    with services.database.connect() as conn:
        conn.execute("ALTER TABLE log_leaves DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE log_nodes DISABLE TRIGGER USER")
        conn.execute(
            "UPDATE courtwatch_events SET state = %s WHERE notification_id = %s",
            (state, notification_id),
        )
        rows = conn.execute(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM courtwatch_events e "
            "JOIN log_leaves l USING (notification_id) ORDER BY l.leaf_index"
        ).fetchall()
        tree = MemoryTree()
        for index, (rid, version, topic, stored) in enumerate(rows):
            tree.append_hash(event_leaf_hash(rid, version, topic, stored))
            conn.execute(
                "UPDATE log_leaves SET leaf_hash = %s WHERE leaf_index = %s",
                (tree.nodes[(0, index)], index),
            )
        conn.execute("DELETE FROM log_nodes")
        with conn.cursor().copy("COPY log_nodes (level, index, hash) FROM STDIN") as copy:
            for (level, index), value in tree.nodes.items():
                copy.write_row((level, index, value))
        conn.execute("ALTER TABLE log_leaves ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE log_nodes ENABLE TRIGGER USER")


def test_history_rewritten_after_a_checkpoint_is_caught_by_the_signature(signed: Services) -> None:
    services = signed
    database, settings = services.database, services.settings
    first = audit_log.latest_checkpoint(database)
    assert first is not None
    # One more event, then a checkpoint: that leaf sits alone between two checkpoints.
    watch_shift(services, "NYC")
    project(database)
    second = audit_log.publish_checkpoint(database, settings)
    assert second is not None and second.tree_size == first.tree_size + 1

    target = first.tree_size  # the lone leaf
    nid, rid, _version = leaf(services, target)
    with database.connect() as conn:
        row = conn.execute(
            "SELECT state FROM courtwatch_events WHERE notification_id = %s", (nid,)
        ).fetchone()
    assert row is not None
    rewrite_everything(services, nid, bytes(row[0]).replace(b"NYC", b"BOS"))

    report = run_audit(services)
    assert [f.kind for f in report.findings] == ["rewritten"]  # the cache agrees with the edit
    finding = report.findings[0]
    assert (finding.leaf_index, finding.report_id, finding.checkpoint_size) == (
        target,
        rid,
        second.tree_size,
    )
    # The operator's own tooling refuses to sign the rewritten tree.
    watch_shift(services, "BOS")
    project(database)
    with pytest.raises(audit_log.LogInconsistent):
        audit_log.publish_checkpoint(database, settings)


def test_a_rewrite_inside_a_checkpoint_names_the_checkpoint_and_the_range(signed: Services) -> None:
    nid, _, _ = leaf(signed, 4)
    with signed.database.connect() as conn:
        row = conn.execute(
            "SELECT state FROM courtwatch_events WHERE notification_id = %s", (nid,)
        ).fetchone()
    assert row is not None
    rewrite_everything(signed, nid, bytes(row[0]).replace(b'"outside"', b'"inside"'))
    report = run_audit(signed)
    size = audit_log.latest_checkpoint(signed.database).tree_size  # type: ignore[union-attr]
    assert [f.kind for f in report.findings] == ["rewritten"]
    assert report.findings[0].checkpoint_size == size
    assert f"leaves 0..{size - 1}" in report.findings[0].message


def cli(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": services.database.url,
        "COURTWATCH_DATA_DIR": str(services.settings.data_dir),
        "COURTWATCH_LOG_ORIGIN": services.settings.log_origin,
    }
    return subprocess.run(
        [sys.executable, "-m", "courtwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
