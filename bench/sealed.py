"""Sealed details: submissions per second with notes and a 2 MB photo, against
the same without, and the cost of unsealing one report.

Run: .venv/bin/python bench/sealed.py [--clients 4] [--seconds 10]

The product runs as `courtwatch serve` in its own process (the unsealing key
under its data folder, the default). "Sealed" = one POST /api/reports with all
eight sealed fields (a 1,500-character note) followed by one 2 MB JPEG
uploaded to it; "plain" = the same report without either. Unsealing is timed
through HTTP (a lawyer's GET, which also records the read) and in-process
(the cryptography alone).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from PIL import Image

from bench._common import closed_loop, describe, fresh_database, product_process
from courtwatch.members import MemberStore
from courtwatch.sealing import keys
from courtwatch.sealing.envelope import seal, seal_blob, unseal, unseal_blob

REPORT = {"kind": "courthouse_arrest", "courthouse_code": "NYC", "place": "hallway"}
SEALED = {
    "notes": ("Agents in plain clothes waited by courtroom 3. " * 32)[:1500],
    "person_name": "María José Núñez",
    "a_number": "A123-456-789",
    "country_of_birth": "Honduras",
    "date_of_birth": "1990-04-01",
    "language": "Spanish",
    "contact": "Sister, +1 212 555 0100",
    "taken_to_detail": "Grey van, toward 26 Federal Plaza",
}


def two_megabyte_jpeg() -> bytes:
    """Noise compresses badly: about 2 MB of JPEG, as a phone photo is."""
    side = 1000
    while True:
        image = Image.frombytes("RGB", (side, side * 3 // 4), os.urandom(side * side * 9 // 4))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92)
        if out.tell() >= 2 * 1024 * 1024:
            return out.getvalue()
        side += 100


async def rate(
    url: str, clients: int, seconds: float, photo: bytes | None
) -> tuple[float, list[float], int]:
    observed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    async def submit(client: httpx.AsyncClient) -> bool:
        body = {**REPORT, "observed_at": observed}
        if photo is not None:
            body["sealed"] = SEALED
        answer = await client.post(
            "/api/reports", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        if answer.status_code != 201:
            return False
        if photo is None:
            return True
        created = answer.json()
        uploaded = await client.post(
            f"/api/reports/{created['id']}/photos",
            content=photo,
            headers={"X-Author-Token": created["author_token"]},
        )
        return uploaded.status_code == 201

    return await closed_loop(url, clients, seconds, submit, timeout=60)


async def unseal_over_http(url: str, token: str, rounds: int) -> list[float]:
    observed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        created = await client.post(
            "/api/reports",
            json={**REPORT, "observed_at": observed, "sealed": SEALED},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        report_id = created.json()["id"]
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            answer = await client.get(
                f"/api/reports/{report_id}/sealed", headers={"Authorization": f"Bearer {token}"}
            )
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
    return timings


def in_process(photo: bytes, rounds: int) -> tuple[float, float, float]:
    """Median ms: seal the fields, unseal them, unseal a 2 MB photo."""
    organisation = keys.generate()
    report_id = uuid.uuid4()
    sealing, opening, photos = [], [], []
    blob = seal_blob(report_id, "photo:x", photo, organisation.public_key())
    for _ in range(rounds):
        t0 = time.perf_counter()
        sealed = seal(report_id, SEALED, organisation.public_key())
        t1 = time.perf_counter()
        unseal(report_id, sealed.ciphertext, sealed.wrapped_key, organisation)
        t2 = time.perf_counter()
        unseal_blob(report_id, "photo:x", blob.ciphertext, blob.wrapped_key, organisation)
        t3 = time.perf_counter()
        sealing.append((t1 - t0) * 1000)
        opening.append((t2 - t1) * 1000)
        photos.append((t3 - t2) * 1000)
    return statistics.median(sealing), statistics.median(opening), statistics.median(photos)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    photo = two_megabyte_jpeg()
    db = fresh_database("bench_sealed")
    with product_process(db) as url:
        members = MemberStore(db)
        lawyer = members.create_member("Bench lawyer", ["lawyer"])
        _, token = members.issue_api_token(lawyer.id, "bench")
        plain, plain_lat, plain_err = asyncio.run(rate(url, args.clients, args.seconds, None))
        sealed, sealed_lat, sealed_err = asyncio.run(rate(url, args.clients, args.seconds, photo))
        reads = asyncio.run(unseal_over_http(url, token, 50))
    seal_ms, open_ms, photo_ms = in_process(photo, 50)
    print(f"photo size           : {len(photo) / 1024 / 1024:.2f} MB JPEG")
    print(
        f"plain reports        : {plain:8.1f} /s with {args.clients} clients "
        f"({describe(plain_lat)}; {plain_err} errors)"
    )
    print(
        f"sealed + 2 MB photo  : {sealed:8.1f} /s with {args.clients} clients "
        f"({describe(sealed_lat)}; {sealed_err} errors)"
    )
    print(f"ratio sealed / plain : {sealed / plain:8.2f}")
    print(f"lawyer reads 1 report: {describe(reads)} (HTTP, read recorded)")
    print(
        f"crypto alone (median): seal 8 fields {seal_ms:.2f} ms, unseal them {open_ms:.2f} ms, "
        f"unseal a 2 MB photo {photo_ms:.2f} ms"
    )


if __name__ == "__main__":
    main()
