"""The sender: works through the outbox (``alert_deliveries``), never in a request.

The delivery projection writes a row per subscriber and report, in the same
transaction as its tracking record, and NOTIFYs on commit; this loop wakes,
claims due rows for a lease (``FOR UPDATE SKIP LOCKED``) and hands each to a
worker thread on its own; each attempt is recorded in the delivery log as soon
as it ends: delivered on a 2xx, or tried again after 1, 2, 4... times
``alert_retry_seconds`` until ``alert_attempts``, then failed.

Receivers are independent. The loop never waits for an attempt: it claims only
as many deliveries as there are idle workers and one more round (so a claimed
delivery starts within one attempt's deadline), at most ``PER_RECEIVER`` at a
time to one receiver (a webhook, or a member's push endpoints), and claims
again as workers come free. A
receiver that stalls holds only its own deliveries; before, the loop waited
for a whole batch, so one stalling receiver held everyone's alerts for its
20 s deadline. A receiver that ran out of time is given nothing new for a while
(``STALL_PAUSE``): its other deliveries wait in the outbox, untried.

Leases: an attempt ends before its claim's lease does. Its deadline is the
shorter of ``ATTEMPT_DEADLINE`` and what is left of the lease less
``LEASE_MARGIN`` (measured from before the claim was made), and recording is
fenced by the attempt number: another sender can claim a delivery only once
this attempt has hung up, and a late record of a claim taken over changes
nothing. So a delivery is never sent twice at once, however slow the receiver.

At least once, same id: a process killed between a receiver's 2xx and the
"delivered" commit sends that delivery again after restart with the same
``Courtwatch-Delivery`` id (and ``delivery_id`` in the body), which receivers
use to drop the duplicate (docs/alerts.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import requests

from courtwatch.alerts import push, signing, transport
from courtwatch.alerts.store import (
    NOTIFY_CHANNEL,
    Attempt,
    Due,
    claim_due,
    forget_push_endpoint,
    hold_sender_lock,
    next_due_in,
    push_endpoints,
    record_attempts,
    release_claims,
)
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.members import MemberRole, MemberStore

log = logging.getLogger("courtwatch.alerts.sender")

WORKERS = 32
# Deliveries claimed and not yet done, at most: a worker's next delivery is
# already waiting when it finishes one (claiming only for idle workers left
# them idle during every claim). A queued delivery starts within one attempt's
# deadline, well inside its lease, and its own deadline is cut to the lease.
CLAIMED_AT_MOST = 2 * WORKERS
# At most this many attempts at once to one receiver: an organisation's gateway
# gets a few parallel connections, and a stalling one holds no more workers.
PER_RECEIVER = 4
LEASE = timedelta(seconds=60)
# An attempt hangs up this long before its lease runs out (a quarter of it):
# time to record it, and slack for the database's clock.
LEASE_MARGIN = 0.25
# Claims are made for at least this many idle workers, waiting at most
# GATHER_SECONDS for them to come free.
CLAIM_BATCH = 8
GATHER_SECONDS = 0.05
SHORTEST_WAIT = 0.05  # seconds between two looks at an outbox with nothing claimable
# Less than this left of the lease: the attempt is not made (tried again at once).
SHORTEST_ATTEMPT = 0.1
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
# The whole attempt, answer included: a read timeout bounds each read, and a
# receiver answering a byte at a time held the batch, so everyone's alerts, forever.
ATTEMPT_DEADLINE = 20.0
DEADLINE_ERROR = "no answer within the deadline"
# The listening connection (and with it this sender's lock) was lost: a sender
# starting now may take this sender's claims, so its attempts stop at once.
LOST_LOCK_ERROR = "cut: this sender lost its database connection"
# Seconds between two tries to listen again after the connection was lost.
RELISTEN_FIRST = 0.1
RELISTEN_LONGEST = 1.0
# A receiver that ran out of time gets nothing new for this long (seconds).
STALL_PAUSE = 20.0
# A receiver that answers, but slowly, is never paused by STALL_PAUSE: ten
# organisations' gateways each answering in 19 s held 40 workers, so everyone
# else's alerts waited a whole round of them. An attempt taking more than this
# share of the deadline is slow; after SLOW_STREAK slow attempts in a row the
# receiver gets one worker at a time (SLOW_PER_RECEIVER) until it answers an
# attempt quickly again.
SLOW_SHARE = 0.5
SLOW_STREAK = 3
SLOW_PER_RECEIVER = 1
LONGEST_RETRY = timedelta(hours=1)
ERROR_TEXT = 200
USER_AGENT = "courtwatch-alerts/1"
ANSWER_BYTES = 64 * 1024


def _receiver(due: Due) -> UUID:
    """Who answers a delivery: its webhook, or its member's push endpoints
    (the same key as the claim's, store._receiver_of)."""
    return due.webhook_id if due.channel == "webhook" and due.webhook_id else due.member_id


def _short(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return "".join(c if c.isprintable() else " " for c in text)[:ERROR_TEXT]


class AlertSender:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.id = uuid4()  # names this sender's claims (store.release_claims)
        self._alive = threading.Event()  # this sender's advisory lock is held
        self.released = threading.Event()  # dead senders' claims were released
        # The outbox's clock: None is the database's own. Tests set a later time
        # to see what a held delivery does when quiet hours end, without waiting.
        self.clock: Callable[[], datetime | None] = lambda: None
        self._stop = threading.Event()
        self._drained = threading.Event()  # stopped, and no attempt runs any more
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-sender", daemon=True)
        self._listener = threading.Thread(target=self._listen, name="alert-listen", daemon=True)
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="alert-send")
        self._vapid: Any = None
        self._lock = threading.Lock()
        self._in_flight: dict[UUID, int] = {}
        self._stalled: dict[UUID, float] = {}  # receiver -> monotonic time it may be tried again
        self._slow: dict[UUID, int] = {}  # receiver -> slow attempts in a row
        self._finished: list[Attempt] = []
        # Bumped each time the lock is lost: an attempt claimed under an older
        # one is not started, and running attempts are cut (their watches).
        self._generation = 0
        self._watches: set[transport.Watch] = set()

    def start(self) -> AlertSender:
        self._listener.start()
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the outbox now (after the clock was moved, in tests)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=15)
        # The listener, and with it this sender's lock, lives until the running
        # attempts have ended (each is cut at its deadline) and are recorded.
        # Before, it closed first: a sender started next released the claims
        # of attempts still talking to receivers and sent them again at once.
        # Claimed deliveries not started are cancelled; the next start
        # releases them (this sender's lock is gone by then), same ids.
        draining = threading.Thread(
            target=self._pool.shutdown, kwargs={"wait": True, "cancel_futures": True}, daemon=True
        )
        draining.start()
        draining.join(timeout=ATTEMPT_DEADLINE + 5)
        try:
            self._record_finished()
        except Exception:
            log.exception("alert attempts not recorded at stop; they are sent again")
        self._drained.set()
        self._listener.join(timeout=5)

    # The loop

    def _listen(self) -> None:
        """Wake the loop on each NOTIFY (a projection committed new deliveries)."""
        relisten = RELISTEN_FIRST
        while not self._drained.is_set():
            try:
                with self.database.connect(autocommit=True) as listener:
                    # Held while this connection lives: the claims are a live sender's.
                    hold_sender_lock(listener, self.id)
                    self._alive.set()
                    relisten = RELISTEN_FIRST
                    listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._drained.is_set():
                        # 0.1 s: how long a stop waits for this loop to see it
                        # (it was 0.5 s of every web process's ~0.8 s to stop).
                        for _ in listener.notifies(timeout=0.1, stop_after=1):
                            self._wake.set()
            except Exception:
                log.exception("alert listener failed; will retry")
                self._lost_lock()
                self._drained.wait(relisten)
                relisten = min(relisten * 2, RELISTEN_LONGEST)

    def _lost_lock(self) -> None:
        """The lock went with the connection: until it is held again a starting
        sender takes this one for dead and releases its claims (after
        store.RELEASE_GRACE). Before, this sender went on claiming and talking
        to receivers through the gap, and the other sent the same deliveries at
        the same time. Now it claims nothing, starts no claimed attempt and cuts
        the running ones (recorded, fenced, due again at once)."""
        with self._lock:
            self._alive.clear()
            self._generation += 1
            watches = list(self._watches)
        for watch in watches:
            watch.expire()

    def _run(self) -> None:
        delay = 0.5
        released = False
        while not self._stop.is_set():
            try:
                if not self._alive.wait(1.0):
                    # Claim nothing before this sender is known alive, nor
                    # while its lock is lost (its claims may be taken over).
                    self._record_finished()
                    continue
                if not released:
                    release_claims(self.database)
                    released = True
                    self.released.set()
                self._wake.clear()  # a wake from now on is seen by the wait below
                self._gather_free_workers()
                self._record_finished()
                if self.send_due():
                    continue  # there may be more, and idle workers for them
                if self._idle() <= 0:
                    self._wake.wait(1.0)  # a worker coming free wakes this
                    continue
                # Receivers that may not be given more now: their due rows
                # would wake this loop for nothing (a worker coming free does).
                full = [r for r, n in self._busy().items() if n >= PER_RECEIVER]
                wait = next_due_in(self.database, full, self.clock())
                # Due but not claimed (another sender is claiming it this instant):
                # look again shortly, never in a tight loop.
                wait = 1.0 if wait is None else min(max(wait, SHORTEST_WAIT), 1.0)
                self._wake.wait(wait)
                delay = 0.5
            except Exception:
                # The database went away: try again, the outbox keeps what is owed.
                log.exception("alert sender failed; will retry", extra={"retry_in": delay})
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
        self._record_finished()

    def _busy(self) -> dict[UUID, int]:
        """Receivers to leave alone now, with how many of their attempts run."""
        moment = time.monotonic()
        with self._lock:
            busy = dict(self._in_flight)
            for receiver, until in list(self._stalled.items()):
                if until <= moment:
                    del self._stalled[receiver]
                else:
                    busy[receiver] = PER_RECEIVER
            for receiver, streak in self._slow.items():
                if streak >= SLOW_STREAK:
                    # Counted as if PER_RECEIVER - SLOW_PER_RECEIVER more ran.
                    running = busy.get(receiver, 0) + PER_RECEIVER - SLOW_PER_RECEIVER
                    busy[receiver] = min(PER_RECEIVER, running)
        return busy

    def _gather_free_workers(self) -> None:
        """With most workers busy, let a few more finish before claiming: one
        claim (and one record) per worker set free cost a round of queries per
        delivery, doubling the time to send 542 deliveries of one report."""
        began = time.monotonic()
        while not self._stop.is_set() and 0 < self._idle() < CLAIM_BATCH:
            left = began + GATHER_SECONDS - time.monotonic()
            if left <= 0:
                return  # a stalled few must not hold the rest
            self._wake.wait(left)
            self._wake.clear()

    def _idle(self) -> int:
        with self._lock:
            return CLAIMED_AT_MOST - sum(self._in_flight.values())

    def _record_finished(self) -> None:
        with self._lock:
            done, self._finished = self._finished, []
        if done:
            try:
                record_attempts(self.database, done, self.clock())
            except Exception:
                with self._lock:  # kept for the next try, never dropped
                    self._finished[:0] = done
                raise
            delivered = sum(a.ok for a in done)
            log.info(
                "alerts sent",
                extra={"delivered": delivered, "not_delivered": len(done) - delivered},
            )

    def send_due(self) -> bool:
        """Hand due deliveries to idle workers; whether any were claimed."""
        busy = self._busy()
        idle = self._idle()
        if idle <= 0:
            return False
        claimed_at = time.monotonic()  # before the claim: the lease ends after claimed_at + LEASE
        with self._lock:
            # Read with the lock's state, as _lost_lock changes both: a loss
            # after _run's look but before this read would otherwise hand the
            # claim the new generation, and its attempts would never be cut.
            generation = self._generation  # before the claim: a loss during it counts
            if not self._alive.is_set():
                return False
        due = claim_due(
            self.database,
            idle,
            LEASE,
            in_flight=busy,
            per_receiver=PER_RECEIVER,
            now=self.clock(),
            sender=self.id,
        )
        if not due:
            return False
        lease_ends = claimed_at + LEASE.total_seconds() * (1 - LEASE_MARGIN)
        # A revoked member's subscriptions stop at once, whatever they subscribed to.
        members = MemberStore(self.database).members()
        revoked = {m.id for m in members if m.revoked}
        # Webhooks are a coordinator's: one whose role was taken away (not
        # revoked) kept getting every alert at a URL they could no longer manage.
        coordinators = {m.id for m in members if m.may(MemberRole.COORDINATOR)}
        with self._lock:
            for d in due:
                self._in_flight[_receiver(d)] = self._in_flight.get(_receiver(d), 0) + 1
        for d in due:
            self._pool.submit(self._attempt, d, lease_ends, revoked, coordinators, generation)
        return True

    def _attempt(
        self,
        d: Due,
        lease_ends: float,
        revoked: set[UUID],
        coordinators: set[UUID],
        generation: int | None = None,
    ) -> None:
        try:
            if d.member_id in revoked:
                made = self._revoked(d)
            elif d.channel == "webhook" and d.member_id not in coordinators:
                made = self._not_coordinator(d)
            else:
                made = self._deliver(d, lease_ends, generation)
        except Exception as failure:  # never lose the record of a claimed delivery
            made = Attempt(d.id, d.webhook_id, d.attempts, False, None, _short(failure), 0,
                           self._retry_in(d.attempts))  # fmt: skip
        receiver = _receiver(d)
        with self._lock:
            left = self._in_flight.get(receiver, 1) - 1
            if left > 0:
                self._in_flight[receiver] = left
            else:
                self._in_flight.pop(receiver, None)
            lost = made.error is not None and LOST_LOCK_ERROR in made.error
            if made.error is not None and made.error.startswith(DEADLINE_ERROR):
                # Its other deliveries wait, untried: one member's fifty
                # subscriptions to a stalling endpoint are not fifty deadlines.
                self._stalled[receiver] = time.monotonic() + STALL_PAUSE
            if lost:
                pass  # cut by this sender, not the receiver's doing
            elif made.took_ms >= SLOW_SHARE * ATTEMPT_DEADLINE * 1000 or receiver in self._stalled:
                self._slow[receiver] = self._slow.get(receiver, 0) + 1
            else:
                self._slow.pop(receiver, None)  # a quick answer: its full share again
            self._finished.append(made)
        self._wake.set()

    # One delivery

    def _retry_in(self, attempt: int) -> timedelta | None:
        if attempt >= self.settings.alert_attempts:
            return None
        wait = timedelta(seconds=self.settings.alert_retry_seconds * 2 ** (attempt - 1))
        return min(wait, LONGEST_RETRY)

    def _revoked(self, due: Due) -> Attempt:
        return Attempt(due.id, due.webhook_id, due.attempts, False, None, "member revoked", 0, None)

    def _not_coordinator(self, due: Due) -> Attempt:
        error = "webhook owner is no longer a coordinator"
        return Attempt(due.id, due.webhook_id, due.attempts, False, None, error, 0, None)

    def _deliver(self, due: Due, lease_ends: float, generation: int | None = None) -> Attempt:
        began = time.monotonic()
        status: int | None = None
        error: str | None = None
        final = False  # failed now, whatever the attempts left
        allowed = min(ATTEMPT_DEADLINE, lease_ends - began)
        if allowed < SHORTEST_ATTEMPT:
            # Claimed too long ago (a stopped-the-world pause): not sent, due again now.
            error = "not tried: its lease was nearly over"
            return Attempt(
                due.id, due.webhook_id, due.attempts, False, None, error, 0, timedelta(0)
            )
        with transport.deadline(allowed) as watch:
            with self._lock:
                lost = generation is not None and generation != self._generation
                if not lost:
                    self._watches.add(watch)  # cut at once if the lock is lost
            if lost:
                return Attempt(
                    due.id, due.webhook_id, due.attempts, False, None,
                    f"not tried: {LOST_LOCK_ERROR}", 0, timedelta(0),
                )  # fmt: skip
            try:
                if due.channel == "webhook":
                    if due.url is None or due.secret is None:
                        error, final = "webhook disabled", True
                    else:
                        status = self._post_webhook(due)
                else:
                    status, error, final = self._push(due)
            except transport.DeadlineExceeded:
                watch.expire()  # resolving the name took the whole deadline
            except Exception as failure:  # a receiver's problem is recorded, never raised
                error = _short(failure)
            with self._lock:
                self._watches.discard(watch)
                cut = generation is not None and generation != self._generation
            ok = status is not None and 200 <= status < 300
            if watch.expired and not ok and cut:
                status, error, final = None, LOST_LOCK_ERROR, False
            elif watch.expired and not ok:
                status, error = None, f"{DEADLINE_ERROR} ({allowed:.3g} s)"
        ok = status is not None and 200 <= status < 300
        if not ok and error is None:
            error = f"HTTP {status}"
        if error == LOST_LOCK_ERROR:
            retry: timedelta | None = timedelta(0)  # due again at once, for whoever holds a lock
        else:
            retry = None if ok or final else self._retry_in(due.attempts)
        return Attempt(
            delivery_id=due.id,
            webhook_id=due.webhook_id,
            attempt=due.attempts,
            ok=ok,
            http_status=status,
            error=None if ok else error,
            took_ms=int((time.monotonic() - began) * 1000),
            retry_in=retry,
        )

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            # No proxy from the environment, no redirect, no link-local peer.
            session = transport.session()
            self._local.session = session
        return session

    def _post_webhook(self, due: Due) -> int:
        assert due.url is not None and due.secret is not None
        body = signing.body_of(due.payload | {"link": self._link(due.payload)})
        response = self._session().post(
            due.url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                signing.DELIVERY_HEADER: str(due.id),
                signing.SIGNATURE_HEADER: signing.sign(
                    due.secret, body, previous=due.previous_secret
                ),
            },
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,  # a redirect is not delivery, and could point anywhere
            stream=True,  # the answer's body is read only this far: a huge one costs nothing
        )
        try:
            read = 0
            for chunk in response.iter_content(8192):
                read += len(chunk)
                if read > ANSWER_BYTES:
                    break  # closed, not reused: the connection is dropped
        finally:
            # A body read to its end gives the connection back to the pool (keep-alive).
            response.close()
        return response.status_code

    def _link(self, payload: dict[str, Any]) -> str:
        return self.settings.public_url.rstrip("/") + str(payload.get("link", "/"))

    def _push(self, due: Due) -> tuple[int | None, str | None, bool]:
        endpoints = push_endpoints(self.database, due.member_id)
        if not endpoints:
            return None, "no push subscription", True
        if self._vapid is None:
            self._vapid = push.load_or_create_key(self.settings.data_dir)
        data = push.notification(due.payload, self.settings.public_url)
        best: int | None = None
        for endpoint_id, endpoint, p256dh, auth in endpoints:
            if transport.expired():
                break  # the rest wait for the retry, not for this attempt
            status = push.send(
                self._vapid,
                endpoint,
                p256dh,
                auth,
                data,
                topic=str(due.payload.get("thread", "")).replace("-", "")[:32] or "alert",
                timeout=READ_TIMEOUT,
                session=self._session(),
            )
            if status in (404, 410):  # RFC 8030 8.3: that subscription is gone
                forget_push_endpoint(self.database, endpoint_id)
            if best is None or 200 <= status < 300:
                best = status
        return best, None, False
