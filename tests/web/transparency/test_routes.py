"""The log over HTTP: key, checkpoints, proofs, evidence, and the citation block."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from starlette.concurrency import run_in_threadpool

from courtwatch.infrastructure import event_log
from courtwatch.services import Services
from courtwatch.transparency.checkpoint import parse_and_verify_checkpoint
from courtwatch.transparency.merkle import verify_consistency, verify_inclusion
from courtwatch.transparency.verify import verify_bundle
from projections import runner
from projections.transparency_log import store as audit_log
from tests.conftest import wait_until
from tests.members.tokens import member_token
from tests.projections.transparency_log.conftest import SPEC, submit_reports


async def logged_up_to_now(services: Services) -> None:
    """Wait, by positions, until the in-process projection has the whole log."""
    head = await run_in_threadpool(event_log.head, services.database)

    async def caught_up() -> bool:
        return await run_in_threadpool(runner.position_of, services.database, SPEC) >= head

    await wait_until(caught_up, timeout=20)


async def publish(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/log/checkpoints", headers={"authorization": f"Bearer {token}"})


async def sign(services: Services) -> dict[str, object]:
    """What the signing process (`courtwatch project`, or serve's projections) does."""
    published = await run_in_threadpool(
        audit_log.publish_checkpoint, services.database, services.settings
    )
    assert published is not None
    return published.as_json()


async def test_proofs_from_the_api_verify_against_signed_checkpoints(
    services: Services, client: httpx.AsyncClient
) -> None:
    ids = await run_in_threadpool(submit_reports, services, 3)
    await logged_up_to_now(services)
    assert (await client.post("/api/log/checkpoints")).status_code == 401
    first = await sign(services)
    ids += await run_in_threadpool(submit_reports, services, 2)
    await logged_up_to_now(services)
    second = await sign(services)

    vkey = (await client.get("/.well-known/courtwatch-log-key")).text
    latest = await client.get("/api/log/checkpoints/latest")
    assert latest.headers["content-type"].startswith("text/plain")
    signed = parse_and_verify_checkpoint(latest.text, vkey, origin=services.settings.log_origin)
    assert signed.size == second["tree_size"]
    listed = (await client.get("/api/log/checkpoints")).json()["checkpoints"]
    assert [c["tree_size"] for c in listed] == [first["tree_size"], second["tree_size"]]

    by_report = (await client.get(f"/api/log/inclusion?report={ids[1]}&version=2")).json()
    by_leaf = (await client.get(f"/api/log/inclusion?leaf={by_report['leaf_index']}")).json()
    assert by_report == by_leaf
    proof = [bytes.fromhex(h) for h in by_report["inclusion_proof"]]
    verify_inclusion(
        bytes.fromhex(by_report["leaf_hash"]),
        by_report["leaf_index"],
        signed.size,
        proof,
        signed.root,
    )
    old_size = first["tree_size"]
    against_old = await client.get(f"/api/log/inclusion?leaf=0&size={old_size}")
    assert against_old.json()["tree_size"] == old_size

    body = (await client.get(f"/api/log/consistency?first={old_size}&second={signed.size}")).json()
    old = parse_and_verify_checkpoint(body["first"]["note"], vkey)
    new = parse_and_verify_checkpoint(body["second"]["note"], vkey)
    verify_consistency(
        old.size,
        new.size,
        old.root,
        new.root,
        [bytes.fromhex(h) for h in body["consistency_proof"]],
    )

    assert (await client.get("/api/log/inclusion?leaf=99999")).status_code == 404
    assert (
        await client.get(f"/api/log/consistency?first=1&second={signed.size}")
    ).status_code == 404
    assert (await client.get("/api/log/inclusion?leaf=x")).status_code == 422

    evidence = await client.get(f"/reports/{ids[4]}/evidence.zip")
    assert evidence.headers["content-type"] == "application/zip"
    assert verify_bundle(evidence.content, vkey).events_verified == 2


async def test_the_report_page_carries_a_citation_block(
    services: Services, client: httpx.AsyncClient
) -> None:
    [report_id] = await run_in_threadpool(submit_reports, services, 1)
    await logged_up_to_now(services)
    page = (await client.get(f"/reports/{report_id}")).text
    assert 'id="citation"' in page and "awaiting the next checkpoint" in page

    checkpoint = await sign(services)
    page = (await client.get(f"/reports/{report_id}")).text
    leaf = (await client.get(f"/api/log/inclusion?report={report_id}&version=1")).json()
    assert "awaiting the next checkpoint" not in page
    assert leaf["leaf_hash"] in page and checkpoint["root_hash"] in page
    assert (
        f"courtwatch log {services.settings.log_origin}, report {report_id} v1, "
        f"leaf {leaf['leaf_index']}, checkpoint {checkpoint['tree_size']} "
        # The configured public origin (COURTWATCH_PUBLIC_URL), never the Host header.
        f"({checkpoint['root_hash'][:16]}…), {services.settings.public_url}/reports/{report_id}"
    ) in page
    assert f"/reports/{report_id}/evidence.zip" in page


async def test_the_web_process_never_signs_and_answers_503_until_a_checkpoint_exists(
    services: Services, client: httpx.AsyncClient
) -> None:
    # Issue 9: GET evidence.zip signed a new checkpoint for an anonymous caller.
    [report_id] = await run_in_threadpool(submit_reports, services, 1)
    await logged_up_to_now(services)
    key_file = audit_log.key_path(services.settings)
    for url in (f"/reports/{report_id}/evidence.zip", "/.well-known/courtwatch-log-key"):
        waiting = await client.get(url)
        assert waiting.status_code == 503, (url, waiting.text)
        assert int(waiting.headers["retry-after"]) >= 1
    token = member_token(services, "coordinator-3", "coordinator")
    asked = await publish(client, token)
    assert asked.status_code == 202 and int(asked.headers["retry-after"]) >= 1
    assert asked.json()["latest"] is None
    # Nothing was signed, and the web process never even made a key.
    assert await run_in_threadpool(audit_log.checkpoints, services.database) == []
    assert not key_file.exists()

    checkpoint = await sign(services)  # the signing process's scheduled tick
    # The web process does not need the private key: hide it and serve anyway.
    hidden = key_file.with_name("hidden")
    key_file.rename(hidden)
    try:
        vkey = (await client.get("/.well-known/courtwatch-log-key")).text.strip()
        evidence = await client.get(f"/reports/{report_id}/evidence.zip")
        assert evidence.status_code == 200, evidence.text
        report = verify_bundle(evidence.content, vkey)
        assert report.ok, report.problems
        assert report.covered == {str(report_id): 2}
        assert report.checkpoint is not None
        assert report.checkpoint.size == checkpoint["tree_size"]
        # A newer report that no checkpoint covers yet: 503, still nothing signed.
        [newer] = await run_in_threadpool(submit_reports, services, 1)
        await logged_up_to_now(services)
        later = await client.get(f"/reports/{newer}/evidence.zip")
        assert later.status_code == 503 and "retry-after" in later.headers
        assert len(await run_in_threadpool(audit_log.checkpoints, services.database)) == 1
    finally:
        hidden.rename(key_file)


async def test_checkpoints_are_listed_a_page_at_a_time(
    services: Services, client: httpx.AsyncClient
) -> None:
    sizes = []
    for _ in range(3):
        await run_in_threadpool(submit_reports, services, 1)
        await logged_up_to_now(services)
        sizes.append((await sign(services))["tree_size"])
    page = (await client.get("/api/log/checkpoints?limit=2")).json()
    assert [c["tree_size"] for c in page["checkpoints"]] == sizes[:2]
    assert page["next"] == f"/api/log/checkpoints?after={sizes[1]}&limit=2"
    rest = (await client.get(page["next"])).json()
    assert [c["tree_size"] for c in rest["checkpoints"]] == sizes[2:]
    assert rest["next"] is None
    assert len((await client.get("/api/log/checkpoints")).json()["checkpoints"]) == 3
    for bad in ("0", "1001", "-1", "1e3", "9" * 5000):
        assert (await client.get(f"/api/log/checkpoints?limit={bad}")).status_code == 422


# "\u00b2" superscript two, "\u0661" Arabic-Indic one, "\uff11" fullwidth one: int() reads
# the last two as 1.
HOSTILE = [
    "9" * 4301,
    "9" * 19,
    "\u00b2",
    "\u0661",
    "\uff11",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1.0",
    "0x1",
    "",
    "1\n",
]


@pytest.mark.parametrize(
    "query",
    [
        "/api/log/inclusion?leaf={}",
        "/api/log/inclusion?leaf=0&size={}",
        "/api/log/inclusion?report=00000000-0000-0000-0000-000000000001&version={}",
        "/api/log/consistency?first={}&second=1",
        "/api/log/consistency?first=1&second={}",
        "/api/log/checkpoints?after={}",
    ],
)
async def test_hostile_query_integers_are_refused_with_422(
    services: Services, client: httpx.AsyncClient, query: str
) -> None:
    for value in HOSTILE:
        answer = await client.get(query.format(quote(value, safe="")))
        assert answer.status_code == 422, (value, answer.status_code, answer.text)
    # The largest accepted number is simply not found, never a 500.
    big = await client.get(query.format("9" * 18))
    assert big.status_code in (200, 404, 422), big.text
