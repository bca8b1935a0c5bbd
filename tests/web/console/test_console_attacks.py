"""The console's feed and actions refuse whoever should not have them, and
hostile values on every new endpoint answer 4xx and store nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from courtwatch.services import Services
from tests.conftest import ServerThread
from tests.members.test_attacks import joined
from tests.members.tokens import member_token
from tests.web.console.helpers import count_events, frame, submit, until_seen, ws_url

NEW_ACTIONS = ("claim", "on-scene", "resolve")


async def test_an_anonymous_or_foreign_or_originless_console_socket_is_refused(
    live_server: ServerThread, browser: Any, services: Services
) -> None:
    context, _, headers = await joined(browser, services, "Ana", "responder")
    cookie = {"Cookie": headers["Cookie"]}
    url = ws_url(live_server, "/ws/console")
    refusals = [
        ({}, live_server.url),  # no session: anonymous
        (cookie, "https://evil.example"),  # a page of another site riding the cookie
        (cookie, None),  # not a browser page at all
        ({"Cookie": "courtwatch_session=" + "x" * 43}, live_server.url),  # a forged cookie
    ]
    for extra, origin in refusals:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                url,
                origin=origin,  # type: ignore[arg-type]
                additional_headers=extra,
                compression=None,
            ):
                pass
        assert refused.value.response.status_code == 403, (extra, origin)
    # The same cookie from this site's page is let in.
    async with connect(
        url,
        origin=live_server.url,  # type: ignore[arg-type]
        additional_headers=cookie,
        compression=None,
    ) as socket:
        assert (await frame(socket))["type"] == "snapshot"
    await context.close()


async def test_the_console_feed_names_who_is_going_and_the_public_feed_never_hears_of_it(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, _, headers = await joined(browser, services, "Ana", "responder")
    report = (await submit(client))["id"]
    console_url = ws_url(live_server, "/ws/console")
    async with (
        connect(
            console_url,
            origin=live_server.url,  # type: ignore[arg-type]
            additional_headers={"Cookie": headers["Cookie"]},
            compression=None,
        ) as console,
        connect(ws_url(live_server, "/ws/live"), compression=None) as public,
    ):
        await until_seen(console, report)
        await until_seen(public, report)
        claimed = await client.post(f"/api/reports/{report}/claim", headers=headers)
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["claimed_by"] == ["Ana"]
        delta = await frame(console)
        assert delta["report"]["claimed_by"] == ["Ana"] and delta["report"]["event"] == "Claimed"
        # The public socket gets nothing for a claim (no frame within a heartbeat's
        # fraction), then the next public change arrives normally.
        with pytest.raises(asyncio.TimeoutError):
            await frame(public, timeout=0.5)
        verified = await client.post(f"/api/reports/{report}/verify", headers=headers)
        assert verified.status_code == 200
        public_delta = await frame(public)
        assert public_delta["report"]["status"] == "verified"
        assert "Ana" not in json.dumps(public_delta) and "claimed_by" not in public_delta["report"]
    # The public first paint and the public API never carry members' fields.
    first_paint = (await client.get("/api/map/reports")).json()
    assert "Ana" not in json.dumps(first_paint)
    assert "Ana" not in (await client.get(f"/api/reports/{report}")).text.replace(
        '"verifier":"Ana"', ""
    )
    await context.close()


async def test_member_actions_need_a_responder_and_the_csrf_token(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, _, headers = await joined(browser, services, "Ana", "responder")
    lawyer = {"Authorization": f"Bearer {member_token(services, 'Lee', 'lawyer')}"}
    report = (await submit(client))["id"]
    before = count_events(services)
    for action in NEW_ACTIONS:
        url = f"/api/reports/{report}/{action}"
        assert (await client.post(url)).status_code == 401
        assert (await client.post(url, headers={"Cookie": headers["Cookie"]})).status_code == 403
        assert (await client.post(url, headers=lawyer)).status_code == 403
        form = f"/console/reports/{report}/{action}"
        no_csrf = await client.post(form, data={}, headers={"Cookie": headers["Cookie"]})
        assert no_csrf.status_code == 403
    assert count_events(services) == before
    # With the token, each works once and a retry stores nothing.
    for action in NEW_ACTIONS:
        first = await client.post(f"/api/reports/{report}/{action}", headers=headers)
        again = await client.post(f"/api/reports/{report}/{action}", headers=headers)
        assert first.json()["stored"] is True and again.json()["stored"] is False, action
    assert count_events(services) == before + 3
    # Resolved: nobody goes there any more.
    other = member_token(services, "Bo", "responder")
    late = await client.post(
        f"/api/reports/{report}/claim", headers={"Authorization": f"Bearer {other}"}
    )
    assert late.status_code == 409
    await context.close()


HOSTILE_IDS = ["not-a-uuid", "0" * 5000, "%00", "..%2F..%2Fetc"]
HOSTILE_TEXT = ["", "\x00", "\u202e", "9" * 5000, "x" * 10_000, "not_a_reason", "<script>"]
# A lone surrogate cannot be encoded by a client library: sent as the raw bytes
# a hostile client would send (invalid UTF-8), and as a JSON escape.
RAW_BODIES = [b"reason=%ED%A0%80", b"outcome=%ED%A0%80", b"key=%ED%A0%80&action=end", b"\xff\xfe"]


async def test_hostile_values_on_every_new_endpoint_are_4xx_and_store_nothing(
    live_server: ServerThread, client: httpx.AsyncClient, browser: Any, services: Services
) -> None:
    context, _, headers = await joined(browser, services, "Ana", "responder")
    bearer = {"Authorization": f"Bearer {member_token(services, 'Bo', 'responder')}"}
    shift = await submit(client, kind="watch_shift", agents_count=None)
    report = (await submit(client, kind="courthouse_arrest"))["id"]
    before = count_events(services)
    answers: list[httpx.Response] = []
    for bad in HOSTILE_IDS:
        for action in NEW_ACTIONS:
            answers.append(await client.post(f"/api/reports/{bad}/{action}", headers=bearer))
        answers.append(await client.post(f"/reports/{bad}/manage", data={"key": "k" * 43}))
        answers.append(await client.get(f"/reports/{bad}/manage"))
        answers.append(
            await client.post(
                f"/console/reports/{bad}/verify",
                data={"csrf_token": headers["X-CSRF-Token"]},
                headers={"Cookie": headers["Cookie"]},
            )
        )
    # A watch shift is not claimed, confirmed or resolved.
    for action in NEW_ACTIONS:
        answers.append(await client.post(f"/api/reports/{shift['id']}/{action}", headers=bearer))
    form_headers = {"Cookie": headers["Cookie"]}
    for text in HOSTILE_TEXT:
        csrf = {"csrf_token": headers["X-CSRF-Token"]}
        answers.append(
            await client.post(
                f"/console/reports/{report}/dispute",
                data={**csrf, "reason": text},
                headers=form_headers,
            )
        )
        answers.append(
            await client.post(
                f"/console/reports/{report}/outcome",
                data={**csrf, "outcome": text},
                headers=form_headers,
            )
        )
        answers.append(
            await client.post(
                f"/console/reports/{report}/{quote(text[:20] or 'x', safe='')}",
                data=csrf,
                headers=form_headers,
            )
        )
        answers.append(await client.get("/console", params={"kind": text}, headers=form_headers))
        answers.append(
            await client.get("/console", params={"courthouse": text}, headers=form_headers)
        )
        for action in ("open", "amend", "outcome", "end", text):
            answers.append(
                await client.post(
                    f"/reports/{report}/manage",
                    data={"key": text, "action": action, "ended_at": text, "outcome": text},
                )
            )
        answers.append(
            await client.post(
                f"/reports/{shift['id']}/manage",
                data={"key": shift["author_token"], "action": "end", "ended_at": text},
            )
        )
        answers.append(
            await client.post(
                f"/reports/{report}/manage",
                data={"key": "wrong" + text, "action": "outcome", "outcome": "released"},
            )
        )
    for raw in RAW_BODIES:
        csrf_raw = f"csrf_token={headers['X-CSRF-Token']}&".encode()
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        for path in ("dispute", "outcome"):
            answers.append(
                await client.post(
                    f"/console/reports/{report}/{path}",
                    content=csrf_raw + raw,
                    headers={**form_headers, **form_type},
                )
            )
        answers.append(
            await client.post(f"/reports/{report}/manage", content=raw, headers=form_type)
        )
    for when in ("0001-01-01T00:00", "9999-12-31T23:59", "2026-13-40T25:61", "٢٠٢٦-01-01T00:00"):
        answers.append(
            await client.post(
                f"/reports/{shift['id']}/manage",
                data={"key": shift["author_token"], "action": "end", "ended_at": when},
            )
        )
    statuses = [a.status_code for a in answers]
    # None may be a server error; no POST may succeed; nothing may be stored.
    assert not [s for s in statuses if s >= 500], statuses
    assert not [
        (a.request.method, str(a.request.url)[:120], a.status_code)
        for a in answers
        if a.status_code < 400 and a.request.method == "POST"
    ]
    assert count_events(services) == before
    await context.close()


@pytest.fixture
def fast_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub's heartbeat (15 s) is when a console socket checks its session
    again: make it 0.2 s, before the server starts its timer."""
    from web.live import hub

    monkeypatch.setattr(hub, "HEARTBEAT_SECONDS", 0.2)


