"""The background work of the process that runs the projections.

``courtwatch serve`` (the embedded default) and ``courtwatch project`` (the
production topology) both start exactly this: the supervised projections,
signed checkpoints and summary publication, each on its schedule. A process
that does not run the projections (``serve --no-projections``) starts none of
it, so only one kind of process ever signs or publishes.
"""

from __future__ import annotations

import logging
import threading

from courtwatch.alerts.sender import AlertSender
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.infrastructure.scheduler import Periodic
from projections import runner
from projections.transparency_log.store import CheckpointScheduler
from projections.transparency_log.witnesses import WitnessCollector
from projections.trends.schedule import SummaryScheduler

log = logging.getLogger(__name__)


class Background:
    def __init__(self, database: Database, settings: Settings, *, enabled: bool = True) -> None:
        self.database = database
        self.settings = settings
        self.enabled = enabled
        self.supervisor: runner.Supervisor | None = None
        self._schedules: list[Periodic] = []
        self.sender: AlertSender | None = None

    def start(self) -> Background:
        if not self.enabled or self.supervisor is not None:
            return self
        self.supervisor = runner.Supervisor(self.database)
        self._schedules = [
            CheckpointScheduler(self.database, self.settings).start(),
            # Its own thread: a slow or down witness never delays checkpoints or intake.
            WitnessCollector(self.database, self.settings).start(),
            SummaryScheduler(self.database, self.settings).start(),
        ]
        self.sender = AlertSender(self.database, self.settings).start()
        log.info("background work started")
        return self

    def stop(self) -> None:
        for schedule in self._schedules:
            schedule.stop()
        self._schedules = []
        # The sender and the projections stop side by side: each waits for its
        # own threads (a LISTEN poll, an attempt's end), and one after the other
        # that was most of the ~0.8 s every web process, and every test server,
        # took to stop.
        stopping: list[threading.Thread] = []
        if self.sender is not None:
            stopping.append(threading.Thread(target=self.sender.stop, name="stop-alert-sender"))
            self.sender = None
        if self.supervisor is not None:
            stopping.append(threading.Thread(target=self.supervisor.stop, name="stop-projections"))
            self.supervisor = None
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
