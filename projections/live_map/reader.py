"""Queries of the live map view, for the web processes (asyncpg).

The view's writer is ``projection.py``; everything that reads ``map_reports``
and ``activity_feed`` is here, so the tables have one owner. Reads that must
agree with a feed position run in one REPEATABLE READ snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from courtwatch.infrastructure.database import Database
from projections.live_map.projection import COLUMNS, DDL, MEMBERS_ONLY_EVENTS, NOTIFY_CHANNEL

__all__ = ["NOTIFY_CHANNEL", "LiveMapReader", "MapFilter"]

# Everything here is for the public map. A watch shift still running says that
# someone is at that courthouse right now, and since when: it is left out of
# every public read (first paint, snapshot, feed) until it has ended. The feed
# row of its Ended event then brings it in. (Precise running shifts are for
# signed-in members, later.)
PUBLIC_REPORT = "NOT (kind = 'watch_shift' AND details->>'ended_at' IS NULL)"
# Members' presence events (someone is going, the response is over) change
# nothing the public map shows: their feed rows are for the console only.
_MEMBERS_ONLY = ", ".join(f"'{name}'" for name in MEMBERS_ONLY_EVENTS)
PUBLIC_FEED_ROW = (
    "NOT (state->>'kind' = 'watch_shift' AND state->'details'->>'ended_at' IS NULL)"
    f" AND event NOT IN ({_MEMBERS_ONLY})"
)
# The console's triage queue: reports still needing a member's verdict and not
# resolved. Watch shifts are presence, not claims: nothing to verify.
NEEDS_VERDICT = ("unverified", "corroborated", "amended_after_verdict", "disputed")
# The public reads never name these columns' values (projection.py says why).
PUBLIC_COLUMNS = tuple(c for c in COLUMNS if c not in ("claimed_by", "on_scene_by", "resolved_by"))


@dataclass(frozen=True)
class MapFilter:
    """What the map's first paint may be narrowed to; None means "any"."""

    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    kinds: Sequence[str] = ()
    since: datetime | None = None
    courthouse: str | None = None


# PostgreSQL keeps times asyncpg cannot decode (it raises OverflowError outside
# Python's years 1-9999 in UTC): a stored year-1 time at +14:00 is 1 BC in UTC.
# The log may hold such a time from before intake refused it, so reads clamp it
# to the nearest instant Python can represent rather than fail every reader.
_EARLIEST = "'0001-01-01 00:00:00+00'::timestamptz"
_LATEST = "'9999-12-31 23:59:59.999999+00'::timestamptz"
_TIMES = ("observed_at", "updated_at")


def _select(columns: Sequence[str]) -> str:
    return ", ".join(
        f"least(greatest({c}, {_EARLIEST}), {_LATEST}) AS {c}" if c in _TIMES else c
        for c in columns
    )


