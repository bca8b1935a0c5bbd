"""The report page's history says who did what and why (verifier's display name,
dispute reason label, before -> after of an amendment); the names on "I'm going"
and "on scene" are withheld from public views, bundles included, for 24 hours."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import httpx
import pytest
import rfc8785
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.tokens import member_token
from tests.web.console.helpers import submit, ws_url
from tests.web.transparency.test_routes import logged_up_to_now, sign
from web.members.auth import cookie_name


def bearer(services: Services, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {member_token(services, name, 'responder')}"}


async def acted_on(client: httpx.AsyncClient, services: Services) -> dict[str, Any]:
    ana, bo = bearer(services, "Ana"), bearer(services, "Bo")
    report = await submit(client, kind="sighting", agents_count=3)
    rid = report["id"]
    for url, headers, body in (
        (f"/api/reports/{rid}/claim", ana, None),
        (f"/api/reports/{rid}/on-scene", ana, None),
        (f"/api/reports/{rid}/dispute", bo, {"reason": "duplicate"}),
        (f"/api/reports/{rid}/verify", bo, None),
        (
            f"/api/reports/{rid}/amend",
            {},
            {"token": report["author_token"], "changes": {"agents_count": 9}},
        ),
        (f"/api/reports/{rid}/resolve", ana, None),
    ):
        answer = await client.post(url, headers=headers, json=body)
        assert answer.status_code == 200, (url, answer.text)
        if not headers:
            # The author's answer is a public view: it does not say who came.
            assert "Ana" not in answer.text and "claimed_by" not in answer.json()
    return report


async def test_the_history_says_who_did_what_and_why_and_withholds_presence_names(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    rid = (await acted_on(client, services))["id"]
    public = (await client.get(f"/reports/{rid}")).text
    assert "by <strong>Bo</strong>" in public  # Verified and Disputed
    assert "reason: Duplicate of another report" in public
    assert "<del>3</del> → <ins>9</ins>" in public  # the amendment, before -> after
    assert "Ana" not in public  # going, on scene, resolved: withheld
    assert public.count("name withheld for 24 hours") == 3
    spanish = (await client.get(f"/reports/{rid}?lang=es")).text
    assert "por <strong>Bo</strong>" in spanish and "motivo: Duplicado de otro reporte" in spanish
    # A member reads the names, on a page no cache keeps.
    member_view = await client.get(f"/reports/{rid}", headers=bearer(services, "Cy"))
    assert member_view.text.count("by <strong>Ana</strong>") == 3
    assert member_view.headers["cache-control"] == "no-store"
    api = (await client.get(f"/api/reports/{rid}")).json()
    amended = next(h for h in api["history"] if h["event"] == "Amended")
    assert amended["before"] == {"agents_count": 3} and amended["data"]["changes"] == {
        "agents_count": 9
    }


async def test_the_evidence_bundle_waits_24_hours_for_the_public_and_not_for_members(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    rid = (await acted_on(client, services))["id"]
    await logged_up_to_now(services)
    await sign(services)
    refused = await client.get(f"/reports/{rid}/evidence.zip")
    assert refused.status_code == 403
    assert 23 * 3600 < int(refused.headers["retry-after"]) <= 24 * 3600 + 1
    for_member = await client.get(f"/reports/{rid}/evidence.zip", headers=bearer(services, "Cy"))
    assert for_member.status_code == 200, for_member.text
    events = zipfile.ZipFile(io.BytesIO(for_member.content)).read("events.jsonl").decode()
    assert '"member":"Ana"' in events  # the bundle is verbatim: this is why it waits

    # A day later the names are history: public views and the bundle show them.
    now = services.app._clock()
    services.app._clock = lambda: now + timedelta(hours=24, minutes=1)
    public = (await client.get(f"/reports/{rid}")).text
    assert public.count("by <strong>Ana</strong>") == 3
    assert (await client.get(f"/reports/{rid}/evidence.zip")).status_code == 200


async def test_a_withheld_name_cannot_be_guessed_from_the_public_leaf_hash(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    """The leaf hash of every event is public at once (/api/log/inclusion), and
    covers id, version, topic, timestamp and payload, all public but the
    withheld fields. Hashing each candidate name (verifiers' names are public)
    must not find the one withheld: the event carries a secret random nonce."""
    report = await acted_on(client, services)
    rid = report["id"]
    await logged_up_to_now(services)
    await sign(services)
    public = (await client.get(f"/api/reports/{rid}")).json()
    names = ["Ana", "Bo", "Cy"]
    ids = {h["data"][k] for h in public["history"] for k in h["data"] if k.endswith("_id")}
    topics = [f"courtwatch.domain.reports:{c}" for c in ("Sighting", "Report")]

    def guesses(entry: dict[str, Any]) -> list[bytes]:
        payloads = [dict(entry["data"])]
        for name in names:
            payloads.append({**entry["data"], "member": name})
            payloads += [{**entry["data"], "member": name, "member_id": i} for i in ids]
        return [
            b"\x00"
            + rfc8785.dumps(
                {
                    "id": rid,
                    "version": entry["version"],
                    "topic": f"{topic}.{entry['event']}",
                    "timestamp": entry["timestamp"],
                    "payload": payload,
                }
            )
            for topic in topics
            for payload in payloads
        ]

    async def leaf_hash(version: int) -> str:
        answer = await client.get(f"/api/log/inclusion?report={rid}&version={version}")
        return str(answer.json()["leaf_hash"])

    leaves = {h["version"]: await leaf_hash(h["version"]) for h in public["history"]}

    def found(entry: dict[str, Any]) -> bool:
        leaf = leaves[entry["version"]]
        return any(hashlib.sha256(g).hexdigest() == leaf for g in guesses(entry))

    # The guess works where nothing is withheld (a verdict): the check can fail...
    assert found(next(h for h in public["history"] if h["event"] == "Verified"))
    withheld = [h for h in public["history"] if h.get("withheld")]
    assert len(withheld) == 3
    # ...and finds no withheld name.
    assert not any(found(h) for h in withheld)


async def test_an_outcome_a_responder_records_names_them_at_once_and_the_authors_does_not(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    report = await submit(client, kind="courthouse_arrest", agents_count=None)
    rid = report["id"]
    dee = services.members.create_member("Dee", ["responder"])
    _, token = services.members.issue_api_token(dee.id, "tests")
    by_dee = await client.post(
        f"/api/reports/{rid}/outcome",
        headers={"Authorization": f"Bearer {token}"},
        json={"outcome": {"outcome": "detained"}},
    )
    assert by_dee.status_code == 200, by_dee.text
    by_author = await client.post(
        f"/api/reports/{rid}/outcome",
        json={"token": report["author_token"], "outcome": {"outcome": "released"}},
    )
    assert by_author.status_code == 200, by_author.text
    history = (await client.get(f"/api/reports/{rid}")).json()["history"]
    dees, authors = [h["data"] for h in history if h["event"] == "OutcomeRecorded"]
    assert (dees["member"], dees["member_id"]) == ("Dee", str(dee.id))
    assert authors.get("member") is None and authors.get("member_id") is None
    page = (await client.get(f"/reports/{rid}")).text
    assert page.count("by <strong>Dee</strong>") == 1


async def test_no_cache_keeps_an_evidence_bundle_or_serves_it_to_someone_else(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    rid = (await submit(client))["id"]
    await logged_up_to_now(services)
    await sign(services)
    for headers in ({}, bearer(services, "Eve")):
        answer = await client.get(f"/reports/{rid}/evidence.zip", headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "private, no-store"
        assert {v.strip().lower() for v in answer.headers["vary"].split(",")} >= {
            "cookie",
            "authorization",
        }


async def test_a_member_with_no_role_sees_what_the_public_sees(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    """A member left with no role is suspended: no console, no names withheld
    from the public, no bundle before the public gets it."""
    rid = (await acted_on(client, services))["id"]
    await logged_up_to_now(services)
    await sign(services)
    nobody = {"Authorization": f"Bearer {member_token(services, 'Nobody')}"}
    page = (await client.get(f"/reports/{rid}", headers=nobody)).text
    assert "Ana" not in page and page.count("name withheld for 24 hours") == 3
    assert (await client.get(f"/reports/{rid}/evidence.zip", headers=nobody)).status_code == 403
    assert (await client.get("/console", headers=nobody)).status_code == 403
    # Its own members page (passkeys, tokens) still opens.
    assert (await client.get("/console/members", headers=nobody)).status_code == 200

    store = services.members
    session = store.join(store.invite([]).token, uuid.uuid4(), "Suspended", b"sus", b"k", 0)
    cookie = {"Cookie": f"{cookie_name(live_server.url)}={session.id}"}
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            ws_url(live_server, "/ws/console"),
            origin=live_server.url,  # type: ignore[arg-type]
            additional_headers=cookie,
            compression=None,
        ):
            pass
    assert refused.value.response.status_code == 403
