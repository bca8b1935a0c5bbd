"""Where subscriptions, webhooks, push endpoints, alert threads and deliveries are kept.

Two kinds of caller:

* :class:`AlertStore`, used by the web app: a member's own subscriptions,
  webhooks and push endpoints, the coordinator's counts.
* the functions taking a cursor (``record_report``, ``match``...), used by the
  delivery projection (projections/alerts) inside the transaction that also
  records its tracking position, and by the sender (courtwatch/alerts/sender.py)
  that works through the outbox (``alert_deliveries``).

Matching is ONE ``INSERT ... SELECT`` over ``alert_subscriptions``: courthouse
codes, a circle (haversine), kinds, the status level reached for the first
time, quiet hours in the subscriber's zone at the report's time. Each row's id
is ``md5(subscription || report)`` as a uuid, and ``(subscription_id,
report_id)`` is unique, so a replayed event (a crash before the tracking
record committed) writes nothing new: one delivery per subscription per report.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from psycopg import Cursor
from psycopg.rows import dict_row
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from courtwatch.alerts.model import (
    ALERT_KINDS,
    LEVELS,
    MAX_PUSH_ENDPOINTS_PER_MEMBER,
    MAX_SUBSCRIPTIONS_PER_MEMBER,
    MAX_WEBHOOKS_PER_MEMBER,
    STATUS_LEVELS,
    Area,
    Channel,
    InvalidAlertField,
    MinimumStatus,
    PolygonArea,
    QuietHours,
    Subscription,
    SubscriptionNotFound,
    SubscriptionSpec,
    TooManySubscriptions,
    Webhook,
    check_webhook_url,
)
from courtwatch.infrastructure.database import Database

log = logging.getLogger("courtwatch.alerts")

NOTIFY_CHANNEL = "courtwatch_alerts"
# Reports at one courthouse this close together are one incident: one thread.
THREAD_WINDOW = timedelta(minutes=20)
WEBHOOK_SECRET_PREFIX = "whsec_"
# After a rotation, deliveries carry a signature under the old secret too for
# this long: time to put the new secret into the receiver.
ROTATION_GRACE = timedelta(hours=24)

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_webhooks (
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS alert_subscriptions (
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL,
    label text NOT NULL DEFAULT '',
    courthouses text[] NOT NULL DEFAULT '{}',
    lat double precision,
    lon double precision,
    radius_m double precision CHECK (radius_m IS NULL OR radius_m <= 50000),
    kinds text[] NOT NULL DEFAULT '{}',
    min_status text NOT NULL,
    min_level smallint NOT NULL,
    quiet_start time,
    quiet_end time,
    timezone text NOT NULL DEFAULT 'UTC',
    channel text NOT NULL CHECK (channel IN ('webhook', 'push')),
    webhook_id uuid REFERENCES alert_webhooks (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
-- A drawn area: PostgreSQL's own polygon, corners as (lon, lat) points.
ALTER TABLE alert_subscriptions ADD COLUMN IF NOT EXISTS area_polygon polygon;
CREATE INDEX IF NOT EXISTS alert_subscriptions_member ON alert_subscriptions (member_id)
    WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS alert_subscriptions_courthouses ON alert_subscriptions
    USING gin (courthouses) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS alert_push_endpoints (
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL,
    endpoint text NOT NULL UNIQUE,
    p256dh text NOT NULL,
    auth text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS alert_threads (
    id uuid PRIMARY KEY,
    courthouse_code text,
    opened_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    reports integer NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS alert_threads_courthouse ON alert_threads (courthouse_code, last_at);
CREATE TABLE IF NOT EXISTS alert_reports (
    report_id uuid PRIMARY KEY,
    state jsonb NOT NULL,
    level smallint NOT NULL,
    thread_id uuid NOT NULL,
    submitted_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    id uuid PRIMARY KEY,
    subscription_id uuid NOT NULL,
    member_id uuid NOT NULL,
    report_id uuid NOT NULL,
    thread_id uuid NOT NULL,
    trigger text NOT NULL,
    channel text NOT NULL,
    webhook_id uuid,
    payload jsonb NOT NULL,
    report_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivered_at timestamptz,
    last_error text,
    UNIQUE (subscription_id, report_id)
);
-- Held for the subscriber's quiet hours: sent when they end (next_attempt_at),
-- unless a newer report of its incident supersedes it meanwhile.
ALTER TABLE alert_deliveries ADD COLUMN IF NOT EXISTS held_until timestamptz;
-- The sender holding a claim (AlertSender.id): a starting sender releases only
-- the claims of senders no longer alive (their advisory lock is gone).
ALTER TABLE alert_deliveries ADD COLUMN IF NOT EXISTS claimed_by uuid;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'alert_deliveries_status_known'
                   AND conrelid = 'alert_deliveries'::regclass) THEN
        ALTER TABLE alert_deliveries DROP CONSTRAINT IF EXISTS alert_deliveries_status_check;
        ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_status_known
            CHECK (status IN ('pending', 'delivered', 'failed', 'superseded'));
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS alert_deliveries_report ON alert_deliveries (report_id);
CREATE TABLE IF NOT EXISTS alert_delivery_log (
    id bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL,
    webhook_id uuid,
    attempt integer NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    http_status integer,
    error text,
    took_ms integer NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_delivery_log_webhook ON alert_delivery_log (webhook_id, id);
-- A rotated secret: deliveries are signed with it too until previous_until,
-- so the receiver can switch to the new one without refusing any alert.
ALTER TABLE alert_webhooks ADD COLUMN IF NOT EXISTS previous_secret text;
ALTER TABLE alert_webhooks ADD COLUMN IF NOT EXISTS previous_until timestamptz;
"""
SCHEMA_LOCK = 0x616C657274  # "alert": two processes installing at once take turns


