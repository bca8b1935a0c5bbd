"""What the rest of the program is handed: settings, the database, the application façade.

Built in one place only, ``courtwatch.cli.bootstrap``; a plain container so
that ``web`` and ``projections`` can name it without importing the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from courtwatch.alerts import AlertStore
from courtwatch.application import Courtwatch
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import Database
from courtwatch.members import MemberStore
from courtwatch.sealed import SealedDetails


@dataclass
class Services:
    settings: Settings
    database: Database
    app: Courtwatch
    members: MemberStore
    sealed: SealedDetails
    alerts: AlertStore

    def close(self) -> None:
        self.app.close()
