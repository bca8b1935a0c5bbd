"""Issue 9's crash test: no report lost or doubled when `serve` or its PostgreSQL is killed.

Clients submit reports, each retrying with the same Idempotency-Key until it
gets a 2xx, while the test kills `serve` with SIGKILL (and starts it again)
and then kills PostgreSQL's postmaster (and restarts nothing: serve must).
Every key that ever got a 2xx must be stored exactly once and shown exactly
once on the map.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from tests.cli.serve_process import Serve, kill_postmaster, sighting

CLIENTS = 6
PER_PHASE = 15  # accepted reports between kills
REQUEST_TIMEOUT = 8.0


@dataclass
class Tally:
    keys_sent: int = 0
    attempts: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    ids_by_key: dict[str, set[str]] = field(default_factory=dict)
    unanswered: set[str] = field(default_factory=set)
    accepted_at: list[float] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.ids_by_key)

    def first_2xx_after(self, moment: float) -> float:
        later = [t for t in self.accepted_at if t > moment]
        return min(later) - moment if later else float("inf")


async def client_loop(url: str, tally: Tally, stop: asyncio.Event, deadline: float) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as client:
        while not stop.is_set():
            key = f"crash-{uuid.uuid4().hex}"
            tally.keys_sent += 1
            tally.unanswered.add(key)
            body = sighting()
            # The same key and body until a 2xx, whatever happens to the server.
            while time.monotonic() < deadline:
                tally.attempts += 1
                try:
                    answer = await client.post(
                        "/api/reports", json=body, headers={"Idempotency-Key": key}
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.1)  # serve is down or restarting
                    continue
                tally.answers[answer.status_code] += 1
                assert answer.status_code < 500 or answer.status_code == 503, answer.text
                if answer.status_code in (200, 201):
                    tally.ids_by_key.setdefault(key, set()).add(answer.json()["id"])
                    tally.unanswered.discard(key)
                    tally.accepted_at.append(time.monotonic())
                    break
                assert answer.status_code == 503, answer.text
                await asyncio.sleep(float(answer.headers.get("retry-after", "1")) / 4)
            else:
                return


async def until(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def stored_submissions(serve: Serve) -> Counter[str]:
    """Submitted events per report, read from the event store itself."""
    with psycopg.connect(host=str(serve.pgdata), user="postgres", dbname="courtwatch") as conn:
        rows = conn.execute(
            "SELECT originator_id::text FROM courtwatch_events WHERE topic LIKE %s",
            ("%Submitted",),
        ).fetchall()
    return Counter(row[0] for row in rows)


async def test_no_report_is_lost_or_doubled_when_serve_or_postgres_is_killed(
    tmp_path: Path,
) -> None:
    serve = Serve(tmp_path / "var", tmp_path / "serve.log")
    tally = Tally()
    stop = asyncio.Event()
    try:
        serve.start()
        deadline = time.monotonic() + 240
        clients = [
            asyncio.create_task(client_loop(serve.url, tally, stop, deadline))
            for _ in range(CLIENTS)
        ]
        await until(lambda: tally.accepted >= PER_PHASE, 30)

        serve.kill()  # SIGKILL: nothing is flushed, nothing is stopped
        serve_killed = time.monotonic()
        at_kill = tally.accepted
        await asyncio.to_thread(serve.start)
        await until(lambda: tally.accepted >= at_kill + PER_PHASE, 60)

        kill_postmaster(serve.pgdata)  # and restart nothing by hand
        postgres_killed = time.monotonic()
        at_kill = tally.accepted
        await until(lambda: tally.accepted >= at_kill + PER_PHASE, 60)

        stop.set()  # each client finishes the key it is on, retrying until a 2xx
        await asyncio.wait_for(asyncio.gather(*clients), 60)

        accepted_ids = {i for ids in tally.ids_by_key.values() for i in ids}
        async with httpx.AsyncClient(base_url=serve.url, timeout=REQUEST_TIMEOUT) as client:

            async def shown() -> Counter[str]:
                answer = await client.get("/api/map/reports")
                if answer.status_code != 200:
                    return Counter()
                return Counter(r["id"] for r in answer.json()["reports"])

            map_deadline = time.monotonic() + 30
            on_map = await shown()
            while not accepted_ids <= set(on_map) and time.monotonic() < map_deadline:
                await asyncio.sleep(0.2)
                on_map = await shown()
        stored = stored_submissions(serve)

        lost = len(tally.unanswered) + len(accepted_ids - set(stored))
        duplicated = sum(1 for ids in tally.ids_by_key.values() if len(ids) > 1)
        duplicated += sum(n - 1 for n in stored.values() if n > 1)
        duplicated += sum(n - 1 for n in on_map.values() if n > 1)
        print(
            f"\ncrash test: sent {tally.keys_sent} keys in {tally.attempts} requests, "
            f"accepted {tally.accepted}, lost {lost}, duplicated {duplicated}; "
            f"answers {dict(sorted(tally.answers.items()))}; first 2xx "
            f"{tally.first_2xx_after(serve_killed):.2f} s after serve was killed, "
            f"{tally.first_2xx_after(postgres_killed):.2f} s after the postmaster was killed"
        )
        assert tally.unanswered == set(), "keys that never got a 2xx"
        assert tally.accepted == tally.keys_sent
        assert lost == 0
        assert duplicated == 0
        # Stored exactly once: one Submitted event per accepted key, and none
        # for anything that was not accepted.
        assert set(stored) == accepted_ids
        assert all(n == 1 for n in stored.values())
        # Shown exactly once on the map.
        assert accepted_ids <= set(on_map)
        assert all(on_map[i] == 1 for i in accepted_ids)
        assert tally.first_2xx_after(postgres_killed) < 30
    finally:
        stop.set()
        serve.stop()