def install(database: Database) -> None:
    with database.connect(autocommit=True) as conn, conn.transaction(), conn.cursor() as curs:
        create_tables(curs)


def create_tables(curs: Cursor[Any]) -> None:
    curs.execute(SQL("SELECT pg_advisory_xact_lock(%s)"), (SCHEMA_LOCK,))
    curs.execute(SQL(SCHEMA))  # type: ignore[arg-type]


# The web side -------------------------------------------------------------------


_SUB_COLUMNS = (
    "id, member_id, label, courthouses, lat, lon, radius_m, area_polygon::text AS area_polygon, "
    "kinds, min_status, quiet_start, quiet_end, timezone, channel, webhook_id"
)


def polygon_text(area: PolygonArea) -> str:
    """PostgreSQL's polygon literal: ((lon,lat),...); repr keeps every digit."""
    return "(" + ",".join(f"({lon!r},{lat!r})" for lat, lon in area.points) + ")"


def polygon_from_text(text: str) -> PolygonArea:
    numbers = [float(n) for n in text.replace("(", " ").replace(")", " ").replace(",", " ").split()]
    return PolygonArea(tuple(zip(numbers[1::2], numbers[0::2], strict=True)))


def _subscription(row: dict[str, Any]) -> Subscription:
    area: Area | PolygonArea | None = None
    if row["radius_m"] is not None:
        area = Area(lat=row["lat"], lon=row["lon"], radius_m=row["radius_m"])
    elif row.get("area_polygon"):
        area = polygon_from_text(row["area_polygon"])
    quiet = None if row["quiet_start"] is None else QuietHours(row["quiet_start"], row["quiet_end"])
    return Subscription(
        id=row["id"],
        member_id=row["member_id"],
        spec=SubscriptionSpec(
            label=row["label"],
            courthouses=tuple(row["courthouses"]),
            area=area,
            kinds=tuple(row["kinds"]),
            min_status=MinimumStatus(row["min_status"]),
            quiet_hours=quiet,
            timezone=row["timezone"],
            channel=Channel(row["channel"]),
            webhook_id=row["webhook_id"],
        ),
    )


def _spec_values(spec: SubscriptionSpec) -> dict[str, Any]:
    circle = spec.area if isinstance(spec.area, Area) else None
    drawn = spec.area if isinstance(spec.area, PolygonArea) else None
    return {
        "label": spec.label,
        "courthouses": list(spec.courthouses),
        "lat": circle.lat if circle else None,
        "lon": circle.lon if circle else None,
        "radius_m": circle.radius_m if circle else None,
        "area_polygon": polygon_text(drawn) if drawn else None,
        "kinds": list(spec.kinds),
        "min_status": spec.min_status.value,
        "min_level": LEVELS[spec.min_status],
        "quiet_start": spec.quiet_hours.start if spec.quiet_hours else None,
        "quiet_end": spec.quiet_hours.end if spec.quiet_hours else None,
        "timezone": spec.timezone,
        "channel": spec.channel.value,
        "webhook_id": spec.webhook_id,
    }


SUBSCRIPTION_REMOVED = "not sent: its subscription was removed"
SUBSCRIPTION_CHANGED = "not sent: its subscription was changed"


def _cancel_held(curs: Cursor[Any], subscription_id: UUID, why: str) -> None:
    """A subscription's alerts not yet tried (held for quiet hours, or waiting
    for a retry) are not sent: the claim never reads the subscription, so a
    held alert reached a member in the morning who had removed it at night.
    One being tried now (claimed: attempts > 0, no error yet) is left alone;
    recording it is fenced anyway. In the caller's transaction."""
    curs.execute(
        "UPDATE alert_deliveries SET status = 'superseded', last_error = %s "
        "WHERE subscription_id = %s AND status = 'pending' "
        "AND (attempts = 0 OR last_error IS NOT NULL)",
        (why, subscription_id),
    )


@dataclass(frozen=True)
class ReportAlerts:
    """What the coordinator sees of a report's alerts: counts and latency, never who."""

    report_id: UUID
    deliveries: int
    delivered: int
    failed: int
    pending: int
    held: int  # of the pending: waiting for the subscriber's quiet hours to end
    superseded: int
    median_seconds: float | None
    slowest_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "report_id": str(self.report_id),
            "deliveries": self.deliveries,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": self.pending,
            "held": self.held,
            "superseded": self.superseded,
            "median_seconds": self.median_seconds,
            "slowest_seconds": self.slowest_seconds,
        }


class AlertStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def install(self) -> None:
        install(self.database)

    # Subscriptions

    def _lock_member(self, curs: Cursor[Any], member_id: UUID) -> None:
        # Two concurrent creates by one member cannot both pass the cap.
        curs.execute(
            "SELECT pg_advisory_xact_lock(hashtext('alerts'), hashtext(%s))", (str(member_id),)
        )

    def _check_zone(self, curs: Cursor[Any], spec: SubscriptionSpec) -> None:
        # The matcher computes quiet hours with AT TIME ZONE: a zone PostgreSQL
        # does not know would fail that one query for every report.
        curs.execute("SELECT 1 FROM pg_timezone_names WHERE name = %s", (spec.timezone,))
        if curs.fetchone() is None:
            raise InvalidAlertField("timezone", "unknown to the database; pick another zone")

    def _check_webhook(self, curs: Cursor[Any], member_id: UUID, spec: SubscriptionSpec) -> None:
        self._check_zone(curs, spec)
        if spec.webhook_id is None:
            return
        curs.execute(
            "SELECT 1 FROM alert_webhooks WHERE id = %s AND member_id = %s",
            (spec.webhook_id, member_id),
        )
        if curs.fetchone() is None:
            raise InvalidAlertField("webhook_id", "no webhook of yours has this id")

    def subscribe(self, member_id: UUID, spec: SubscriptionSpec) -> Subscription:
        new_id = uuid4()
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            self._lock_member(curs, member_id)
            curs.execute(
                "SELECT count(*) AS n FROM alert_subscriptions "
                "WHERE member_id = %s AND deleted_at IS NULL",
                (member_id,),
            )
            row = curs.fetchone()
            if row is not None and row["n"] >= MAX_SUBSCRIPTIONS_PER_MEMBER:
                raise TooManySubscriptions(
                    f"at most {MAX_SUBSCRIPTIONS_PER_MEMBER} subscriptions per member"
                )
            self._check_webhook(curs, member_id, spec)
            curs.execute(
                "INSERT INTO alert_subscriptions (id, member_id, label, courthouses, lat, lon, "
                "radius_m, area_polygon, kinds, min_status, min_level, quiet_start, quiet_end, "
                "timezone, channel, webhook_id) VALUES (%(id)s, %(member_id)s, %(label)s, "
                "%(courthouses)s, %(lat)s, %(lon)s, %(radius_m)s, %(area_polygon)s::polygon, "
                "%(kinds)s, %(min_status)s, %(min_level)s, "
                "%(quiet_start)s, %(quiet_end)s, %(timezone)s, %(channel)s, %(webhook_id)s)",
                {"id": new_id, "member_id": member_id, **_spec_values(spec)},
            )
        log.info("alert subscription added", extra={"member_id": str(member_id)})
        return Subscription(new_id, member_id, spec)

    def replace(
        self, member_id: UUID, subscription_id: UUID, spec: SubscriptionSpec
    ) -> Subscription:
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            self._check_webhook(curs, member_id, spec)
            curs.execute(
                f"SELECT {_SUB_COLUMNS} FROM alert_subscriptions WHERE id = %s "
                "AND member_id = %s AND deleted_at IS NULL FOR UPDATE",
                (subscription_id, member_id),
            )
            before = curs.fetchone()
            if before is not None and dataclasses.replace(
                _subscription(before).spec, label=""
            ) != dataclasses.replace(spec, label=""):
                # Matched under what the member no longer asks for: not sent.
                _cancel_held(curs, subscription_id, SUBSCRIPTION_CHANGED)
            curs.execute(
                "UPDATE alert_subscriptions SET label = %(label)s, courthouses = %(courthouses)s, "
                "lat = %(lat)s, lon = %(lon)s, radius_m = %(radius_m)s, "
                "area_polygon = %(area_polygon)s::polygon, kinds = %(kinds)s, "
                "min_status = %(min_status)s, min_level = %(min_level)s, "
                "quiet_start = %(quiet_start)s, quiet_end = %(quiet_end)s, "
                "timezone = %(timezone)s, channel = %(channel)s, webhook_id = %(webhook_id)s, "
                "updated_at = now() WHERE id = %(id)s AND member_id = %(member_id)s "
                "AND deleted_at IS NULL",
                {"id": subscription_id, "member_id": member_id, **_spec_values(spec)},
            )
            if curs.rowcount != 1:
                raise SubscriptionNotFound("no subscription of yours has this id")
        return Subscription(subscription_id, member_id, spec)

    def unsubscribe(self, member_id: UUID, subscription_id: UUID) -> None:
        with self.database.pooled() as conn, conn.cursor() as curs:
            curs.execute(
                "UPDATE alert_subscriptions SET deleted_at = now() "
                "WHERE id = %s AND member_id = %s AND deleted_at IS NULL",
                (subscription_id, member_id),
            )
            if curs.rowcount != 1:
                raise SubscriptionNotFound("no subscription of yours has this id")
            _cancel_held(curs, subscription_id, SUBSCRIPTION_REMOVED)

    def subscriptions(self, member_id: UUID) -> list[Subscription]:
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                f"SELECT {_SUB_COLUMNS} FROM alert_subscriptions "
                "WHERE member_id = %s AND deleted_at IS NULL ORDER BY created_at, id",
                (member_id,),
            )
            return [_subscription(row) for row in curs.fetchall()]

    # Webhooks

    def add_webhook(self, member_id: UUID, url: Any) -> tuple[Webhook, str]:
        """The webhook and its signing secret: shown this once, never again."""
        url = check_webhook_url(url)
        secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
        hook = Webhook(uuid4(), member_id, url, True)
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            self._lock_member(curs, member_id)
            curs.execute(
                "SELECT count(*) AS n FROM alert_webhooks WHERE member_id = %s AND active",
                (member_id,),
            )
            row = curs.fetchone()
            if row is not None and row["n"] >= MAX_WEBHOOKS_PER_MEMBER:
                raise TooManySubscriptions(f"at most {MAX_WEBHOOKS_PER_MEMBER} active webhooks")
            curs.execute(
                "INSERT INTO alert_webhooks (id, member_id, url, secret) VALUES (%s, %s, %s, %s)",
                (hook.id, member_id, url, secret),
            )
        log.info("alert webhook added", extra={"member_id": str(member_id)})
        return hook, secret

    def rotate_webhook_secret(
        self, member_id: UUID, webhook_id: UUID, grace: timedelta = ROTATION_GRACE
    ) -> tuple[str, datetime]:
        """A new signing secret (shown this once) and until when the current one
        still signs too. Rotating again within the grace drops the oldest: a
        delivery carries at most two signatures."""
        secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "UPDATE alert_webhooks SET previous_secret = secret, secret = %s, "
                "previous_until = clock_timestamp() + %s WHERE id = %s AND member_id = %s "
                "RETURNING previous_until",
                (secret, grace, webhook_id, member_id),
            )
            row = curs.fetchone()
        if row is None:
            raise SubscriptionNotFound("no webhook of yours has this id")
        log.info("alert webhook secret rotated", extra={"member_id": str(member_id)})
        return secret, row["previous_until"]

    def set_webhook_active(self, member_id: UUID, webhook_id: UUID, active: bool) -> Webhook:
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "UPDATE alert_webhooks SET active = %s WHERE id = %s AND member_id = %s "
                "RETURNING id, member_id, url, active",
                (active, webhook_id, member_id),
            )
            row = curs.fetchone()
        if row is None:
            raise SubscriptionNotFound("no webhook of yours has this id")
        return Webhook(**row)

    def webhooks(self, member_id: UUID) -> list[Webhook]:
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT id, member_id, url, active FROM alert_webhooks WHERE member_id = %s "
                "ORDER BY created_at, id",
                (member_id,),
            )
            return [Webhook(**row) for row in curs.fetchall()]

    def webhook_log(
        self, member_id: UUID, webhook_id: UUID, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The hook's last delivery attempts (newest first): what its owner needs to debug it."""
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT 1 FROM alert_webhooks WHERE id = %s AND member_id = %s",
                (webhook_id, member_id),
            )
            if curs.fetchone() is None:
                raise SubscriptionNotFound("no webhook of yours has this id")
            curs.execute(
                "SELECT l.delivery_id, l.attempt, l.at, l.http_status, l.error, l.took_ms, "
                "d.status FROM alert_delivery_log l JOIN alert_deliveries d ON d.id = l.delivery_id "
                "WHERE l.webhook_id = %s ORDER BY l.id DESC LIMIT %s",
                (webhook_id, limit),
            )
            return [
                {
                    "delivery_id": str(r["delivery_id"]),
                    "attempt": r["attempt"],
                    "at": r["at"].isoformat(),
                    "http_status": r["http_status"],
                    "error": r["error"],
                    "took_ms": r["took_ms"],
                    "delivery_status": r["status"],
                }
                for r in curs.fetchall()
            ]

    # Web Push endpoints

    def add_push_endpoint(self, member_id: UUID, endpoint: str, p256dh: str, auth: str) -> UUID:
        new_id = uuid4()
        with self.database.pooled() as conn, conn.cursor() as curs:
            # Uncapped, one member's thousands of endpoints were each tried in
            # turn for every alert of theirs, holding the sender's batch. A new
            # phone is never refused: the member's oldest endpoints make room.
            self._lock_member(curs, member_id)
            curs.execute(
                "DELETE FROM alert_push_endpoints WHERE id IN (SELECT id FROM "
                "alert_push_endpoints WHERE member_id = %s AND endpoint <> %s "
                "ORDER BY created_at DESC, id OFFSET %s)",
                (member_id, endpoint, MAX_PUSH_ENDPOINTS_PER_MEMBER - 1),
            )
            row = curs.execute(
                "INSERT INTO alert_push_endpoints (id, member_id, endpoint, p256dh, auth) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (endpoint) DO UPDATE SET "
                "member_id = EXCLUDED.member_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth "
                "RETURNING id",
                (new_id, member_id, endpoint, p256dh, auth),
            ).fetchone()
        return row[0] if row else new_id

    # The coordinator's view

    def report_alerts(self, report_id: UUID) -> ReportAlerts:
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute(
                "SELECT count(*) AS deliveries, "
                "count(*) FILTER (WHERE status = 'delivered') AS delivered, "
                "count(*) FILTER (WHERE status = 'failed') AS failed, "
                "count(*) FILTER (WHERE status = 'pending') AS pending, "
                "count(*) FILTER (WHERE status = 'pending' AND attempts = 0 "
                "  AND next_attempt_at > clock_timestamp() AND held_until IS NOT NULL) AS held, "
                "count(*) FILTER (WHERE status = 'superseded') AS superseded, "
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - report_at)) "
                "  FILTER (WHERE status = 'delivered') AS median, "
                "max(extract(epoch FROM delivered_at - report_at)) AS slowest "
                "FROM alert_deliveries WHERE report_id = %s",
                (report_id,),
            )
            row = curs.fetchone()
        assert row is not None
        return ReportAlerts(
            report_id,
            row["deliveries"],
            row["delivered"],
            row["failed"],
            row["pending"],
            row["held"],
            row["superseded"],
            None if row["median"] is None else round(float(row["median"]), 3),
            None if row["slowest"] is None else round(float(row["slowest"]), 3),
        )

    # An open page's alerts (the live map of a signed-in member)

    def in_page(self, member_id: UUID, report_id: UUID) -> tuple[int | None, list[InPage]]:
        """How far the delivery projection has folded ``report_id`` (its level, or
        None before it has, and for ever for a watch shift or an imported record),
        and the alerts of ``member_id`` about it that an open page may show: the
        outbox's own rows (so a page says exactly what the delivery projection
        matched, never a second matcher), of the member's push subscriptions
        (webhooks are an organisation's), neither superseded nor held for quiet
        hours (those come by push when the hours end)."""
        with self.database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
            curs.execute("SELECT level FROM alert_reports WHERE report_id = %s", (report_id,))
            folded = curs.fetchone()
            curs.execute(
                "SELECT id, payload FROM alert_deliveries WHERE report_id = %s "
                "AND member_id = %s AND channel = 'push' AND status <> 'superseded' "
                "AND (held_until IS NULL OR held_until <= clock_timestamp()) ORDER BY created_at",
                (report_id, member_id),
            )
            rows = curs.fetchall()
        level = None if folded is None else int(folded["level"])
        return level, [InPage(row["id"], row["payload"]) for row in rows]


