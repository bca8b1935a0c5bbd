"""A sender that lost its lock between the loop's "alive?" look and its claim
claims nothing: the look and the claim's generation are read together."""

from __future__ import annotations

from courtwatch.alerts.sender import AlertSender
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from tests.alerts.conftest import hooked_member, submit, until
from tests.alerts.receiver import Receiver


def _pending(database: Database) -> tuple[int, int]:
    with database.connect(autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'pending' AND attempts = 0), "
            "count(*) FILTER (WHERE claimed_by IS NOT NULL) FROM alert_deliveries"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_lock_lost_just_before_the_claim_stops_that_claim(
    services: Services, database: Database, receiver: Receiver
) -> None:
    # Before: _run saw the lock held, the listener then lost it (generation
    # bumped), and send_due read the NEW generation before claiming, so its
    # attempts were never cut: the sender talked to receivers without a lock,
    # while a sender started meanwhile could release and send the same claims.
    projecting = runner.Supervisor(database, [runner.ALERTS_SPEC])
    sender = AlertSender(database, services.settings)  # not started: driven by hand
    try:
        hooked_member(services, receiver)
        submit(services)
        until(lambda: _pending(database)[0] == 1)
        sender._alive.set()  # the loop's look: the lock is held
        sender._lost_lock()  # ...and the listener loses it right after
        claimed = sender.send_due()
        sender._pool.shutdown(wait=True)  # any attempt handed to a worker has ended
        assert not claimed, "claimed while this sender's lock was lost"
        assert receiver.ids() == {}, "sent without a lock"
        assert _pending(database) == (1, 0), "the delivery stays due for a live sender"
    finally:
        sender._pool.shutdown(wait=True)
        projecting.stop()
