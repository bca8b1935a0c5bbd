"""Scheduled jobs keep their schedule through failures."""

import threading

from courtwatch.infrastructure.scheduler import Periodic


def test_a_failing_run_does_not_end_the_schedule() -> None:
    runs: list[int] = []
    third = threading.Event()

    def job() -> None:
        runs.append(len(runs))
        if len(runs) == 3:
            third.set()
        if len(runs) == 1:
            raise RuntimeError("the database was restarting")

    periodic = Periodic("test", 0.01, job).start()
    try:
        assert third.wait(5)
    finally:
        periodic.stop()
    assert runs[:3] == [0, 1, 2]


def test_an_interval_of_zero_turns_the_schedule_off() -> None:
    periodic = Periodic("off", 0, lambda: None).start()
    periodic.stop()
    assert not periodic._thread.is_alive()