@dataclass(frozen=True)
class InPage:
    delivery_id: UUID
    payload: dict[str, Any]  # as pushed: kind, courthouse, status, thread_reports, ...


# The projection's side (inside its event transaction) ------------------------------


def load_report(curs: Cursor[Any], report_id: UUID) -> dict[str, Any] | None:
    curs.execute(
        SQL(
            "SELECT state, level, thread_id, submitted_at FROM alert_reports WHERE report_id = %s FOR UPDATE"
        ),
        (report_id,),
    )
    row = curs.fetchone()
    if row is None:
        return None
    values = (
        row
        if isinstance(row, dict)
        else dict(zip(("state", "level", "thread_id", "submitted_at"), row, strict=True))
    )
    return dict(values)


def open_thread(curs: Cursor[Any], courthouse_code: str | None, at: datetime) -> tuple[UUID, int]:
    """The incident this report belongs to: the courthouse's thread still open at ``at``, or a new one."""
    if courthouse_code is not None:
        curs.execute(
            SQL(
                "UPDATE alert_threads SET last_at = greatest(last_at, %(at)s), reports = reports + 1 "
                "WHERE id = (SELECT id FROM alert_threads WHERE courthouse_code = %(code)s "
                "AND last_at >= %(since)s AND opened_at <= %(at)s ORDER BY last_at DESC LIMIT 1 "
                "FOR UPDATE) RETURNING id, reports"
            ),
            {"code": courthouse_code, "at": at, "since": at - THREAD_WINDOW},
        )
        row = curs.fetchone()
        if row is not None:
            values = tuple(row.values()) if isinstance(row, dict) else tuple(row)
            return values[0], int(values[1])
    thread_id = uuid4()
    curs.execute(
        SQL(
            "INSERT INTO alert_threads (id, courthouse_code, opened_at, last_at) VALUES (%s, %s, %s, %s)"
        ),
        (thread_id, courthouse_code, at, at),
    )
    return thread_id, 1


