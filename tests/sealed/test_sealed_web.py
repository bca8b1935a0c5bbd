"""Sealed details through the real server and database: nothing readable in a
dump or a log, exactly readable by a lawyer, refused to everyone else."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest

from courtwatch.infrastructure.database import Database
from courtwatch.members import MemberRole
from courtwatch.sealing.fields import SEALED_FIELDS
from courtwatch.services import Services
from tests.members.tokens import member_token
from tests.sealed.conftest import arrest, bearer, count, markers, submit_sealed
from tests.web.reports.test_privacy import pg_dump, product_logging  # noqa: F401


async def test_a_dump_and_the_logs_hold_no_sealed_value_and_a_lawyer_reads_them_exactly(
    product_logging: None,  # noqa: F811
    client: httpx.AsyncClient,
    services: Services,
    database: Database,
    capfd: pytest.CaptureFixture[str],
) -> None:
    values = markers()
    created = await submit_sealed(client, values)
    assert created.status_code == 201, created.text
    report_id = created.json()["id"]

    public = (await client.get(f"/api/reports/{report_id}")).json()
    sealed_events = [e for e in public["history"] if e["event"] == "DetailsSealed"]
    assert len(sealed_events) == 1
    commitments = sealed_events[0]["data"]["commitments"]
    assert set(commitments) == set(SEALED_FIELDS)
    assert all(re.fullmatch("[0-9a-f]{64}", c) for c in commitments.values())
    page = (await client.get(f"/reports/{report_id}")).text

    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    read = await client.get(f"/api/reports/{report_id}/sealed", headers=bearer(lawyer))
    assert read.status_code == 200, read.text
    assert read.json()["sealed"] == values
    assert read.headers["cache-control"] == "no-store"

    dump = pg_dump(database)
    logs = "".join(capfd.readouterr())
    for name, value in values.items():
        for text in {value, *value.split("\n")}:
            assert text not in dump, f"{name} in pg_dump"
            assert text.encode().hex() not in dump, f"{name} (as bytea) in pg_dump"
            assert text not in logs, f"{name} in the logs"
            assert text not in str(public) and text not in page, f"{name} on a public view"


async def test_only_lawyers_and_coordinators_read_and_each_read_is_listed_for_coordinators(
    client: httpx.AsyncClient, services: Services
) -> None:
    values = markers()
    report_id = (await submit_sealed(client, values)).json()["id"]
    url = f"/api/reports/{report_id}/sealed"
    responder = member_token(services, "Rio", MemberRole.RESPONDER)
    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    coordinator = member_token(services, "Cy", MemberRole.COORDINATOR)

    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=bearer(responder))).status_code == 403
    assert (await client.get(url, headers=bearer("cwm_forged"))).status_code == 401
    assert (await client.get(f"/reports/{report_id}/sealed")).status_code == 401
    assert count(services, "sealed_reads") == 0  # refusals read nothing

    assert (await client.get(url, headers=bearer(lawyer))).json()["sealed"] == values
    assert (await client.get(url, headers=bearer(coordinator))).status_code == 200
    page = await client.get(f"/reports/{report_id}/sealed", headers=bearer(lawyer))
    assert page.status_code == 200 and values["a_number"] in page.text

    assert (await client.get("/api/sealed/reads", headers=bearer(lawyer))).status_code == 403
    assert (await client.get("/api/sealed/reads", headers=bearer(responder))).status_code == 403
    reads = (await client.get("/api/sealed/reads", headers=bearer(coordinator))).json()["reads"]
    assert [(r["reader"], r["report_id"], r["action"]) for r in reads] == [
        ("Ana", report_id, "read"),
        ("Cy", report_id, "read"),
        ("Ana", report_id, "read"),
    ]
    assert sorted(reads[0]["fields"]) == sorted(values)
    listing = await client.get("/console/sealed/reads", headers=bearer(coordinator))
    assert listing.status_code == 200 and listing.text.count("sealed_action") == 0
    assert "Ana" in listing.text


async def test_a_report_without_sealed_details_has_nothing_to_read(
    client: httpx.AsyncClient, services: Services
) -> None:
    plain = await client.post(
        "/api/reports", json=arrest(), headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    report_id = plain.json()["id"]
    assert not [e for e in plain.json().get("history", []) if e["event"] == "DetailsSealed"]
    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    answer = await client.get(f"/api/reports/{report_id}/sealed", headers=bearer(lawyer))
    assert answer.status_code == 404
    assert (
        await client.get(f"/api/reports/{uuid.uuid4()}/sealed", headers=bearer(lawyer))
    ).status_code == 404
    assert (
        await client.get("/api/reports/not-a-uuid/sealed", headers=bearer(lawyer))
    ).status_code == 404


@pytest.mark.parametrize(
    "sealed",
    [
        {"nickname": "x"},
        {"person_name": 5},
        {"person_name": {"deep": ["x"]}},
        {"notes": "a\u0000b"},
        {"notes": "a\ud800b"},
        {"notes": "a\u202eb"},
        {"person_name": "two\nlines"},
        {"notes": "x" * 4001},
        "text",
        ["person_name"],
        {"a_number": "9" * 5000},
    ],
)
async def test_a_bad_sealed_part_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, sealed: object
) -> None:
    before = count(services, "courtwatch_events")
    answer = await submit_sealed(client, sealed)  # type: ignore[arg-type]
    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"][0]["field"].startswith("sealed")
    assert count(services, "courtwatch_events") == before
    assert count(services, "sealed_envelopes") == 0


async def test_a_bad_public_field_with_a_good_sealed_part_stores_no_envelope(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = {**arrest(), "agents_count": 1000, "sealed": markers()}
    answer = await client.post(
        "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 422
    assert count(services, "sealed_envelopes") == 0
    assert count(services, "courtwatch_events") == 0


async def test_a_retried_submission_is_stored_once_even_when_sent_concurrently(
    client: httpx.AsyncClient, services: Services
) -> None:
    values = markers()
    key, public = uuid.uuid4().hex, arrest()
    answers = await asyncio.gather(*(submit_sealed(client, values, key, public) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert count(services, "sealed_envelopes") == 1
    report_id = answers[0].json()["id"]
    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    assert [e["event"] for e in history] == ["Submitted", "DetailsSealed"]
    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    read = await client.get(f"/api/reports/{report_id}/sealed", headers=bearer(lawyer))
    assert read.json()["sealed"] == values


async def test_a_key_reused_for_another_report_or_to_add_sealed_fields_is_refused_and_seals_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    key, public = uuid.uuid4().hex, arrest()
    plain = await client.post("/api/reports", json=public, headers={"Idempotency-Key": key})
    assert plain.status_code == 201
    # Same key, same public fields, sealed fields added: the first report had
    # none, so "already stored" would silently lose them. Refused, nothing sealed.
    replay = await submit_sealed(client, markers(), key, public)
    assert replay.status_code == 409, replay.text
    # Same key, another report: refused, and the envelope written for it is rolled back.
    other = await submit_sealed(client, markers(), key, {**public, "place": "outside"})
    assert other.status_code == 409
    assert count(services, "sealed_envelopes") == 0
    history = (await client.get(f"/api/reports/{plain.json()['id']}")).json()["history"]
    assert [e["event"] for e in history] == ["Submitted"]