async def test_a_revoked_members_console_socket_closes_at_the_next_heartbeat(
    fast_heartbeat: None, live_server: ServerThread, browser: Any, services: Services
) -> None:
    context, _, headers = await joined(browser, services, "Ana", "responder")
    (member,) = [m for m in services.members.members() if m.display_name == "Ana"]
    async with connect(
        ws_url(live_server, "/ws/console"),
        origin=live_server.url,  # type: ignore[arg-type]
        additional_headers={"Cookie": headers["Cookie"]},
        compression=None,
    ) as socket:
        assert (await frame(socket))["type"] == "snapshot"
        services.members.revoke(member.id, None)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    await context.close()


async def test_ten_responders_claiming_one_report_at_once_are_all_recorded(
    live_server: ServerThread, client: httpx.AsyncClient, services: Services
) -> None:
    report = (await submit(client))["id"]
    tokens = [member_token(services, f"R{n}", "responder") for n in range(10)]
    answers = await asyncio.gather(
        *(
            client.post(f"/api/reports/{report}/claim", headers={"Authorization": f"Bearer {t}"})
            for t in tokens
        )
    )
    assert [a.status_code for a in answers] == [200] * 10
    state = (await client.get(f"/api/reports/{report}")).json()
    assert [h["event"] for h in state["history"]].count("Claimed") == 10