def thread_reports(curs: Cursor[Any], thread_id: UUID) -> int:
    curs.execute(SQL("SELECT reports FROM alert_threads WHERE id = %s"), (thread_id,))
    row = curs.fetchone()
    if row is None:
        return 1
    return int(row["reports"] if isinstance(row, dict) else row[0])


def save_report(
    curs: Cursor[Any],
    report_id: UUID,
    state: dict[str, Any],
    level: int,
    thread_id: UUID,
    submitted_at: datetime,
) -> None:
    curs.execute(
        SQL(
            "INSERT INTO alert_reports (report_id, state, level, thread_id, submitted_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (report_id) DO UPDATE SET "
            "state = EXCLUDED.state, level = greatest(alert_reports.level, EXCLUDED.level)"
        ),
        (report_id, Jsonb(state), level, thread_id, submitted_at),
    )


@dataclass(frozen=True)
class Match:
    report_id: UUID
    thread_id: UUID
    kind: str
    courthouse_code: str | None
    lat: float | None
    lon: float | None
    level_before: int  # the highest level reached before this event (-1: new report)
    level: int
    trigger: str
    at: datetime  # the event's time: quiet hours and latency are measured from it
    payload: dict[str, Any]


SUPERSEDED = "superseded by a newer report of its incident during quiet hours"
OUTRANKED = "superseded by a more severe held report of its incident during quiet hours"

# How severe a report's alert is: an arrest above any other kind, then a
# higher status above a lower one. A held alert is superseded only by one at
# least as severe: an arrest at 02:00 then a sighting at the same courthouse
# is one morning alert about the arrest, never about the sighting.
ARREST = "courthouse_arrest"
ARREST_RANK = 10  # above any status level


def severity(kind: str, status: str) -> int:
    return (ARREST_RANK if kind == ARREST else 0) + STATUS_LEVELS.get(status, 0)


