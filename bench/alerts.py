"""Alerts: time from POST /api/reports to the last matching webhook delivery received,
with 1,000 and 10,000 subscriptions, next to the same run's floor.

Run: .venv/bin/python bench/alerts.py [--subscriptions 1000 10000] [--reports 15]

The product runs as `courtwatch serve` in its own process (projections and the
alert sender in-process, the default). Subscriptions are a mix: 60 % name
courthouses (one to three of 40 busy ones, NYC among them), 40 % are circles of
1-50 km around random points in the lower 48, a tenth of those near New York.
Every subscription delivers by webhook to one local receiver (20 hooks, HTTP/1.1
keep-alive), which checks each signature. Each report is a sighting at NYC;
its time is from sending the POST to the receipt of its last delivery (the
number expected is read from the outbox once the sender is done).

Floor: the same subscriptions matched by one SQL query (no product code: the
report's place is given), and one POST per match to the same receiver from 16
threads, timed from the query to the last receipt.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import requests

from bench._common import fresh_database, percentile, product_process
from courtwatch.alerts import signing
from courtwatch.alerts.store import install
from courtwatch.gazetteer import immigration_courts
from courtwatch.infrastructure.database import Database
from courtwatch.members import MemberStore
from tests.conftest import free_port

SECRET = "whsec_bench"
HOOKS = 20


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the listen backlog: bursts of new connections are not refused


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = {}  # report id -> receipt times
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = time.perf_counter()
                try:
                    signing.verify(SECRET, self.headers.get(signing.SIGNATURE_HEADER), raw)
                    key = json.loads(raw)["link"].rsplit("/", 1)[1]
                except (signing.SignatureRefused, KeyError, ValueError):
                    key = json.loads(raw).get("floor", "")
                    if not key:
                        with receiver.lock:
                            receiver.refused += 1
                with receiver.lock:
                    receiver.arrivals.setdefault(key, []).append(at)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{n}"


def make_subscriptions(db: Database, receiver: Receiver, n: int, seed: int = 13) -> None:
    rng = random.Random(seed)
    courts = list(immigration_courts())
    nyc = next(c for c in courts if c.code == "NYC")
    busy = ["NYC", *rng.sample([c.code for c in courts if c.code != "NYC"], 39)]
    # Webhooks are a coordinator's: the sender sends nothing to anyone else's.
    members = MemberStore(db)
    members.install()
    member = members.create_member("Bench coordinator", ["coordinator"]).id
    hooks = [(uuid.uuid4(), member, receiver.url(i), SECRET) for i in range(HOOKS)]
    rows = []
    for i in range(n):
        hook = hooks[i % HOOKS][0]
        if rng.random() < 0.6:
            codes = rng.sample(busy, rng.randint(1, 3))
            lat = lon = radius = None
        else:
            codes = []
            if rng.random() < 0.1:
                lat, lon = nyc.lat + rng.uniform(-0.3, 0.3), nyc.lon + rng.uniform(-0.3, 0.3)
            else:
                lat, lon = rng.uniform(25, 49), rng.uniform(-124, -67)
            radius = rng.uniform(1000, 50000)
        rows.append(
            (
                uuid.uuid4(),
                member,
                codes,
                lat,
                lon,
                radius,
                [],
                "any",
                0,
                "UTC",
                "webhook",
                hook,
            )
        )
    with db.connect() as conn, conn.cursor() as curs:
        curs.executemany(
            "INSERT INTO alert_webhooks (id, member_id, url, secret) VALUES (%s, %s, %s, %s)", hooks
        )
        curs.executemany(
            "INSERT INTO alert_subscriptions (id, member_id, courthouses, lat, lon, radius_m, kinds, "
            "min_status, min_level, timezone, channel, webhook_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


FLOOR_MATCH = """
SELECT s.id, w.url FROM alert_subscriptions s JOIN alert_webhooks w ON w.id = s.webhook_id
WHERE s.deleted_at IS NULL AND w.active AND (
      %(code)s = ANY (s.courthouses)
   OR (s.radius_m IS NOT NULL AND 2 * 6371008.8 * asin(least(1, sqrt(
         power(sin(radians(%(lat)s - s.lat) / 2), 2)
       + cos(radians(s.lat)) * cos(radians(%(lat)s)) * power(sin(radians(%(lon)s - s.lon) / 2), 2)
       ))) <= s.radius_m))
