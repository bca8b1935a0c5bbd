"""Run a job every N seconds in a background thread, surviving its failures.

Used for signed checkpoints and for publishing trend summaries: a failed run
is logged and the schedule goes on, because a missed checkpoint or summary
must not silently end all later ones.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, interval: float, job: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self.job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Periodic:
        if self.interval > 0:  # 0 turns the schedule off
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.job()
            except Exception:
                log.exception("scheduled job failed; will run again", extra={"job": self.name})