# The same, in SQL, of a held delivery's payload (alias o).
_HELD_SEVERITY = (
    f"(CASE WHEN o.payload->>'kind' = '{ARREST}' THEN {ARREST_RANK} ELSE 0 END + "
    "CASE o.payload->>'status' "
    + " ".join(f"WHEN '{status}' THEN {level}" for status, level in STATUS_LEVELS.items())
    + " ELSE 0 END)"
)
# A held alert of this incident for the same subscription, never tried.
_HELD_IN_THREAD = """o.thread_id = %(thread)s AND o.report_id <> %(report)s
  AND o.status = 'pending' AND o.attempts = 0 AND o.held_until IS NOT NULL"""

MATCH = SQL(
    """
WITH matched AS (
INSERT INTO alert_deliveries (id, subscription_id, member_id, report_id, thread_id, trigger,
                              channel, webhook_id, payload, report_at, held_until, next_attempt_at,
                              status, last_error)
SELECT md5(s.id::text || '/' || %(report)s::text)::uuid, s.id, s.member_id, %(report)s,
       %(thread)s, %(trigger)s, s.channel, s.webhook_id,
       %(payload)s || jsonb_build_object('delivery_id', md5(s.id::text || '/' || %(report)s::text)::uuid),
       %(at)s, q.held_until, coalesce(q.held_until, clock_timestamp()),
       CASE WHEN k.outranks THEN 'superseded' ELSE 'pending' END,
       CASE WHEN k.outranks THEN %(outranked)s END
FROM alert_subscriptions s
LEFT JOIN alert_webhooks w ON w.id = s.webhook_id
-- A more severe alert of this incident is held for this subscription: it is
-- the one sent when quiet hours end (with the count), this one is not.
LEFT JOIN LATERAL (
    SELECT true AS outranks FROM alert_deliveries o
    WHERE o.subscription_id = s.id AND """
    + _HELD_IN_THREAD
    + " AND "
    + _HELD_SEVERITY
    + """ > %(severity)s
    LIMIT 1
) k ON true
-- The event's time on the subscriber's clock; in their quiet hours the alert is
-- held until those hours end (the next quiet_end after it, in their zone).
CROSS JOIN LATERAL (SELECT %(at)s AT TIME ZONE s.timezone AS local_at) l
CROSS JOIN LATERAL (
    SELECT CASE WHEN CASE WHEN s.quiet_start < s.quiet_end
                          THEN l.local_at::time >= s.quiet_start AND l.local_at::time < s.quiet_end
                          ELSE l.local_at::time >= s.quiet_start OR l.local_at::time < s.quiet_end
                     END
           THEN (l.local_at::date + s.quiet_end
                 + CASE WHEN s.quiet_end <= l.local_at::time THEN interval '1 day'
                        ELSE interval '0' END) AT TIME ZONE s.timezone
           END AS held_until
) q
WHERE s.deleted_at IS NULL
  AND s.min_level <= %(level)s AND s.min_level > %(before)s
  AND (cardinality(s.kinds) = 0 OR %(kind)s = ANY (s.kinds))
  AND (s.channel <> 'webhook' OR w.active)
  AND (
        %(courthouse)s::text = ANY (s.courthouses)
     OR (s.radius_m IS NOT NULL AND %(lat)s::float8 IS NOT NULL
         AND abs(s.lat - %(lat)s) <= s.radius_m / 111000.0
         AND 2 * 6371008.8 * asin(least(1, sqrt(
               power(sin(radians(%(lat)s - s.lat) / 2), 2)
             + cos(radians(s.lat)) * cos(radians(%(lat)s))
               * power(sin(radians(%(lon)s - s.lon) / 2), 2)))) <= s.radius_m)
     OR (s.area_polygon IS NOT NULL AND %(lat)s::float8 IS NOT NULL
         AND s.area_polygon @> point(%(lon)s::float8, %(lat)s::float8))
  )
ON CONFLICT (subscription_id, report_id) DO NOTHING
RETURNING subscription_id, status
), superseded AS (
-- An alert still held (never tried) for a subscriber this report also alerts,
-- in the same incident and no more severe: only the newest is sent when quiet
-- hours end, carrying the incident's count. Ten reports of one night's raid
-- are one morning alert.
UPDATE alert_deliveries o SET status = 'superseded', last_error = %(superseded)s
WHERE """
    + _HELD_IN_THREAD
    + """
  AND o.subscription_id IN (SELECT subscription_id FROM matched WHERE status = 'pending')
RETURNING 1
), counted AS (
-- The more severe held alert that outranked this one says how many reports
-- the incident has now.
UPDATE alert_deliveries o
SET payload = jsonb_set(o.payload, '{thread_reports}', %(payload)s -> 'thread_reports')
WHERE """
    + _HELD_IN_THREAD
    + " AND "
    + _HELD_SEVERITY
    + """ > %(severity)s
  AND o.subscription_id IN (SELECT subscription_id FROM matched WHERE status = 'superseded')
RETURNING 1
)
SELECT (SELECT count(*) FROM matched) AS written, (SELECT count(*) FROM superseded) AS superseded,
       (SELECT count(*) FROM counted) AS counted
"""
)