REPORT_COLUMNS = _select(PUBLIC_COLUMNS)
CONSOLE_COLUMNS = _select(COLUMNS)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class LiveMapReader:
    """A small asyncpg pool over the live map view, plus a dedicated LISTEN connection."""

    def __init__(self, database: Database) -> None:
        self._connect_args: dict[str, Any] = dict(
            host=database.host,
            port=database.port,
            user=database.user,
            password=database.password or None,
            database=database.dbname,
        )
        self._pool: asyncpg.Pool | None = None
        # Every wait is bounded, so a database outage fails a request quickly
        # (answered 503) instead of hanging it; the pool replaces connections
        # the server closed, so reads recover by themselves when it is back.
        self._timeout = database.timeout

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "LiveMapReader.open() first"
        return self._pool

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            min_size=1,
            max_size=10,
            init=_init_connection,
            timeout=self._timeout,  # to connect
            command_timeout=max(self._timeout, 10.0),  # a first paint of 5,000 rows included
            **self._connect_args,
        )
        for statement in DDL:  # the projection may not have created its tables yet
            await self._pool.execute(statement)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def listen_connection(self) -> asyncpg.Connection:
        """A dedicated connection for LISTEN: a pooled one is UNLISTENed on release."""
        return await asyncpg.connect(timeout=self._timeout, **self._connect_args)

    def _acquire(self) -> Any:
        """A pooled connection, waiting at most the timeout for one."""
        return self.pool.acquire(timeout=self._timeout)

    async def feed_head(self) -> int:
        async with self._acquire() as conn:
            value = await conn.fetchval("SELECT coalesce(max(position), 0) FROM activity_feed")
        return int(value)

    async def feed_after(self, position: int, limit: int) -> list[asyncpg.Record]:
        """The public feed after ``position``."""
        async with self._acquire() as conn:
            return list(
                await conn.fetch(
                    "SELECT position, state FROM activity_feed WHERE position > $1 "
                    f"AND {PUBLIC_FEED_ROW} ORDER BY position LIMIT $2",
                    position,
                    limit,
                )
            )

    async def whole_feed_after(self, position: int, limit: int) -> list[asyncpg.Record]:
        """Every feed row after ``position``, each saying whether the public may see it.

        For the hub, which serves the public map and the members' console from
        one read; ``state`` holds members' names, so only the console's encoder
        may read them.
        """
        async with self._acquire() as conn:
            return list(
                await conn.fetch(
                    f"SELECT position, event, state, ({PUBLIC_FEED_ROW}) AS public "
                    "FROM activity_feed WHERE position > $1 ORDER BY position LIMIT $2",
                    position,
                    limit,
                )
            )

    async def console_feed_after(self, position: int, limit: int) -> list[asyncpg.Record]:
        """The console's feed after ``position`` (every event, members' names included)."""
        async with self._acquire() as conn:
            return list(
                await conn.fetch(
                    "SELECT position, event, state FROM activity_feed WHERE position > $1 "
                    "ORDER BY position LIMIT $2",
                    position,
                    limit,
                )
            )

    async def queue(
        self, courthouses: Sequence[str], kinds: Sequence[str], limit: int
    ) -> tuple[int, list[asyncpg.Record]]:
        """The console's triage queue: reports needing a verdict, newest first."""
        clauses = ["kind <> 'watch_shift'", "resolved_by IS NULL", "status = ANY($1)"]
        args: list[Any] = [list(NEEDS_VERDICT)]
        if courthouses:
            args.append(list(courthouses))
            clauses.append(f"courthouse_code = ANY(${len(args)})")
        if kinds:
            args.append(list(kinds))
            clauses.append(f"kind = ANY(${len(args)})")
        async with self._acquire() as conn, conn.transaction(isolation="repeatable_read"):
            position = await conn.fetchval("SELECT coalesce(max(position), 0) FROM activity_feed")
            rows = await conn.fetch(
                f"SELECT {CONSOLE_COLUMNS} FROM map_reports WHERE {' AND '.join(clauses)} "
                f"ORDER BY observed_at DESC LIMIT {int(limit)}",
                *args,
            )
        return int(position), list(rows)

    async def ping(self) -> None:
        """Raise unless the database answers within the timeout."""
        async with self._acquire() as conn:
            await conn.fetchval("SELECT 1")

    async def reports(self, where: MapFilter, limit: int) -> tuple[int, list[asyncpg.Record]]:
        """Reports matching ``where``, newest change first, with the feed position they reflect."""
        condition, args = filter_sql(where)
        async with self._acquire() as conn, conn.transaction(isolation="repeatable_read"):
            position = await conn.fetchval("SELECT coalesce(max(position), 0) FROM activity_feed")
            rows = await conn.fetch(
                f"SELECT {REPORT_COLUMNS} FROM map_reports WHERE {condition} "
                "ORDER BY map_reports.updated_at DESC "
                f"LIMIT {int(limit)}",
                *args,
            )
        return int(position), list(rows)

    def acquire(self) -> Any:
        """A pooled connection (for the other public reads of this view, clusters.py)."""
        return self._acquire()

    async def recent(self, window: timedelta, limit: int) -> tuple[int, list[asyncpg.Record]]:
        """Reports changed within ``window``, newest first, with the feed position they reflect."""
        async with self._acquire() as conn, conn.transaction(isolation="repeatable_read"):
            position = await conn.fetchval("SELECT coalesce(max(position), 0) FROM activity_feed")
            rows = await conn.fetch(
                f"SELECT {REPORT_COLUMNS} FROM map_reports "
                "WHERE map_reports.updated_at >= now() - $1::interval "
                f"AND {PUBLIC_REPORT} ORDER BY map_reports.updated_at DESC LIMIT $2",
                window,
                limit,
            )
        return int(position), list(rows)


def filter_sql(where: MapFilter) -> tuple[str, list[Any]]:
    """The WHERE condition of a public map read and its arguments ($1, $2, ...).

    One definition for the markers and the clusters, so both count the same reports.
    """
    clauses: list[str] = [PUBLIC_REPORT]
    args: list[Any] = []
    if where.bbox:
        west, south, east, north = where.bbox
        args += [south, north]
        clauses.append(f"lat BETWEEN ${len(args) - 1} AND ${len(args)}")
        if west <= east:
            args += [west, east]
            clauses.append(f"lon BETWEEN ${len(args) - 1} AND ${len(args)}")
    if where.kinds:
        args.append(list(where.kinds))
        clauses.append(f"kind = ANY(${len(args)})")
    if where.since is not None:
        args.append(where.since)
        clauses.append(f"updated_at >= ${len(args)}")
    if where.courthouse:
        args.append(where.courthouse)
        clauses.append(f"courthouse_code = ${len(args)}")
    return " AND ".join(clauses), args
