"""The members' store and CLI without a browser: cookies, logs, invites from the command."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from courtwatch.cli import main
from courtwatch.infrastructure import logs
from courtwatch.infrastructure.database import Database
from courtwatch.members import InvalidMemberField, InviteNotUsable, MemberStore
from courtwatch.members.store import digest
from courtwatch.services import Services
from web.members.auth import cookie_is_secure, cookie_name


@pytest.mark.parametrize(
    ("origin", "secure"),
    [
        ("http://localhost:8000", False),
        ("http://127.0.0.1:8000", False),
        ("https://localhost", True),
        ("https://courtwatch.example.org", True),
        ("http://courtwatch.example.org", True),  # misconfigured: still Secure (fails closed)
        ("http://localhost.evil.example", True),
    ],
)
def test_the_cookie_is_secure_except_on_plain_http_localhost(origin: str, secure: bool) -> None:
    assert cookie_is_secure(origin) is secure
    assert cookie_name(origin).startswith("__Host-") is secure


def test_member_changes_are_logged_without_addresses_agents_or_names(services: Services) -> None:
    stream = io.StringIO()
    logs.configure("INFO", stream)
    try:
        store = services.members
        invite = store.invite(["responder"])
        member = store.create_member("Secret Name", ["responder"])
        store.set_roles(member.id, ["responder", "lawyer"], by=None)
        _, token = store.issue_api_token(member.id, "script")
        store.revoke(member.id, by=None)
    finally:
        logging.getLogger().handlers[:] = []
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    events = [line.get("member_event") for line in lines if "member_event" in line]
    assert events == ["invite_issued", "created", "roles_changed", "api_token_issued", "revoked"]
    allowed = {
        "event",
        "level",
        "logger",
        "timestamp",
        "member_event",
        "member",
        "roles",
        "by_member",
    }
    for line in lines:
        if "member_event" in line:
            assert set(line) <= allowed, line  # no address, agent, name or token field
    text = stream.getvalue()
    for secret in ("Secret Name", invite.token, token):
        assert secret not in text


def test_an_invite_is_stored_as_a_hash_only(services: Services, database: Database) -> None:
    invite = services.members.invite(["lawyer"])
    with database.connect() as conn:
        dump = str(conn.execute("SELECT * FROM courtwatch_member_invites").fetchall())
    assert invite.token not in dump
    assert services.members.usable_invite(invite.token) == {"lawyer"}


def test_roles_outside_the_three_are_refused(services: Services) -> None:
    for roles in (["admin"], ["responder", "verifier"], ["responder"] * 4, [7]):
        with pytest.raises(InvalidMemberField):
            services.members.invite(roles)  # type: ignore[arg-type]


def test_an_invite_is_used_once_even_when_two_joins_race(services: Services) -> None:
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    token = services.members.invite(["responder"]).token

    def use(n: int) -> Any:
        try:
            return services.members.join(token, uuid.uuid4(), f"M{n}", bytes([n]) * 16, b"k", 0)
        except InviteNotUsable:
            return None

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(use, range(8)))
    assert sum(r is not None for r in results) == 1
    assert len(services.members.members()) == 1


def test_the_cli_invites_the_first_coordinator(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("COURTWATCH_PUBLIC_URL", "https://courtwatch.example.org")
    assert main(["members", "invite", "--name", "Ana", "--role", "coordinator"]) == 0
    out = capsys.readouterr().out
    link = next(line for line in out.splitlines() if line.startswith("https://"))
    assert link.startswith("https://courtwatch.example.org/invite/")
    assert "█" in out or "▀" in out  # the QR code for a phone
    token = link.rsplit("/", 1)[1]
    assert MemberStore(database).usable_invite(token) == {"coordinator"}
    assert main(["members", "invite"]) == 2  # a role is required


@pytest.mark.parametrize(
    "look_alike",
    [
        "Ana Responder",
        "ana responder",
        "  ANA  RESPONDER ",
        "Aná Respónder",
        "ana-responder",
        "\u0410na Responder",
        "\uff21na Responder",
    ],
)
def test_a_display_name_another_member_uses_is_refused(services: Services, look_alike: str) -> None:
    store = services.members
    first = store.create_member("Ana Responder", ["responder"])
    invite = store.invite(["responder"]).token
    with pytest.raises(InvalidMemberField, match="another member already uses this name"):
        store.create_member(look_alike, ["responder"])
    with pytest.raises(InvalidMemberField, match="another member already uses this name"):
        store.join(invite, uuid4(), look_alike, b"cred-" + look_alike.encode(), b"key", 0)
    # Refused before anything was stored: the invite is still usable.
    store.join(invite, uuid4(), "Bea", b"cred-bea", b"key", 0)
    # A revoked member's name may be taken again (recovery: rejoin, old one revoked).
    store.revoke(first.id, by=None)
    assert store.create_member(look_alike, ["responder"]).display_name == look_alike.strip()


def test_a_check_that_does_not_touch_a_session_lets_it_expire(services: Services) -> None:
    """An open console socket checks its session at every heartbeat; that check
    must not count as the member's activity, or the session never ends."""
    store = services.members
    now = datetime.now(UTC)
    store.clock = lambda: now
    session = store.join(store.invite(["responder"]).token, uuid4(), "Idle", b"idle", b"k", 0)
    for minutes in range(0, 12 * 60, 15):  # a heartbeat every 15 minutes, for 12 hours
        store.clock = lambda m=minutes: now + timedelta(minutes=m)
        assert store.session(session.id, touch=False) is not None
    store.clock = lambda: now + store.session_idle + timedelta(seconds=1)
    assert store.session(session.id, touch=False) is None
    assert store.session(session.id) is None


