"""A sender whose listening connection drops (and with it its lock) never sends a
delivery at the same time as a sender that started meanwhile."""

from __future__ import annotations

import itertools

import pytest

from courtwatch.alerts.sender import AlertSender
from courtwatch.alerts.store import SENDER_KEY, SENDER_LOCK
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from tests.alerts.conftest import until
from tests.alerts.test_independent_receivers import first_attempt_held


def _lock_holder(database: Database, sender: AlertSender) -> int | None:
    """The backend holding ``sender``'s lock: its listening connection."""
    with database.connect(autocommit=True) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            f"AND classid = %s::oid AND objsubid = 2 AND objid = {SENDER_KEY}::oid",
            (SENDER_LOCK, str(sender.id)),
        ).fetchone()
    return None if row is None else int(row[0])


def test_a_sender_whose_listener_dropped_never_sends_with_one_started_meanwhile(
    services: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: the lock went with the listening connection and came back only a
    # second later; the sender went on talking to the receiver meanwhile, a
    # sender started in that gap took it for dead, released its claim and sent
    # the same delivery at the same time (two connections at once).
    with first_attempt_held(services, database, monkeypatch, deadline=3.0) as held:
        holder, first = held.holder, held.first
        listener = until(lambda: _lock_holder(database, first))
        with database.connect(autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (listener,))
        held.second = AlertSender(database, services.settings).start()
        assert held.second.released.wait(10)
        # The delivery is tried again (by either sender) once the first attempt
        # has ended, or two attempts overlap.
        until(lambda: holder.peak > 1 or (holder.held and holder.open == 1), timeout=10)
        assert until(lambda: _lock_holder(database, first)), "the first sender listens again"
    assert holder.peak == 1, "two attempts of one delivery at once"
    spans = sorted(holder.held, key=lambda h: h[1])
    for (_, _, ended), (_, began, _) in itertools.pairwise(spans):
        assert ended <= began, "two attempts of one delivery at once"
