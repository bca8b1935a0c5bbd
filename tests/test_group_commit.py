"""Group commit: concurrent submissions share a transaction, each keeps its own answer."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from eventsourcing.persistence import OperationalError, StoredEvent

from courtwatch.application import IdempotencyConflict, SubmitResult
from courtwatch.group_commit import GroupCommitter
from courtwatch.services import Services
from tests.web.reports.test_api import REPORTS, count_events, key, recent, submit


def stored_positions(services: Services) -> list[int]:
    with services.database.connect() as conn:
        rows = conn.execute(
            "SELECT notification_id FROM courtwatch_events ORDER BY notification_id"
        ).fetchall()
    return [int(row[0]) for row in rows]


class HeldFirstInsert:
    """The recorder's insert, with its first call held until ``waiting`` more
    submissions are queued: what happens under load, made deterministic."""

    def __init__(self, services: Services, waiting: int) -> None:
        self.insert = services.app.recorder.insert_events
        self.waiting = waiting
        self.calls: list[int] = []
        self.committer = GroupCommitter(self)
        services.app.submissions = self.committer

    def __call__(self, events: Sequence[StoredEvent]) -> Sequence[int] | None:
        if not self.calls:
            wait_for(lambda: self.committer.queued >= self.waiting)
        self.calls.append(len(events))
        return self.insert(events)


def submit_all(
    services: Services, held: HeldFirstInsert, submissions: list[tuple[dict, str]]
) -> list[Any]:
    """Each submission in its own thread, as the web layer runs them; the
    first is under way before the others start, so they queue behind it."""

    def one(body: dict, client_key: str) -> SubmitResult | BaseException:
        try:
            return services.app.submit(body, client_key)
        except BaseException as error:  # each thread's own answer, compared below
            return error

    with ThreadPoolExecutor(len(submissions)) as pool:
        futures = [pool.submit(one, *submissions[0])]
        for number, submission in enumerate(submissions[1:], start=1):
            futures.append(pool.submit(one, *submission))
            # Queued in the order given (the first holds the writer meanwhile),
            # so which of two submissions of one key comes first is known.
            wait_for(lambda n=number: held.committer.queued >= n or futures[-1].done())
        return [f.result() for f in futures]


def wait_for(condition: Callable[[], bool]) -> None:
    pause = threading.Event()
    for _ in range(500):
        if condition():
            return
        pause.wait(0.01)
    raise AssertionError("condition not reached in 5 s")


def test_queued_submissions_share_one_transaction_and_each_gets_its_position(
    services: Services,
) -> None:
    held = HeldFirstInsert(services, waiting=10)
    bodies = [
        ({**REPORTS["sighting"], "observed_at": recent(1 + i / 10)}, key()) for i in range(11)
    ]

    results = submit_all(services, held, bodies)

    assert all(isinstance(r, SubmitResult) and r.created for r in results)
    # The first alone (it held the writer), the ten queued behind it in one transaction.
    assert held.committer.batches == [1, 10]
    positions = [r.position for r in results]
    assert sorted(positions) == stored_positions(services)
    for result, (_, client_key) in zip(results, bodies, strict=True):
        assert result.report_id == services.app.report_id_for(client_key)
        assert services.app.public_report(result.report_id)["id"] == str(result.report_id)


def test_a_replay_and_a_conflict_in_the_same_batch_as_their_original_get_their_own_answers(
    services: Services,
) -> None:
    held = HeldFirstInsert(services, waiting=4)
    original = {**REPORTS["courthouse_arrest"], "observed_at": recent()}
    different = {**original, "observed_at": recent(3)}
    shared_key = key()
    submissions = [
        ({**REPORTS["sighting"], "observed_at": recent()}, key()),  # holds the writer
        (original, shared_key),
        ({**REPORTS["sighting"], "observed_at": recent(2)}, key()),
        (original, shared_key),  # a retry whose first answer was lost
        (different, shared_key),  # the same key for another report
    ]

    _holder, stored, other, replay, conflict = submit_all(services, held, submissions)

    assert isinstance(stored, SubmitResult) and stored.created
    assert isinstance(other, SubmitResult) and other.created
    assert isinstance(replay, SubmitResult) and not replay.created
    assert (replay.report_id, replay.author_token) == (stored.report_id, stored.author_token)
    assert isinstance(conflict, IdempotencyConflict)
    # Three reports, one event each; the batch of four stored its first three.
    assert count_events(services) == 3
    assert held.committer.batches[:2] == [1, 2]


def test_a_batch_holding_a_report_stored_earlier_stores_the_others_on_their_own(
    services: Services,
) -> None:
    earlier = {**REPORTS["call_in"], "observed_at": recent()}
    earlier_key = key()
    services.app.submit(earlier, earlier_key)
    held = HeldFirstInsert(services, waiting=3)
    submissions = [
        ({**REPORTS["sighting"], "observed_at": recent()}, key()),
        ({**REPORTS["sighting"], "observed_at": recent(2)}, key()),
        (earlier, earlier_key),  # already stored: the batch's insert fails on it
        ({**REPORTS["sighting"], "observed_at": recent(3)}, key()),
    ]

    results = submit_all(services, held, submissions)

    assert [r.created for r in results] == [True, True, False, True]
    assert count_events(services) == 4
    # The failed batch stored nothing; then each was stored alone.
    assert held.calls == [1, 3, 1, 1, 1]


async def test_two_hundred_mixed_concurrent_submissions_each_get_their_own_answer(
    client: httpx.AsyncClient, services: Services
) -> None:
    rng = random.Random(16)
    fresh = [
        ({**REPORTS["sighting"], "observed_at": recent(1 + i / 100)}, key()) for i in range(120)
    ]
    plan: list[tuple[str, dict, str]] = [("new", body, k) for body, k in fresh]
    plan += [("replay", body, k) for body, k in rng.sample(fresh, 40)]
    plan += [("conflict", {**body, "agents_count": 99}, k) for body, k in rng.sample(fresh, 20)]
    plan += [
        ("invalid", {**REPORTS["sighting"], "observed_at": "yesterday"}, key()) for _ in range(10)
    ]
    plan += [
        ("invalid", {**REPORTS["sighting"], "observed_at": recent(), "lat": 91}, key())
        for _ in range(10)
    ]
    rng.shuffle(plan)
    # The first insert waits until four more submissions queue behind it, so at
    # least one batch is shared whatever the machine's load (a CI run with the
    # other worker busy once served all 200 one at a time).
    HeldFirstInsert(services, waiting=4)
    queue: asyncio.Queue[tuple[int, tuple[str, dict, str]]] = asyncio.Queue()
    for item in enumerate(plan):
        queue.put_nowait(item)
    answers: dict[int, httpx.Response] = {}

    async def task() -> None:
        while not queue.empty():
            index, (_, body, client_key) = queue.get_nowait()
            answers[index] = await submit(client, body, client_key)

    await asyncio.gather(*(task() for _ in range(32)))

    by_key: dict[str, list[tuple[str, httpx.Response]]] = {}
    for index, (what, _, client_key) in enumerate(plan):
        by_key.setdefault(client_key, []).append((what, answers[index]))
    for what_and_answers in by_key.values():
        codes = sorted(answer.status_code for _, answer in what_and_answers)
        whats = {what for what, _ in what_and_answers}
        if whats == {"invalid"}:
            assert codes == [422]
            continue
        # Per key, exactly one submission stored it (201): the original, or a
        # conflicting one that reached the store first, which then wins the key.
        assert codes.count(201) == 1, what_and_answers
        assert set(codes) <= {200, 201, 409}
        stored_ids = {a.json()["id"] for _, a in what_and_answers if a.status_code < 300}
        assert len(stored_ids) == 1
    created = [a for a in answers.values() if a.status_code == 201]
    assert len(created) == 120
    # Exactly the answered reports are stored, at the positions they were told.
    assert sorted(a.json()["position"] for a in created) == stored_positions(services)
    assert max(services.app.submissions.batches) > 1


class Interrupted(BaseException):
    """Not an Exception: as a KeyboardInterrupt or a thread's SystemExit would be."""