def match(curs: Cursor[Any], found: Match) -> int:
    """Write the deliveries ``found`` triggers (one query); how many were new."""
    if found.kind not in ALERT_KINDS:
        return 0
    curs.execute(
        MATCH,
        {
            "report": found.report_id,
            "thread": found.thread_id,
            "trigger": found.trigger,
            "payload": Jsonb(found.payload),
            "at": found.at,
            "level": found.level,
            "before": found.level_before,
            "kind": found.kind,
            "courthouse": found.courthouse_code,
            "lat": found.lat,
            "lon": found.lon,
            "superseded": SUPERSEDED,
            "outranked": OUTRANKED,
            "severity": severity(found.kind, str(found.payload.get("status", ""))),
        },
    )
    row = curs.fetchone()
    written = 0 if row is None else int(row["written"] if isinstance(row, dict) else row[0])
    if written:
        # Delivered on commit: the sender wakes when the rows can be read.
        curs.execute(SQL("SELECT pg_notify(%s, '')"), (NOTIFY_CHANNEL,))
    return written


# The sender's side (the outbox) -------------------------------------------------------


@dataclass(frozen=True)
class Due:
    id: UUID
    channel: str
    member_id: UUID
    webhook_id: UUID | None
    url: str | None
    secret: str | None
    payload: dict[str, Any]
    attempts: int  # including this one
    # The secret before a rotation, while its grace lasts: a second signature.
    previous_secret: str | None = None


# A live sender holds pg_advisory_lock(SENDER_LOCK, sender_key(id)) on its
# listening connection for as long as it runs; a killed one's lock goes with
# its connection.
SENDER_LOCK = 0x616C7274  # "alrt"
SENDER_KEY = "(hashtext(%s::text) & 2147483647)"


def hold_sender_lock(conn: Any, sender_id: UUID) -> None:
    conn.execute(f"SELECT pg_advisory_lock(%s, {SENDER_KEY})", (SENDER_LOCK, str(sender_id)))


# A sender that lost its listening connection (and so its lock) stops its
# attempts within about a tenth of a second (AlertSender._lost_lock): a starting
# sender waits this long, and releases only the claims of senders whose lock is
# still gone, so it never sends a delivery the other is still sending.
RELEASE_GRACE = timedelta(seconds=1)
_CLAIMED_BY_DEAD = (
    "d.status = 'pending' AND d.next_attempt_at > clock_timestamp() AND d.attempts > 0 "
    "AND d.last_error IS NULL AND d.claimed_by IS NOT NULL AND NOT EXISTS ("
    "  SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
    "  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "  AND l.classid = %(lock)s::oid AND l.objsubid = 2 "
    "  AND l.objid = (hashtext(d.claimed_by::text) & 2147483647)::oid)"
)


def release_claims(database: Database, grace: timedelta = RELEASE_GRACE) -> None:
    """At start: deliveries a killed sender had claimed are due again now (same
    ids). Only a dead sender's: releasing a live one's claim (``serve`` and
    ``project`` both send) had two senders send one delivery at once. A sender
    whose lock is missing may only be reconnecting: its lock must be missing
    both before and after ``grace``, by which time a live one has cut its
    attempts (before, a sender starting in that gap sent what the other was
    still sending)."""
    with database.connect(autocommit=True) as conn:
        conn.execute(  # claims from before claims named their sender
            "UPDATE alert_deliveries d SET next_attempt_at = clock_timestamp() "
            "WHERE status = 'pending' AND next_attempt_at > clock_timestamp() AND attempts > 0 "
            "AND last_error IS NULL AND claimed_by IS NULL"
        )
        rows = conn.execute(
            f"SELECT DISTINCT d.claimed_by FROM alert_deliveries d WHERE {_CLAIMED_BY_DEAD}",
            {"lock": SENDER_LOCK},
        ).fetchall()
        if not rows:
            return
        time.sleep(grace.total_seconds())
        conn.execute(
            "UPDATE alert_deliveries d SET next_attempt_at = clock_timestamp() "
            f"WHERE d.claimed_by = ANY(%(dead)s::uuid[]) AND {_CLAIMED_BY_DEAD}",
            {"lock": SENDER_LOCK, "dead": [r[0] for r in rows]},
        )


def _receiver_of(alias: str) -> str:
    """SQL for who answers a delivery: its webhook, or its member's push endpoints."""
    return (
        f"CASE WHEN {alias}.channel = 'webhook' THEN {alias}.webhook_id ELSE {alias}.member_id END"
    )


CLAIM = f"""
WITH ranked AS (
    SELECT id, next_attempt_at, {_receiver_of("a")} AS receiver,
           row_number() OVER (PARTITION BY {_receiver_of("a")} ORDER BY next_attempt_at, id) AS place
    FROM alert_deliveries a
    WHERE status = 'pending' AND next_attempt_at <= coalesce(%(now)s::timestamptz, clock_timestamp())
), due AS (
    SELECT d.id FROM alert_deliveries d
    JOIN ranked r ON r.id = d.id
    LEFT JOIN unnest(%(busy)s::uuid[], %(in_flight)s::int[]) AS b (receiver, n)
           ON b.receiver = r.receiver
    WHERE r.place + coalesce(b.n, 0) <= %(per_receiver)s
      -- Checked again on the locked row: another sender may have claimed it meanwhile.
      AND d.status = 'pending'
      AND d.next_attempt_at <= coalesce(%(now)s::timestamptz, clock_timestamp())
    -- Round robin: every receiver's first due row before anyone's second, so
    -- one receiver's backlog of thousands never fills a claim before another
    -- receiver's single alert.
    ORDER BY r.place, r.next_attempt_at LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE alert_deliveries d SET attempts = d.attempts + 1, last_error = NULL,
       next_attempt_at = coalesce(%(now)s::timestamptz, clock_timestamp()) + %(lease)s,
       claimed_by = %(sender)s
FROM due WHERE d.id = due.id
RETURNING d.id, d.channel, d.member_id, d.webhook_id, d.payload, d.attempts
"""