"""


def floor_once(
    db: Database, receiver: Receiver, pool: ThreadPoolExecutor, local: threading.local
) -> tuple[float, int]:
    nyc = next(c for c in immigration_courts() if c.code == "NYC")
    key = uuid.uuid4().hex
    began = time.perf_counter()
    with db.connect() as conn:
        matches = conn.execute(
            FLOOR_MATCH, {"code": "NYC", "lat": nyc.lat, "lon": nyc.lon}
        ).fetchall()

    def post(row: tuple[Any, str]) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        body = json.dumps({"floor": key, "id": str(row[0])}).encode()
        session.post(row[1], data=body, headers={"Content-Type": "application/json"}).close()

    list(pool.map(post, matches))
    last = max(receiver.arrivals[key])
    return (last - began) * 1000, len(matches)


def outbox_done(db: Database, report_id: str) -> tuple[int, int]:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM alert_deliveries "
            "WHERE report_id = %s",
            (report_id,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def run(n: int, reports: int) -> dict[str, Any]:
    db = fresh_database("bench_alerts")
    install(db)
    receiver = Receiver()
    make_subscriptions(db, receiver, n)
    product: list[float] = []
    counts: list[int] = []
    with product_process(db) as url, httpx.Client(base_url=url, timeout=30) as client:
        for i in range(reports + 1):  # the first one warms up (pools, imports)
            body = {
                "kind": "sighting",
                "courthouse_code": "NYC",
                "observed_at": datetime.now(UTC).isoformat(),
            }
            began = time.perf_counter()
            answer = client.post(
                "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
            )
            assert answer.status_code in (200, 201), answer.text
            report_id = answer.json()["id"]
            deadline = time.monotonic() + 60
            while True:
                total, pending = outbox_done(db, report_id)
                got = len(receiver.arrivals.get(report_id, []))
                if total and not pending and got >= total:
                    break
                assert time.monotonic() < deadline, (total, pending, got)
                time.sleep(0.01)
            if i:
                product.append((max(receiver.arrivals[report_id]) - began) * 1000)
                counts.append(total)
    floor: list[float] = []
    local = threading.local()
    with ThreadPoolExecutor(16) as pool:
        for i in range(reports + 1):
            ms, matched = floor_once(db, receiver, pool, local)
            if i:
                floor.append(ms)
    assert receiver.refused == 0
    with db.connect() as conn:
        split = conn.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - report_at)), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - created_at)) "
            "FROM alert_deliveries"
        ).fetchone()
    assert split is not None
    return {
        "event_to_outbox_p50_ms": round(float(split[0]) * 1000, 1),
        "outbox_to_delivered_p50_ms": round(float(split[1]) * 1000, 1),
        "subscriptions": n,
        "deliveries_per_report": sorted(set(counts)),
        "floor_matches": matched,
        "product_p50_ms": round(percentile(product, 50), 1),
        "product_p99_ms": round(percentile(product, 99), 1),
        "floor_p50_ms": round(percentile(floor, 50), 1),
        "floor_p99_ms": round(percentile(floor, 99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--reports", type=int, default=15)
    args = parser.parse_args()
    for n in args.subscriptions:
        result = run(n, args.reports)
        print(json.dumps(result), flush=True)
        ratio = result["product_p99_ms"] / max(result["floor_p99_ms"], 0.1)
        print(
            f"{n:>6} subscriptions, {result['deliveries_per_report']} deliveries per report: "
            f"product p50 {result['product_p50_ms']} ms, p99 {result['product_p99_ms']} ms; "
            f"floor p50 {result['floor_p50_ms']} ms, p99 {result['floor_p99_ms']} ms "
            f"(p99 ratio {ratio:.1f}x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
