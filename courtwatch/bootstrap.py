"""The one place where courtwatch's parts are wired together."""

from __future__ import annotations

from dataclasses import dataclass

from courtwatch import credentials
from courtwatch.application import Courtwatch
from courtwatch.config import Settings
from courtwatch.database import Database, resolve_database
from courtwatch.gazetteer import immigration_courts


@dataclass
class Services:
    settings: Settings
    database: Database
    app: Courtwatch

    def close(self) -> None:
        self.app.close()


def connect_database(settings: Settings) -> Database:
    """Find or start PostgreSQL and make sure courtwatch's own tables exist."""
    database = resolve_database(settings.database_url, settings.data_dir)
    credentials.install(database)
    return database


def bootstrap(settings: Settings | None = None, database: Database | None = None) -> Services:
    settings = settings or Settings.from_env()
    if database is None:
        database = connect_database(settings)
    else:
        credentials.install(database)
    app = Courtwatch(env=database.eventsourcing_env(), secret=credentials.server_secret(database))
    immigration_courts()  # place the courts by ZIP now, not during the first report
    return Services(settings=settings, database=database, app=app)