def claim_due(
    database: Database,
    limit: int,
    lease: timedelta,
    *,
    in_flight: dict[UUID, int] | None = None,
    per_receiver: int = 1_000_000,
    now: datetime | None = None,
    sender: UUID | None = None,
) -> list[Due]:
    """Take up to ``limit`` due deliveries for ``lease`` (another sender skips them),
    at most ``per_receiver`` to one receiver counting the ``in_flight`` ones
    (receiver: a webhook id, or a member id for push). ``now``: the sender's clock
    (None: the database's)."""
    busy = dict(in_flight or {})
    with database.pooled() as conn, conn.cursor(row_factory=dict_row) as curs:
        curs.execute(
            CLAIM,  # type: ignore[arg-type]
            {
                "now": now,
                "busy": list(busy),
                "in_flight": list(busy.values()),
                "per_receiver": per_receiver,
                "limit": limit,
                "lease": lease,
                "sender": sender,
            },
        )
        rows = curs.fetchall()
        hooks: dict[UUID, tuple[str, str, bool, str | None]] = {}
        wanted = list({r["webhook_id"] for r in rows if r["webhook_id"] is not None})
        if wanted:
            curs.execute(
                "SELECT id, url, secret, active, CASE WHEN previous_until > "
                "coalesce(%s::timestamptz, clock_timestamp()) THEN previous_secret END AS previous "
                "FROM alert_webhooks WHERE id = ANY(%s)",
                (now, wanted),
            )
            hooks = {
                h["id"]: (h["url"], h["secret"], h["active"], h["previous"])
                for h in curs.fetchall()
            }
    due = []
    for r in rows:
        hook = hooks.get(r["webhook_id"]) if r["webhook_id"] else None
        due.append(
            Due(
                id=r["id"],
                channel=r["channel"],
                member_id=r["member_id"],
                webhook_id=r["webhook_id"],
                url=hook[0] if hook and hook[2] else None,
                secret=hook[1] if hook else None,
                payload=r["payload"],
                attempts=r["attempts"],
                previous_secret=hook[3] if hook else None,
            )
        )
    return due


@dataclass(frozen=True)
class Attempt:
    delivery_id: UUID
    webhook_id: UUID | None
    attempt: int
    ok: bool
    http_status: int | None
    error: str | None
    took_ms: int
    # None: delivered or failed for good; else when to try again.
    retry_in: timedelta | None


def record_attempts(
    database: Database, attempts: Iterable[Attempt], now: datetime | None = None
) -> None:
    """Log each attempt and move its delivery on. Fenced by the attempt number:
    an attempt whose claim was taken over (its lease ran out) changes nothing."""
    rows = list(attempts)
    if not rows:
        return
    fence = "AND attempts = %s AND status = 'pending'"
    with database.pooled() as conn, conn.cursor() as curs:
        curs.executemany(
            "INSERT INTO alert_delivery_log (delivery_id, webhook_id, attempt, http_status, "
            "error, took_ms) VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (a.delivery_id, a.webhook_id, a.attempt, a.http_status, a.error, a.took_ms)
                for a in rows
            ],
        )
        for a in rows:
            if a.ok:
                curs.execute(
                    "UPDATE alert_deliveries SET status = 'delivered', "
                    f"delivered_at = clock_timestamp(), last_error = NULL WHERE id = %s {fence}",
                    (a.delivery_id, a.attempt),
                )
            elif a.retry_in is None:
                curs.execute(
                    "UPDATE alert_deliveries SET status = 'failed', last_error = %s "
                    f"WHERE id = %s {fence}",
                    (a.error, a.delivery_id, a.attempt),
                )
            else:
                curs.execute(
                    "UPDATE alert_deliveries SET last_error = %s, next_attempt_at = "
                    f"coalesce(%s::timestamptz, clock_timestamp()) + %s WHERE id = %s {fence}",
                    (a.error, now, a.retry_in, a.delivery_id, a.attempt),
                )


def next_due_in(
    database: Database, busy: Iterable[UUID] = (), now: datetime | None = None
) -> float | None:
    """Seconds until the next pending delivery is due, leaving out the ``busy``
    receivers' (None: nothing pending)."""
    with database.pooled() as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM min(a.next_attempt_at) - "
            "coalesce(%s::timestamptz, clock_timestamp())) FROM alert_deliveries a "
            f"WHERE a.status = 'pending' AND NOT ({_receiver_of('a')} = ANY(%s::uuid[]))",
            (now, list(busy)),
        ).fetchone()
    return None if row is None or row[0] is None else max(0.0, float(row[0]))


def push_endpoints(database: Database, member_id: UUID) -> list[tuple[UUID, str, str, str]]:
    with database.pooled() as conn:
        rows = conn.execute(
            "SELECT id, endpoint, p256dh, auth FROM alert_push_endpoints WHERE member_id = %s",
            (member_id,),
        ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def forget_push_endpoint(database: Database, endpoint_id: UUID) -> None:
    """The push service said the subscription is gone (404/410)."""
    with database.pooled() as conn:
        conn.execute("DELETE FROM alert_push_endpoints WHERE id = %s", (endpoint_id,))


def now() -> datetime:
    return datetime.now(UTC)
