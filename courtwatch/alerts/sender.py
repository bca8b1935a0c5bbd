"""The sender: works through the outbox (``alert_deliveries``), never in a request.

The delivery projection writes a row per subscriber and report, in the same
transaction as its tracking record, and NOTIFYs on commit; this loop wakes,
claims due rows for a lease (``FOR UPDATE SKIP LOCKED``), POSTs them in
parallel and records each attempt in the delivery log: delivered on a 2xx, or
tried again after 1, 2, 4... times ``alert_retry_seconds`` until
``alert_attempts``, then failed.

At least once, same id: a process killed between a receiver's 2xx and the
"delivered" commit sends that delivery again after restart with the same
``Courtwatch-Delivery`` id (and ``delivery_id`` in the body), which receivers
use to drop the duplicate (docs/alerts.md).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from uuid import UUID

import requests

from courtwatch.alerts import push, signing, transport
from courtwatch.alerts.store import (
    NOTIFY_CHANNEL,
    Attempt,
    Due,
    claim_due,
    forget_push_endpoint,
    next_due_in,
    push_endpoints,
    record_attempts,
    release_claims,
)
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.members import MemberRole, MemberStore

log = logging.getLogger("courtwatch.alerts.sender")

BATCH = 500
WORKERS = 16
LEASE = timedelta(seconds=60)  # longer than any one attempt can take
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
# The whole attempt, answer included: a read timeout bounds each read, and a
# receiver answering a byte at a time held the batch, so everyone's alerts, forever.
ATTEMPT_DEADLINE = 20.0
DEADLINE_ERROR = "no answer within the deadline"
LONGEST_RETRY = timedelta(hours=1)
ERROR_TEXT = 200
USER_AGENT = "courtwatch-alerts/1"
ANSWER_BYTES = 64 * 1024


def _receiver(due: Due) -> tuple[str, UUID | None]:
    """Who answers a delivery: its webhook, or its member's push endpoints."""
    return ("webhook", due.webhook_id) if due.channel == "webhook" else ("push", due.member_id)


def _short(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return "".join(c if c.isprintable() else " " for c in text)[:ERROR_TEXT]


class AlertSender:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-sender", daemon=True)
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="alert-send")
        self._vapid: Any = None

    def start(self) -> AlertSender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # The loop

    def _run(self) -> None:
        delay = 0.5
        released = False
        while not self._stop.is_set():
            try:
                if not released:
                    release_claims(self.database)
                    released = True
                with self.database.connect(autocommit=True) as listener:
                    listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    delay = 0.5
                    while not self._stop.is_set():
                        if self.send_due():
                            continue  # there may be more: a full batch was taken
                        wait = next_due_in(self.database)
                        wait = 1.0 if wait is None else min(wait, 1.0)
                        if wait > 0:
                            for _ in listener.notifies(timeout=wait, stop_after=1):
                                pass
            except Exception:
                # The database went away: try again, the outbox keeps what is owed.
                log.exception("alert sender failed; will retry", extra={"retry_in": delay})
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def send_due(self) -> bool:
        """Send one batch of due deliveries; whether a full batch was taken."""
        due = claim_due(self.database, BATCH, LEASE)
        if not due:
            return False
        # A revoked member's subscriptions stop at once, whatever they subscribed to.
        members = MemberStore(self.database).members()
        revoked = {m.id for m in members if m.revoked}
        # Webhooks are a coordinator's: one whose role was taken away (not
        # revoked) kept getting every alert at a URL they could no longer manage.
        coordinators = {m.id for m in members if m.may(MemberRole.COORDINATOR)}
        # A receiver that ran out of time once in this batch is not tried again
        # in it: one member's fifty subscriptions to a stalling push endpoint
        # held the batch (and everyone's alerts) for fifty deadlines, in turn.
        stalled: set[tuple[str, UUID | None]] = set()

        def attempt(d: Due) -> Attempt:
            if d.member_id in revoked:
                return self._revoked(d)
            if d.channel == "webhook" and d.member_id not in coordinators:
                return self._not_coordinator(d)
            if _receiver(d) in stalled:
                return self._stalled(d)
            made = self._deliver(d)
            if made.error is not None and made.error.startswith(DEADLINE_ERROR):
                stalled.add(_receiver(d))
            return made

        attempts = list(self._pool.map(attempt, due))
        record_attempts(self.database, attempts)
        delivered = sum(a.ok for a in attempts)
        log.info(
            "alerts sent", extra={"delivered": delivered, "not_delivered": len(due) - delivered}
        )
        return len(due) == BATCH

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

    def _stalled(self, due: Due) -> Attempt:
        error = "not tried: this receiver ran out of time earlier in the batch"
        retry = self._retry_in(due.attempts)
        return Attempt(due.id, due.webhook_id, due.attempts, False, None, error, 0, retry)

    def _deliver(self, due: Due) -> Attempt:
        began = time.monotonic()
        status: int | None = None
        error: str | None = None
        final = False  # failed now, whatever the attempts left
        with transport.deadline(ATTEMPT_DEADLINE) as watch:
            try:
                if due.channel == "webhook":
                    if due.url is None or due.secret is None:
                        error, final = "webhook disabled", True
                    else:
                        status = self._post_webhook(due)
                else:
                    status, error, final = self._push(due)
            except Exception as failure:  # a receiver's problem is recorded, never raised
                error = _short(failure)
            if watch.expired and not (status is not None and 200 <= status < 300):
                status, error = None, f"{DEADLINE_ERROR} ({ATTEMPT_DEADLINE:g} s)"
        ok = status is not None and 200 <= status < 300
        if not ok and error is None:
            error = f"HTTP {status}"
        return Attempt(
            delivery_id=due.id,
            webhook_id=due.webhook_id,
            attempt=due.attempts,
            ok=ok,
            http_status=status,
            error=None if ok else error,
            took_ms=int((time.monotonic() - began) * 1000),
            retry_in=None if ok or final else self._retry_in(due.attempts),
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
                signing.SIGNATURE_HEADER: signing.sign(due.secret, body),
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
