"""The one composition root: every part of courtwatch is wired together here.

``bootstrap()`` finds (or starts) PostgreSQL, installs what each feature owns
in it, and returns the :class:`Services` every command and the web app use.
``background()`` builds the one supervisor of background work (projections,
signed checkpoints, summary publishing), so ``serve`` and ``project`` start
the same things in the same way.
"""

from __future__ import annotations

import errno
from datetime import timedelta
from pathlib import Path

from courtwatch import credentials
from courtwatch.alerts import AlertStore
from courtwatch.application import Courtwatch
from courtwatch.gazetteer import immigration_courts
from courtwatch.infrastructure.config import ConfigError, Settings
from courtwatch.infrastructure.database import (
    Database,
    bound_application_waits,
    close_pools,
    resolve_database,
    stop_embedded_server,
)
from courtwatch.members import MemberStore
from courtwatch.sealed import SealedDetails
from courtwatch.services import Services
from projections.background import Background
from projections.trends import publishing


def connect_database(settings: Settings) -> Database:
    """Find or start PostgreSQL and make sure courtwatch's own tables exist.

    A data folder that cannot be written (read-only, full, not a folder) is
    a setting to fix, said in one line rather than a traceback.
    """
    try:
        if settings.database_url is None:
            check_data_folder(settings.data_dir)
        database = resolve_database(settings.database_url, settings.data_dir)
    except OSError as error:
        raise ConfigError(_data_folder_problem(settings, error)) from None
    except Exception as error:
        if settings.database_url is None and _is_storage_error(error):
            raise ConfigError(_data_folder_problem(settings, error)) from None
        raise
    database = database.with_timeout(settings.database_timeout_seconds)
    credentials.install(database)
    MemberStore(database).install()
    AlertStore(database).install()
    return database


# PostgreSQL's initdb needs ~40 MB and each WAL segment is 16 MB: with less
# free space than this the embedded server fails in ways that say less.
MIN_FREE_BYTES = 64 * 1024 * 1024


def check_data_folder(data_dir: Path) -> None:
    """Fail now, plainly, if the data folder cannot be created, written or has no room."""
    import os
    import shutil

    data_dir.mkdir(parents=True, exist_ok=True)
    probe = data_dir / f".write-probe-{os.getpid()}"
    try:
        with probe.open("wb") as handle:
            handle.write(b"courtwatch")
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        probe.unlink(missing_ok=True)
    free = shutil.disk_usage(data_dir).free
    if free < MIN_FREE_BYTES:
        raise OSError(
            errno.ENOSPC,
            f"only {free // (1024 * 1024)} MB free, courtwatch needs at least "
            f"{MIN_FREE_BYTES // (1024 * 1024)} MB",
        )


def _is_storage_error(error: BaseException) -> bool:
    """The embedded server failed to start because of its disk (initdb or pg_ctl said so)."""
    import subprocess

    return isinstance(error, subprocess.CalledProcessError | subprocess.TimeoutExpired)


def _data_folder_problem(settings: Settings, error: BaseException) -> str:
    where = settings.data_dir.resolve()
    lines = str(error).splitlines()
    reason = getattr(error, "strerror", None) or (lines[0] if lines else "")
    if isinstance(error, OSError) and error.filename:
        reason = f"{reason} ({error.filename})"
    return (
        f"cannot use the data folder {where} (COURTWATCH_DATA_DIR): {reason or type(error).__name__}."
        " It must be a writable folder with free space."
    )


def bootstrap(settings: Settings | None = None, database: Database | None = None) -> Services:
    settings = settings or Settings.from_env()
    if database is None:
        database = connect_database(settings)
    else:
        credentials.install(database)
        MemberStore(database).install()
        AlertStore(database).install()
    # Created at start-up, so the summary pages work before the first publication.
    publishing.install(database)
    app = Courtwatch(env=database.eventsourcing_env(), secret=credentials.server_secret(database))
    bound_application_waits(app, database.timeout)  # a request never waits on an outage
    immigration_courts()  # place the courts by ZIP now, not during the first report
    members = MemberStore(
        database,
        session_idle=timedelta(hours=settings.session_idle_hours),
        session_lifetime=timedelta(days=settings.session_max_days),
    )
    try:
        sealed = SealedDetails.open(database, app, settings)
    except BaseException:
        app.close()  # a refused key file must not leave the event store's pool open
        raise
    return Services(
        settings=settings,
        database=database,
        app=app,
        members=members,
        sealed=sealed,
        alerts=AlertStore(database),
    )


def shutdown(services: Services) -> None:
    """Close what ``bootstrap`` opened; the embedded PostgreSQL stops with its last user."""
    services.close()
    close_pools()
    if services.settings.database_url is None:
        stop_embedded_server(services.settings.data_dir)


def background(services: Services, *, run_projections: bool = True) -> Background:
    """The background work of the process that runs the projections (none otherwise)."""
    return Background(services.database, services.settings, enabled=run_projections)
