"""The log's signing key is never silently replaced (issue 9).

Deleting keys/log-signing.key after checkpoints existed and restarting used to
make a new key with only a warning: a new identity that signed from then on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest

from courtwatch.cli.bootstrap import Services
from courtwatch.transparency.checkpoint import (
    generate_signing_key,
    parse_and_verify_checkpoint,
    save_signing_key,
)
from courtwatch.transparency.rotation import parse_and_verify_rotation
from projections.transparency_log import store as audit_log
from projections.transparency_log.auditor import audit
from tests.projections.transparency_log.conftest import project, submit_reports

Logged = tuple[Services, list[UUID]]


def cli(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": services.database.url,
        "COURTWATCH_DATA_DIR": str(services.settings.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "courtwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def signed(logged: Logged) -> Services:
    services, _ = logged
    assert audit_log.publish_checkpoint(services.database, services.settings) is not None
    return services


def _delete(path: Path) -> None:
    path.unlink()


def _empty(path: Path) -> None:
    path.write_text("")


def _corrupt(path: Path) -> None:
    path.write_text(path.read_text().replace("+", "-", 1))


def _group_readable(path: Path) -> None:
    path.chmod(0o640)


def _other_key(path: Path) -> None:
    path.unlink()
    save_signing_key(generate_signing_key("courtwatch.local/log"), path)


@pytest.mark.parametrize(
    "damage",
    [_delete, _empty, _corrupt, _group_readable, _other_key],
    ids=["missing", "empty", "corrupt", "group-readable", "another-key"],
)
def test_a_lost_or_damaged_key_stops_signing_with_one_plain_line(
    signed: Services, damage: Callable[[Path], None]
) -> None:
    services = signed
    path = audit_log.key_path(services.settings)
    vkey = audit_log.public_key(services.database)
    damage(path)
    submit_reports(services, 1)
    project(services.database)
    with pytest.raises(audit_log.SigningKeyUnavailable) as raised:
        audit_log.publish_checkpoint(services.database, services.settings)
    message = str(raised.value)
    assert "\n" not in message
    assert "restore" in message and "backup" in message and "courtwatch log-key rotate" in message
    # No new identity: same key on record, no new checkpoint, no new key file made.
    assert audit_log.public_key(services.database) == vkey
    assert len(audit_log.checkpoints(services.database)) == 1
    if damage is _delete:
        assert not path.exists()


def test_project_refuses_to_start_without_the_key(signed: Services) -> None:
    audit_log.key_path(signed.settings).unlink()
    result = cli(signed, "project", "--exit-when-caught-up")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("courtwatch:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "restore" in lines[0] and "log-key rotate" in lines[0]
    assert not audit_log.key_path(signed.settings).exists()


def test_serve_refuses_to_start_without_the_key(signed: Services) -> None:
    audit_log.key_path(signed.settings).unlink()
    result = cli(signed, "serve", "--port", "1")  # exits before it would listen
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "log-key rotate" in result.stderr


def test_the_first_key_is_made_on_first_use_and_recorded(services: Services) -> None:
    path = audit_log.key_path(services.settings)
    assert not path.exists()
    key = audit_log.signing_key(services.database, services.settings)
    assert path.exists() and (path.stat().st_mode & 0o077) == 0
    assert audit_log.public_key(services.database) == key.vkey


def test_rotation_is_signed_by_both_keys_and_the_audit_follows_it(signed: Services) -> None:
    services = signed
    old = audit_log.public_key(services.database)
    result = cli(services, "log-key", "rotate")
    assert result.returncode == 0, result.stderr
    rotation = parse_and_verify_rotation(result.stdout)
    first = audit_log.latest_checkpoint(services.database)
    assert first is not None
    assert (str(rotation.old), rotation.after_size) == (old, first.tree_size)
    new = audit_log.public_key(services.database)
    assert str(rotation.new) == new != old
    retired = list(audit_log.key_path(services.settings).parent.glob("*.retired-*"))
    assert len(retired) == 1

    submit_reports(services, 1)
    project(services.database)
    second = audit_log.publish_checkpoint(services.database, services.settings)
    assert second is not None and second.tree_size > first.tree_size
    parse_and_verify_checkpoint(second.note, new)
    parse_and_verify_checkpoint(first.note, old)
    assert audit_log.key_of_checkpoint(services.database, first.tree_size) == old
    assert audit_log.key_of_checkpoint(services.database, second.tree_size) == new
    report = audit(services.database, origin=services.settings.log_origin)
    assert report.ok, report.render()
    assert report.checkpoints_checked == 2


def test_rotation_needs_the_old_key(signed: Services) -> None:
    audit_log.key_path(signed.settings).unlink()
    result = cli(signed, "log-key", "rotate")
    assert result.returncode == 1
    assert "cannot rotate" in result.stderr and "Traceback" not in result.stderr


def test_the_audit_catches_a_key_swapped_in_the_database(signed: Services) -> None:
    # An attacker with table rights adds their key without a rotation statement.
    services = signed
    intruder = generate_signing_key("courtwatch.local/log")
    with services.database.connect() as conn:
        conn.execute(
            "INSERT INTO log_keys (vkey, after_size) VALUES (%s, %s)", (intruder.vkey, 1_000)
        )
    report = audit(services.database, origin=services.settings.log_origin)
    assert not report.ok
    assert "key history is broken" in report.render()


def test_the_audit_catches_a_checkpoint_whose_heads_under_state_a_version(
    signed: Services,
) -> None:
    # A dishonest signer lists report X at v1 although v2 is logged: a bundle of X
    # without its v2 would then "verify". The audit recomputes the heads list.
    from courtwatch.transparency.checkpoint import load_signing_key, sign_checkpoint
    from courtwatch.transparency.heads import build_heads

    services = signed
    submit_reports(services, 1)
    project(services.database)
    with services.database.connect() as conn:
        size = audit_log.tree_size(conn)
        root = audit_log.root_at(conn, size)
        rows = conn.execute(
            "SELECT originator_id, max(originator_version) FROM log_leaves GROUP BY 1"
        ).fetchall()
        lie = build_heads((rid, 1) for rid, _ in rows)
        key = load_signing_key(audit_log.key_path(services.settings))
        note = sign_checkpoint(services.settings.log_origin, size, root, key, (lie.extension(),))
        conn.execute(
            "INSERT INTO log_checkpoints (tree_size, root_hash, note) VALUES (%s, %s, %s)",
            (size, root, note),
        )
    report = audit(services.database, origin=services.settings.log_origin)
    assert "signed list of each report's current version does not match" in report.render()