def test_an_interrupted_batch_never_leaves_a_submission_waiting(services: Services) -> None:
    held = HeldFirstInsert(services, waiting=3)

    def interrupt_the_second_insert(events: Sequence[StoredEvent]) -> Sequence[int] | None:
        if len(held.calls) == 1:
            held.calls.append(len(events))
            raise Interrupted
        return held(events)

    held.committer._insert = interrupt_the_second_insert
    submissions = [({**REPORTS["sighting"], "observed_at": recent(1 + i)}, key()) for i in range(4)]

    results = submit_all(services, held, submissions)

    assert isinstance(results[0], SubmitResult) and results[0].created
    # The batch of three: its writer got the interruption, the two others an error
    # of their own; none waits forever and none was stored.
    assert sorted(type(r).__name__ for r in results[1:]) == [
        "Interrupted", "RuntimeError", "RuntimeError"
    ]  # fmt: skip
    assert count_events(services) == 1
    # The committer still works afterwards.
    assert services.app.submit({**REPORTS["sighting"], "observed_at": recent()}, key()).created


def test_a_batch_that_cannot_reach_the_database_fails_once_not_once_per_submission(
    services: Services,
) -> None:
    held = HeldFirstInsert(services, waiting=3)

    def unreachable_after_the_first(events: Sequence[StoredEvent]) -> Sequence[int] | None:
        if held.calls:
            held.calls.append(len(events))
            raise OperationalError("connection refused")
        return held(events)

    held.committer._insert = unreachable_after_the_first
    submissions = [({**REPORTS["sighting"], "observed_at": recent(1 + i)}, key()) for i in range(4)]

    results = submit_all(services, held, submissions)

    assert isinstance(results[0], SubmitResult) and results[0].created
    assert [type(r) for r in results[1:]] == [OperationalError] * 3
    # One attempt for the batch: an outage does not cost each waiting report
    # its own wait for a connection.
    assert held.calls == [1, 3]
