"""The log over HTTP: key, checkpoints, proofs, evidence, and the citation block."""

from __future__ import annotations

import httpx
from starlette.concurrency import run_in_threadpool

from courtwatch import credentials
from courtwatch.bootstrap import Services
from courtwatch.transparency.checkpoint import parse_and_verify_checkpoint
from courtwatch.transparency.merkle import verify_consistency, verify_inclusion
from courtwatch.transparency.verify import verify_bundle
from projections import runner
from tests.audit.conftest import SPEC, submit_reports
from tests.conftest import wait_until


async def logged_up_to_now(services: Services) -> None:
    """Wait, by positions, until the in-process projection has the whole log."""
    head = await run_in_threadpool(runner.log_head, services.database)

    async def caught_up() -> bool:
        return await run_in_threadpool(runner.position_of, services.database, SPEC) >= head

    await wait_until(caught_up, timeout=20)


async def publish(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/log/checkpoints", headers={"authorization": f"Bearer {token}"})


async def test_proofs_from_the_api_verify_against_signed_checkpoints(
    services: Services, client: httpx.AsyncClient
) -> None:
    ids = await run_in_threadpool(submit_reports, services, 3)
    await logged_up_to_now(services)
    assert (await client.post("/api/log/checkpoints")).status_code == 403
    token = credentials.add(services.database, "coordinator-1", "coordinator")
    first = await publish(client, token)
    assert first.status_code == 201
    ids += await run_in_threadpool(submit_reports, services, 2)
    await logged_up_to_now(services)
    second = (await publish(client, token)).json()
    assert (await publish(client, token)).status_code == 200  # not grown: same checkpoint

    vkey = (await client.get("/.well-known/courtwatch-log-key")).text
    latest = await client.get("/api/log/checkpoints/latest")
    assert latest.headers["content-type"].startswith("text/plain")
    signed = parse_and_verify_checkpoint(latest.text, vkey, origin=services.settings.log_origin)
    assert signed.size == second["tree_size"]
    listed = (await client.get("/api/log/checkpoints")).json()["checkpoints"]
    assert [c["tree_size"] for c in listed] == [first.json()["tree_size"], second["tree_size"]]

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
    old_size = first.json()["tree_size"]
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
    assert 'id="citation"' in page and "awaiting next checkpoint" in page

    token = credentials.add(services.database, "coordinator-2", "coordinator")
    checkpoint = (await publish(client, token)).json()
    page = (await client.get(f"/reports/{report_id}")).text
    leaf = (await client.get(f"/api/log/inclusion?report={report_id}&version=1")).json()
    assert "awaiting next checkpoint" not in page
    assert leaf["leaf_hash"] in page and checkpoint["root_hash"] in page
    assert (
        f"courtwatch log {services.settings.log_origin}, report {report_id} v1, "
        f"leaf {leaf['leaf_index']}, checkpoint {checkpoint['tree_size']} "
        # The configured public origin (COURTWATCH_PUBLIC_URL), never the Host header.
        f"({checkpoint['root_hash'][:16]}…), {services.settings.public_url}/reports/{report_id}"
    ) in page
    assert f"/reports/{report_id}/evidence.zip" in page