def test_a_busy_session_ends_at_its_lifetime(services: Services) -> None:
    store = services.members
    now = datetime.now(UTC)
    store.clock = lambda: now
    session = store.join(store.invite(["responder"]).token, uuid4(), "Busy", b"busy", b"k", 0)
    step = store.session_idle - timedelta(minutes=1)
    at = now
    while at + step < now + store.session_lifetime:
        at += step
        store.clock = lambda t=at: t
        assert store.session(session.id) is not None  # used all along...
    store.clock = lambda: now + store.session_lifetime + timedelta(seconds=1)
    assert store.session(session.id) is None  # ...and still over after the lifetime


def session_row(services: Services, session_id: str) -> tuple[Any, ...] | None:
    with services.database.connect() as conn:
        return conn.execute(
            "SELECT last_seen_at, xmin::text FROM courtwatch_member_sessions WHERE id_sha256 = %s",
            (digest(session_id),),
        ).fetchone()


def test_requests_within_a_minute_do_not_write_the_session_row(services: Services) -> None:
    """Every request by cookie used to rewrite its session row (~1 ms each):
    the idle clock is now restarted at most once a minute, and still restarted."""
    store = services.members
    now = datetime.now(UTC)
    store.clock = lambda: now
    session = store.join(store.invite(["responder"]).token, uuid4(), "Quiet", b"quiet", b"k", 0)
    opened = session_row(services, session.id)
    for seconds in range(0, 60, 5):
        store.clock = lambda s=seconds: now + timedelta(seconds=s)
        assert store.session(session.id) is not None
    assert session_row(services, session.id) == opened  # same row version: nothing written
    store.clock = lambda: now + timedelta(seconds=61)
    assert store.session(session.id) is not None
    touched = session_row(services, session.id)
    assert touched is not None and opened is not None
    assert touched[0] == now + timedelta(seconds=61)


def test_dead_sessions_are_deleted_when_a_new_one_opens(services: Services) -> None:
    store = services.members
    now = datetime.now(UTC)
    store.clock = lambda: now
    ended = store.join(store.invite(["responder"]).token, uuid4(), "Gone", b"gone", b"k", 0)
    store.end_session(ended.id)
    idle = store.join(store.invite(["responder"]).token, uuid4(), "Idle2", b"idle2", b"k", 0)
    store.clock = lambda: now + store.session_idle + timedelta(seconds=1)
    fresh = store.join(store.invite(["responder"]).token, uuid4(), "New", b"new", b"k", 0)
    assert session_row(services, ended.id) is None
    assert session_row(services, idle.id) is None
    assert session_row(services, fresh.id) is not None


def test_revoking_a_passkey_ends_the_sessions_it_opened(services: Services) -> None:
    store = services.members
    member_id = uuid4()
    lost = store.join(store.invite(["responder"]).token, member_id, "Two", b"phone", b"k", 0)
    store.add_passkey(member_id, b"security-key", b"k2", 0)
    kept = store.sign_in(b"security-key", 0, 1)
    assert store.revoke_passkey(member_id, b"phone")
    assert store.session(lost.id) is None
    assert store.session(kept.id) is not None


def test_the_cli_lists_open_invites_and_cancels_one(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("COURTWATCH_PUBLIC_URL", "https://courtwatch.example.org")
    store = MemberStore(database)
    store.install()
    leaked, kept = store.invite(["coordinator"]).token, store.invite(["responder"]).token
    capsys.readouterr()
    assert main(["members", "invites"]) == 0
    listed = capsys.readouterr().out
    assert leaked not in listed and kept not in listed  # never the link itself
    ids = {line.split()[1]: line.split()[0] for line in listed.splitlines()}
    assert set(ids) == {"coordinator", "responder"}
    assert main(["members", "cancel-invite", ids["coordinator"]]) == 0
    with pytest.raises(InviteNotUsable):
        store.usable_invite(leaked)
    assert store.usable_invite(kept) == {"responder"}
    assert main(["members", "cancel-invite", ids["coordinator"]]) == 1  # once
    assert main(["members", "cancel-invite", "'; DROP TABLE x"]) == 1
    assert [i.id for i in store.open_invites()] == [ids["responder"]]
