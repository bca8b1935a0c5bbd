"""Transparency log figures: leaves/s while projecting, proofs at 1M leaves, audit speed.

Run: .venv/bin/python bench/audit.py [--events 30000] [--leaves 1000000] [--samples 1000]

1. Projection: N events are saved first (report aggregates in chunks, the fast
   path), then the transparency projection catches up from zero. Leaves appended
   per second = N / catch-up time. Also one-event-per-transaction for contrast.
2. `courtwatch audit` over those N events (recompute every leaf from the rows).
3. Proofs at 1M leaves: the tree is filled directly (random leaf hashes,
   ``append_many`` + COPY into log_leaves/log_nodes), then inclusion and
   consistency proofs are generated from the database and verified, p50/p99 over
   random leaves and size pairs.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import fresh_database
from courtwatch.cli.bootstrap import bootstrap
from courtwatch.domain.reports import REPORT_CLASSES
from courtwatch.domain.vocabulary import Kind
from courtwatch.infrastructure import event_log
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.intake import details_of, parse_submission
from courtwatch.transparency import merkle
from projections import runner
from projections.transparency_log import projection as transparency
from projections.transparency_log import store as audit_log
from projections.transparency_log.auditor import audit
from projections.transparency_log.projection import TransparencyProjection, fetch_nodes

SPEC = next(s for s in runner.all_projections() if s.projection is TransparencyProjection)
SIGHTING = {
    "kind": "sighting", "lat": 40.712, "lon": -74.005, "place": "outside",
    "agents_count": 2, "agency": "unknown", "plain_clothes": "unknown",
}  # fmt: skip


def ms(values: list[float]) -> str:
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000

    return f"p50 {at(0.5):.3f} ms, p99 {at(0.99):.3f} ms"


def save_events(settings: Settings, database: Database, count: int) -> None:
    services = bootstrap(settings, database)
    now = datetime.now(UTC)
    submission = parse_submission(
        {**SIGHTING, "observed_at": (now - timedelta(hours=1)).isoformat()}
    )
    cls = REPORT_CLASSES[Kind.SIGHTING]
    chunk = []
    for _ in range(count):
        chunk.append(
            cls.submit(  # type: ignore[attr-defined]
                uuid.uuid4(),
                courthouse_code=None,
                lat=submission.lat,
                lon=submission.lon,
                observed_at=submission.observed_at,
                details=details_of(submission),
                author_token=uuid.uuid4().hex,
                now=now,
            )
        )
        if len(chunk) == 500:  # STACK_NOTES: one huge save() hangs in pipeline mode
            services.app.save(*chunk)
            chunk = []
    if chunk:
        services.app.save(*chunk)
    services.close()


def catch_up(database: Database) -> float:
    started = time.perf_counter()
    running = runner.start(database, [SPEC])
    try:
        runner.wait_caught_up(database, running, [SPEC], timeout=900)
    finally:
        running.stop()
    return time.perf_counter() - started


def projection_figures(events: int) -> None:
    database = fresh_database("bench_audit")
    settings = Settings(
        database_url=database.url, data_dir=Path(f"/tmp/courtwatch-bench-{uuid.uuid4().hex[:6]}")
    )
    t0 = time.perf_counter()
    save_events(settings, database, events)
    total = event_log.head(database)
    print(f"saved {total} events in {time.perf_counter() - t0:.1f} s")
    seconds = catch_up(database)
    print(
        f"projection catch-up, batches of {transparency.BATCH}: {total / seconds:,.0f} leaves/s "
        f"({total} leaves in {seconds:.1f} s)"
    )

    audit_log.publish_checkpoint(database, settings)
    t0 = time.perf_counter()
    report = audit(database, audit_log.public_key(settings), settings.log_origin)
    seconds = time.perf_counter() - t0
    assert report.ok, report.render()
    print(
        f"courtwatch audit: {report.leaves_checked / seconds:,.0f} leaves/s "
        f"({report.leaves_checked} leaves, 1 checkpoint, {seconds:.1f} s)"
    )

    small = min(events, 3000)
    database = fresh_database("bench_audit1")
    save_events(settings, database, small)
    transparency.BATCH = 1
    seconds = catch_up(database)
    print(f"projection catch-up, one event per transaction: {small / seconds:,.0f} leaves/s")
    transparency.BATCH = 1000


def fill(database: Database, leaves: int) -> None:
    """1M leaves straight into the tables: the proofs do not care where leaves came from."""
    audit_log.ensure_schema(database)
    t0 = time.perf_counter()
    hashes = [os.urandom(32) for _ in range(leaves)]
    nodes = merkle.append_many(0, hashes, {})
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    rid = uuid.uuid4()
    with database.connect() as conn, conn.cursor() as curs:
        with curs.copy(
            "COPY log_leaves (leaf_index, notification_id, originator_id, "
            "originator_version, leaf_hash) FROM STDIN"
        ) as copy:
            for i, h in enumerate(hashes):
                copy.write_row((i, i + 1, rid, i, h))
        with curs.copy("COPY log_nodes (level, index, hash) FROM STDIN") as copy:
            for row in nodes:
                copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE log_nodes")
    print(
        f"filled {leaves:,} leaves / {len(nodes):,} nodes: append_many {built:.1f} s, "
        f"COPY {time.perf_counter() - t0:.1f} s"
    )


def proof_figures(leaves: int, samples: int) -> None:
    database = fresh_database("bench_proofs")
    fill(database, leaves)
    rng = random.Random(9162)
    with database.connect() as conn:
        root = audit_log.root_at(conn, leaves)
        leaf_hashes = dict(
            (int(i), bytes(h))
            for i, h in conn.execute(
                "SELECT index, hash FROM log_nodes WHERE level = 0 AND index = ANY(%s)",
                ([rng.randrange(leaves) for _ in range(samples)],),
            ).fetchall()
        )
    picks = list(leaf_hashes)

    gen_api, gen_conn, ver, lengths = [], [], [], []
    with database.connect() as conn:
        curs = conn.cursor()
        for index in picks:
            t0 = time.perf_counter()
            proof = audit_log.inclusion(database, index, leaves)  # as the API does (pooled)
            gen_api.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            nodes = fetch_nodes(curs, merkle.inclusion_proof_plan(index, leaves))
            merkle.inclusion_proof_from_nodes(index, leaves, nodes)
            gen_conn.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            merkle.verify_inclusion(leaf_hashes[index], index, leaves, proof, root)
            ver.append(time.perf_counter() - t0)
            lengths.append(len(proof))
    print(f"inclusion @ {leaves:,} leaves ({len(picks)} random leaves, {max(lengths)} hashes max):")
    print(f"  generate, as the API does (pooled connection): {ms(gen_api)}")
    print(f"  generate, one query on an open connection: {ms(gen_conn)}")
    print(f"  verify: {ms(ver)}")

    gen, ver = [], []
    with database.connect() as conn:
        curs = conn.cursor()
        for _ in range(samples):
            first = rng.randrange(1, leaves)
            second = rng.randrange(first, leaves + 1)
            t0 = time.perf_counter()
            plan = merkle.consistency_proof_plan(first, second)
            proof = merkle.consistency_proof_from_nodes(first, second, fetch_nodes(curs, plan))
            gen.append(time.perf_counter() - t0)
            roots = fetch_nodes(curs, merkle.root_plan(first) + merkle.root_plan(second))
            r1, r2 = merkle.root_from_nodes(first, roots), merkle.root_from_nodes(second, roots)
            t0 = time.perf_counter()
            merkle.verify_consistency(first, second, r1, r2, proof)
            ver.append(time.perf_counter() - t0)
    print(f"consistency @ {leaves:,} leaves ({samples} random size pairs):")
    print(f"  generate, one query on an open connection: {ms(gen)}")
    print(f"  verify: {ms(ver)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    projection_figures(args.events)
    proof_figures(args.leaves, args.samples)
    print(f"bench finished in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
