"""The report form with photos (multipart, web/reports/form_photos.py): the time
of one form POST with no photo, one 2 MB JPEG and six, one after another.

Run: .venv/bin/python bench/form_photos.py [--rounds 20]

Each photo is decoded once (checked before the report is stored; sealing reuses
that check for the same bytes, photos.Checked) and sealed with its own data key.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._common import describe, fresh_database, product_process
from bench.sealed import two_megabyte_jpeg


def form() -> dict[str, str]:
    return {
        "client_key": uuid.uuid4().hex,
        "courthouse_code": "NYC",
        "observed_at": "2026-11-20T09:30",
        "place": "hallway",
        "sealed.notes": "Agents by courtroom 3.",
    }


def timed(client: httpx.Client, photos: int, photo: bytes, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        files = [("photos", (f"{n}.jpg", photo, "image/jpeg")) for n in range(photos)]
        started = time.perf_counter()
        answer = client.post("/new/courthouse_arrest", data=form(), files=files or None)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 201, answer.text[:300]
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    photo = two_megabyte_jpeg()
    db = fresh_database("bench_form_photos")
    with product_process(db) as url, httpx.Client(base_url=url, timeout=120) as client:
        timed(client, 1, photo, 2)  # warm up
        print(f"photo: {len(photo) / 1e6:.2f} MB JPEG, {args.rounds} forms each, one at a time")
        for count in (0, 1, 6):
            print(f"{count} photo(s): {describe(timed(client, count, photo, args.rounds))}")


if __name__ == "__main__":
    main()
