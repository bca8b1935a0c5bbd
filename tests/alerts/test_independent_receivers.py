"""Deliveries to different receivers are independent: a receiver that stalls holds
only its own deliveries, and a claim's lease never runs out while its attempt
is still talking to a receiver (two senders would both send it)."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from courtwatch.alerts import sender as sender_module
from courtwatch.alerts.model import check_subscription
from courtwatch.alerts.sender import AlertSender
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from projections import runner
from tests.alerts.conftest import hooked_member, submit, until
from tests.alerts.receiver import Receiver
from tests.alerts.test_hostile_receivers import Trickler
from tests.conftest import free_port


@pytest.fixture
def trickler() -> Iterator[Trickler]:
    started = Trickler()
    try:
        yield started
    finally:
        started.stop()


def _webhook_subscriber(services: Services, name: str, url: str) -> None:
    member = services.members.create_member(name, ["coordinator"])
    hook, _ = services.alerts.add_webhook(member.id, url)
    services.alerts.subscribe(
        member.id,
        check_subscription(
            {"courthouses": ["NYC"], "channel": "webhook", "webhook_id": str(hook.id)}
        ),
    )


@pytest.mark.usefixtures("delivering")
def test_a_stalling_webhook_does_not_delay_a_healthy_one(
    services: Services, database: Database, receiver: Receiver, trickler: Trickler
) -> None:
    # The real 20 s deadline. Before: the sender waited for its whole batch, so
    # a report made while the stalling receiver held its attempt reached nobody
    # until that attempt's deadline (20 s), and a healthy delivery made in the
    # same batch was recorded "delivered" only then.
    hooked_member(services, receiver, "Dana")
    _webhook_subscriber(services, "Eve", trickler.url)
    first = submit(services)
    until(lambda: trickler.connections)
    second = submit(services)
    got = until(lambda: len(receiver.accepted) >= 2 and receiver.accepted, timeout=2.5)
    assert {r.body["link"].rsplit("/", 1)[1] for r in got} == {str(first), str(second)}
    with database.connect() as conn:

        def delivered() -> int:
            row = conn.execute(
                "SELECT count(*) FROM alert_deliveries WHERE status = 'delivered'"
            ).fetchone()
            conn.commit()
            return int(row[0]) if row else 0

        until(lambda: delivered() == 2, timeout=2.0)


@dataclass
class Holder:
    """Reads a delivery and never answers; keeps when each connection opened and
    when the sender let go of it, by delivery id."""

    port: int = field(default_factory=free_port)
    held: list[tuple[str, float, float]] = field(default_factory=list)
    open: int = 0
    peak: int = 0  # the most connections open at once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.1)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._hold, args=(connection,), daemon=True).start()

    def _hold(self, connection: socket.socket) -> None:
        opened = time.monotonic()
        delivery = ""
        with self.lock:
            self.open += 1
            self.peak = max(self.peak, self.open)
        with connection:
            connection.settimeout(0.1)
            while not self._stop.is_set():
                try:
                    chunk = connection.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break  # the sender hung up
                for line in chunk.split(b"\r\n"):
                    if line.lower().startswith(b"courtwatch-delivery:"):
                        delivery = line.split(b":", 1)[1].strip().decode()
        with self.lock:
            self.open -= 1
            self.held.append((delivery, opened, time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        self._server.close()


@dataclass
class HeldAttempt:
    """A first sender whose attempt at one delivery is running (its receiver
    never answers), and the second sender a test starts beside it."""

    holder: Holder
    first: AlertSender
    second: AlertSender | None = None


@contextmanager
def first_attempt_held(
    services: Services, database: Database, monkeypatch: pytest.MonkeyPatch, deadline: float
) -> Iterator[HeldAttempt]:
    """One webhook delivery whose first attempt is running in a first sender;
    every sender, the projections and the receiver stopped afterwards. Stopping
    waits for a running attempt: ``deadline`` cuts it sooner than the real 20 s."""
    monkeypatch.setattr(sender_module, "ATTEMPT_DEADLINE", deadline)
    holder = Holder()
    projecting = runner.Supervisor(database, [runner.ALERTS_SPEC])
    held = HeldAttempt(holder, AlertSender(database, services.settings).start())
    try:
        _webhook_subscriber(services, "Eve", holder.url)
        submit(services)
        until(lambda: holder.open == 1)  # the first sender's attempt is running
        yield held
    finally:
        held.first.stop()
        if held.second is not None:
            held.second.stop()
        projecting.stop()
        holder.stop()


def test_a_lease_never_runs_out_while_its_attempt_still_talks_to_the_receiver(
    services: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two senders (two processes: serve and project). Before: an attempt could
    # outlive its claim (a lease shorter than the attempt's deadline, or an
    # attempt queued behind others), the other sender claimed the delivery
    # again and both were talking to the receiver at once: a duplicate with no
    # crash. Now each attempt ends before its lease does.
    monkeypatch.setattr(sender_module, "LEASE", timedelta(seconds=0.6))
    monkeypatch.setattr(sender_module, "STALL_PAUSE", 0.0)  # each sender may try it again
    holder = Holder()
    projecting = runner.Supervisor(database, [runner.ALERTS_SPEC])
    one = AlertSender(database, services.settings).start()
    two = AlertSender(database, services.settings).start()
    try:
        _webhook_subscriber(services, "Eve", holder.url)
        submit(services)
        # settings: three attempts, then failed.
        until(lambda: len(holder.held) >= 3 or holder.peak > 1, timeout=10)
    finally:
        one.stop()
        two.stop()
        projecting.stop()
        holder.stop()
    assert holder.peak == 1, "two attempts of one delivery at once"
    spans = sorted(holder.held, key=lambda h: h[1])
    assert all(delivery for delivery, _, _ in spans)
    for (_, _, ended), (_, began, _) in itertools.pairwise(spans):
        assert ended <= began, "two attempts of one delivery at once"


def test_a_sender_starting_leaves_a_live_senders_claims_alone(
    services: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: every sender, as it started, made every claimed delivery due again
    # (meant for a killed sender's), so starting `courtwatch project` while
    # `serve` was mid-attempt had both send the same delivery at once.
    with first_attempt_held(services, database, monkeypatch, deadline=4.0) as held:
        held.second = AlertSender(database, services.settings).start()
        assert held.second.released.wait(10)
        with database.connect() as conn:
            row = conn.execute(
                "SELECT next_attempt_at > clock_timestamp() FROM alert_deliveries"
            ).fetchone()
        assert row == (True,), "the live sender's claim was released"
        assert held.holder.peak == 1


def test_a_sender_stopped_mid_attempt_keeps_its_claim_until_the_attempt_ends(
    services: Services, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: stop() closed the listener (dropping the sender's lock) and left
    # its running attempts talking to receivers, so a sender started next
    # released that claim as a dead sender's and sent the delivery again at
    # once: a graceful restart sent one alert twice at the same time.
    with first_attempt_held(services, database, monkeypatch, deadline=2.0) as held:
        holder = held.holder
        held.first.stop()
        held.second = AlertSender(database, services.settings).start()
        # The second sender's own attempt (or a second connection at once).
        until(lambda: (holder.held and holder.open == 1) or holder.peak > 1)
        assert holder.peak == 1, "two attempts of one delivery at once"
