"""Evidence bundles from the real database, checked by `courtwatch verify` offline."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from courtwatch.services import Services
from courtwatch.transparency.bundle import BundleError
from courtwatch.transparency.verify import verify_bundle
from projections.transparency_log import store as audit_log
from projections.transparency_log.evidence import export_bundle

Logged = tuple[Services, list[UUID]]


def verify_cli(bundle: Path, vkey: str) -> subprocess.CompletedProcess[str]:
    # No DATABASE_URL and a data dir with nothing in it: verify must not need either.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["COURTWATCH_DATA_DIR"] = str(bundle.parent / "nowhere")
    return subprocess.run(
        [sys.executable, "-m", "courtwatch", "verify", str(bundle), "--key", vkey],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_report_bundle_verifies_and_an_edited_one_fails_clearly(
    logged: Logged, tmp_path: Path
) -> None:
    services, ids = logged
    bundle = tmp_path / "evidence.zip"
    result = export_bundle(services.database, services.settings, bundle, report_id=ids[2])
    assert result.events == 2 and result.pending == 0
    vkey = audit_log.public_key(services.database)

    ok = verify_cli(bundle, vkey)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED: all 2 record(s)" in ok.stdout
    assert not (tmp_path / "nowhere").exists()  # it started no database

    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(edited, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "events.jsonl":
                data = data.replace(b'"agents_count":2', b'"agents_count":1', 1)
            dst.writestr(item, data)
    bad = verify_cli(edited, vkey)
    assert bad.returncode == 1
    assert f"report {ids[2]} v1): content does not match its leaf hash" in bad.stdout
    assert "the event was edited" in bad.stdout


def test_a_time_range_bundle_holds_exactly_the_events_in_range(
    logged: Logged, tmp_path: Path
) -> None:
    services, _ = logged
    now = datetime.now(UTC)
    bundle = tmp_path / "range.zip"
    result = export_bundle(
        services.database,
        services.settings,
        bundle,
        since=now - timedelta(hours=1),
        until=now + timedelta(minutes=1),
    )
    assert result.events == 12  # six reports, two events each
    report = verify_bundle(bundle.read_bytes(), audit_log.public_key(services.database))
    assert report.ok and report.events_verified == 12
    with zipfile.ZipFile(io.BytesIO(bundle.read_bytes())) as zf:
        assert {"README.txt", "events.jsonl", "proofs.json", "checkpoint.txt"} <= set(zf.namelist())


def test_export_refuses_an_event_edited_after_it_was_logged(logged: Logged, tmp_path: Path) -> None:
    services, ids = logged
    with services.database.connect() as conn:
        conn.execute(
            "UPDATE courtwatch_events SET state = convert_to(replace("
            "convert_from(state, 'UTF8'), 'outside', 'inside'), 'UTF8') "
            "WHERE originator_id = %s AND originator_version = 1",
            (ids[0],),
        )
    with pytest.raises(BundleError, match="edited"):
        export_bundle(services.database, services.settings, tmp_path / "x.zip", report_id=ids[0])
    assert not (tmp_path / "x.zip").exists()


def test_a_bundle_with_the_last_event_removed_fails(services: Services, tmp_path: Path) -> None:
    # Issue 9, as reproduced: deleting the Disputed (and Amended) events and their
    # proofs from a real bundle still printed VERIFIED. Here the last one, Disputed.
    import json

    from tests.projections.transparency_log.conftest import project, submit_reports

    [report_id] = submit_reports(services, 1)
    services.app.dispute(report_id, "verifier-1", "not_found_on_scene")
    project(services.database)
    bundle = tmp_path / "evidence.zip"
    result = export_bundle(services.database, services.settings, bundle, report_id=report_id)
    vkey = audit_log.public_key(services.database)
    assert result.events == 3
    ok = verify_cli(bundle, vkey)
    assert ok.returncode == 0, ok.stdout
    assert f"report {report_id} versions 1-3" in ok.stdout

    with zipfile.ZipFile(bundle) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    kept = [
        line
        for line in files["events.jsonl"].splitlines(keepends=True)
        if "Disputed" not in json.loads(line)["event"]["topic"]
    ]
    assert len(kept) == 2
    dropped = {json.loads(line)["leaf_index"] for line in files["events.jsonl"].splitlines()} - {
        json.loads(line)["leaf_index"] for line in kept
    }
    proofs = json.loads(files["proofs.json"])
    proofs["leaves"] = [p for p in proofs["leaves"] if p["leaf_index"] not in dropped]
    files["events.jsonl"] = b"".join(kept)
    files["proofs.json"] = json.dumps(proofs).encode()
    stripped = tmp_path / "stripped.zip"
    with zipfile.ZipFile(stripped, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    bad = verify_cli(stripped, vkey)
    assert bad.returncode == 1, bad.stdout
    assert "VERIFIED" not in bad.stdout
    assert f"report {report_id}: version(s) 3 of 1-3 are missing" in bad.stdout

    # Lowering the declared version as well does not help: it is not what was signed.
    proofs["reports"][0]["current_version"] = 2
    files["proofs.json"] = json.dumps(proofs).encode()
    with zipfile.ZipFile(stripped, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    worse = verify_cli(stripped, vkey)
    assert worse.returncode == 1
    assert "the claim that v2 was its current version" in worse.stdout
