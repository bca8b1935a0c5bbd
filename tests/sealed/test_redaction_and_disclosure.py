"""Redaction erases for good while the log still verifies; a disclosure verifies
offline and a tampered one fails; the unsealing key can live off the server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from courtwatch.cli.bootstrap import bootstrap
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.members import MemberRole
from courtwatch.sealed.service import unsealing_key_path
from courtwatch.sealing import keys
from courtwatch.sealing.envelope import UnsealFailed, unseal
from courtwatch.services import Services
from projections.transparency_log import store as audit_log
from projections.transparency_log.auditor import audit
from projections.transparency_log.evidence import export_bundle
from tests.members.tokens import member_token
from tests.projections.transparency_log.conftest import project
from tests.sealed.conftest import arrest, bearer, markers, submit_sealed
from tests.web.reports.test_privacy import pg_dump


def cli(*args: str, database: Database, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database.url, "COURTWATCH_DATA_DIR": str(tmp_path / "cli")}
    return subprocess.run(
        [sys.executable, "-m", "courtwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def envelope_row(services: Services, report_id: str) -> tuple[Any, ...]:
    with services.database.connect() as conn:
        row = conn.execute(
            "SELECT wrapped_key, ciphertext, redacted_at FROM sealed_envelopes WHERE report_id = %s",
            (uuid.UUID(report_id),),
        ).fetchone()
    assert row is not None
    return tuple(row)


async def test_the_author_redacts_and_nothing_can_unseal_it_while_audit_and_proofs_pass(
    client: httpx.AsyncClient, services: Services, database: Database, tmp_path: Path
) -> None:
    values = markers()
    created = (await submit_sealed(client, values)).json()
    report_id, token = created["id"], created["author_token"]
    before = envelope_row(services, report_id)
    private = keys.read_private_key(unsealing_key_path(services.settings))  # type: ignore[arg-type]
    url = f"/api/reports/{report_id}/redact"

    assert (
        await client.post(url, json={"reason": "author_asked", "token": "wrong"})
    ).status_code == 403
    assert (
        await client.post(url, json={"reason": "because José said", "token": token})
    ).status_code == 422
    assert (await client.post(url, json={"reason": "author_asked"})).status_code == 401
    responder = member_token(services, "Rio", MemberRole.RESPONDER)
    refused = await client.post(url, json={"reason": "safety"}, headers=bearer(responder))
    assert refused.status_code == 403
    assert envelope_row(services, report_id)[2] is None  # nothing destroyed by a refusal

    done = await client.post(url, json={"reason": "author_asked", "token": token})
    assert done.status_code == 200, done.text
    assert done.json()["stored"] is True
    again = await client.post(url, json={"reason": "author_asked", "token": token})
    assert again.status_code == 200 and again.json()["stored"] is False

    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    redacted = [e for e in history if e["event"] == "Redacted"]
    assert len(redacted) == 1
    assert redacted[0]["data"] == {
        "by": "author",
        "fields": sorted(values),
        "reason": "author_asked",
    }
    wrapped, ciphertext, redacted_at = envelope_row(services, report_id)
    assert wrapped is None and ciphertext is None and redacted_at is not None
    # Even the unsealing key cannot open what was there: the data key is gone.
    with pytest.raises(UnsealFailed):
        unseal(uuid.UUID(report_id), None, None, private)
    assert before[0] is not None  # (it could, before)
    unseal(uuid.UUID(report_id), bytes(before[1]), bytes(before[0]), private)
    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    gone = await client.get(f"/api/reports/{report_id}/sealed", headers=bearer(lawyer))
    assert gone.status_code == 410
    dump = pg_dump(database)
    assert bytes(before[0]).hex() not in dump and bytes(before[1]).hex()[:64] not in dump

    project(services.database)
    assert audit(services.database, origin=services.settings.log_origin).ok
    bundle = tmp_path / "evidence.zip"
    result = export_bundle(
        services.database, services.settings, bundle, report_id=uuid.UUID(report_id)
    )
    assert result.events == 3
    vkey = audit_log.public_key(services.database)
    verified = cli("verify", str(bundle), "--key", vkey, database=database, tmp_path=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_a_coordinator_redacts_on_the_persons_request(
    client: httpx.AsyncClient, services: Services
) -> None:
    report_id = (await submit_sealed(client, markers())).json()["id"]
    coordinator = member_token(services, "Cy", MemberRole.COORDINATOR)
    done = await client.post(
        f"/api/reports/{report_id}/redact",
        json={"reason": "person_asked"},
        headers=bearer(coordinator),
    )
    assert done.status_code == 200, done.text
    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    assert history[-1]["event"] == "Redacted" and history[-1]["data"]["by"] == "Cy"
    reads = (await client.get("/api/sealed/reads", headers=bearer(coordinator))).json()["reads"]
    assert [(r["reader"], r["action"]) for r in reads] == [("Cy", "redact")]


async def test_a_report_without_sealed_details_cannot_be_redacted(
    client: httpx.AsyncClient, services: Services
) -> None:
    plain = await client.post(
        "/api/reports", json=arrest(), headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    body = {"reason": "author_asked", "token": plain.json()["author_token"]}
    answer = await client.post(f"/api/reports/{plain.json()['id']}/redact", json=body)
    assert answer.status_code == 409


async def test_a_disclosure_verifies_offline_and_a_tampered_one_fails(
    client: httpx.AsyncClient, services: Services, database: Database, tmp_path: Path
) -> None:
    values = markers()
    report_id = (await submit_sealed(client, values)).json()["id"]
    project(services.database)
    key_file = str(unsealing_key_path(services.settings))
    disclosure = tmp_path / "disclosure.json"
    made = cli(
        "sealed", "disclose", report_id, "a_number", "--key", key_file, "--as", "Ana",
        "--out", str(disclosure), database=database, tmp_path=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    assert json.loads(disclosure.read_text())["value"] == values["a_number"]
    bundle = tmp_path / "evidence.zip"
    export_bundle(services.database, services.settings, bundle, report_id=uuid.UUID(report_id))
    vkey = audit_log.public_key(services.database)

    def verify(path: Path) -> subprocess.CompletedProcess[str]:
        return cli("verify", str(bundle), "--key", vkey, "--disclosure", str(path),
                   database=database, tmp_path=tmp_path)  # fmt: skip

    ok = verify(disclosure)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "matches its logged commitment" in ok.stdout
    for change in ({"value": values["a_number"] + "0"}, {"field": "person_name"}):
        tampered = tmp_path / "tampered.json"
        tampered.write_text(json.dumps({**json.loads(disclosure.read_text()), **change}))
        bad = verify(tampered)
        assert bad.returncode == 1, bad.stdout
        assert "FAILED" in bad.stdout
    coordinator = member_token(services, "Cy", MemberRole.COORDINATOR)
    reads = (await client.get("/api/sealed/reads", headers=bearer(coordinator))).json()["reads"]
    assert [(r["reader"], r["action"], r["fields"]) for r in reads] == [
        ("Ana", "disclose", ["a_number"])
    ]


def test_with_the_key_offline_the_server_seals_but_cannot_unseal_and_the_cli_reads(
    database: Database, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database.url, data_dir=tmp_path / "data", unsealing_key_setting="offline"
    )
    services = bootstrap(settings, database)
    try:
        assert not services.sealed.can_unseal
        assert not (tmp_path / "data" / "sealing").exists()
        lawyer_key = tmp_path / "laptop" / "lawyer.key"
        made = cli(
            "sealed", "keygen", "--out", str(lawyer_key), database=database, tmp_path=tmp_path
        )
        assert made.returncode == 0, made.stderr
        assert lawyer_key.stat().st_mode & 0o777 == 0o600
        public = made.stdout.strip()
        installed = cli(
            "sealed", "install-public-key", public, database=database, tmp_path=tmp_path
        )
        assert installed.returncode == 0, installed.stderr

        values = markers()
        result = services.sealed.submit(arrest(), uuid.uuid4().hex, values)
        from courtwatch.sealed import UnsealingKeyAbsent

        with pytest.raises(UnsealingKeyAbsent):
            services.sealed.read(result.report_id, member_id=None, reader="web")
        read = cli(
            "sealed", "read", str(result.report_id), "--key", str(lawyer_key), "--as", "Ana",
            database=database, tmp_path=tmp_path,
        )  # fmt: skip
        assert read.returncode == 0, read.stderr
        assert json.loads(read.stdout) == values
        assert [(r.reader, r.action) for r in services.sealed.reads()] == [("Ana", "read")]
        other = tmp_path / "other.key"
        keys.write_private_key(other, keys.generate())
        wrong = cli("sealed", "read", str(result.report_id), "--key", str(other), "--as", "Eve",
                    database=database, tmp_path=tmp_path)  # fmt: skip
        assert wrong.returncode == 1 and values["person_name"] not in wrong.stdout
        assert not (tmp_path / "cli").exists() or not any((tmp_path / "cli").rglob("*.key"))
    finally:
        services.close()


async def test_concurrent_redactions_store_one_event_and_hostile_bodies_store_none(
    client: httpx.AsyncClient, services: Services
) -> None:
    created = (await submit_sealed(client, markers())).json()
    report_id, token = created["id"], created["author_token"]
    url = f"/api/reports/{report_id}/redact"
    for body in (
        {"reason": ["author_asked"], "token": token},
        {"reason": "author_asked", "token": 5},
        {"reason": "author_asked", "token": "x" * 5000},
        {"reason": "author_asked\u0000", "token": token},
        {"reason": 9 * 10**4000, "token": token},
        {"reason": "", "token": token},
    ):
        answer = await client.post(url, json=body)
        assert 400 <= answer.status_code < 500, (body, answer.text)
    assert envelope_row(services, report_id)[2] is None  # still sealed
    answers = await asyncio.gather(
        *(client.post(url, json={"reason": "author_asked", "token": token}) for _ in range(5))
    )
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.json()["stored"] for a in answers) == [False] * 4 + [True]
    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    assert [e["event"] for e in history].count("Redacted") == 1


def test_a_key_file_others_can_read_stops_the_start_and_no_second_key_pair_is_made(
    database: Database, tmp_path: Path
) -> None:
    from dataclasses import replace

    from courtwatch.infrastructure.config import ConfigError

    settings = Settings(database_url=database.url, data_dir=tmp_path / "data")
    first = bootstrap(settings, database)
    first.close()
    key_file = unsealing_key_path(settings)
    assert key_file is not None and key_file.stat().st_mode & 0o777 == 0o600
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        bootstrap(settings, database)
    # Another process whose data folder has no key file: it seals to the key on
    # record and makes no key pair of its own.
    elsewhere = replace(settings, data_dir=tmp_path / "other")
    second = bootstrap(elsewhere, database)
    try:
        assert not second.sealed.can_unseal
        assert not (tmp_path / "other" / "sealing").exists()
        assert len(second.sealed.store.public_keys()) == 1
    finally:
        second.close()


async def test_some_fields_are_erased_the_rest_still_reads_and_still_proves(
    client: httpx.AsyncClient, services: Services, database: Database
) -> None:
    from courtwatch.intake import ValidationFailed
    from courtwatch.sealing.disclosure import check_disclosure

    values = markers()
    created = (await submit_sealed(client, values)).json()
    report_id = created["id"]
    coordinator = member_token(services, "Cy", MemberRole.COORDINATOR)
    url = f"/api/reports/{report_id}/redact"
    unknown = await client.post(
        url, json={"reason": "person_asked", "fields": ["nickname"]}, headers=bearer(coordinator)
    )
    assert unknown.status_code == 422
    # Two coordinators erase two different things at the same moment: both stay erased.
    answers = await asyncio.gather(
        client.post(
            url,
            json={"reason": "person_asked", "fields": ["person_name", "a_number"]},
            headers=bearer(coordinator),
        ),
        client.post(
            url, json={"reason": "safety", "fields": ["contact"]}, headers=bearer(coordinator)
        ),
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    read = (await client.get(f"/api/reports/{report_id}/sealed", headers=bearer(lawyer))).json()
    erased = {"person_name", "a_number", "contact"}
    assert read["sealed"] == {k: v for k, v in values.items() if k not in erased}
    dump = pg_dump(database)
    for name in erased:
        assert values[name] not in dump
    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    redactions = [e["data"]["fields"] for e in history if e["event"] == "Redacted"]
    assert sorted(map(tuple, redactions)) == [("a_number", "person_name"), ("contact",)]

    # What is kept still proves against the commitment logged at submission.
    events = [
        {
            "id": report_id,
            "topic": "courtwatch.domain.reports:Report." + e["event"],
            "payload": e["data"],
        }
        for e in history
    ]
    disclosure = services.sealed.disclose(uuid.UUID(report_id), "language", reader="Ana")
    assert check_disclosure(disclosure, events) == []
    with pytest.raises(ValidationFailed):  # erased: there is nothing to disclose
        services.sealed.disclose(uuid.UUID(report_id), "person_name", reader="Ana")

    # Then everything: nothing left to read.
    done = await client.post(url, json={"reason": "person_asked"}, headers=bearer(coordinator))
    assert done.status_code == 200 and done.json()["stored"] is True
    gone = await client.get(f"/api/reports/{report_id}/sealed", headers=bearer(lawyer))
    assert gone.status_code == 410
    late = await client.post(
        url, json={"reason": "safety", "fields": ["notes"]}, headers=bearer(coordinator)
    )
    assert late.status_code == 410
