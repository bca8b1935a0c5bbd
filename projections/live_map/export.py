"""Every public report of a date range, read in batches through a server-side cursor.

The GeoJSON download has no row cap, so it must not hold the whole answer in
memory: :func:`public_reports_between` walks ``map_reports`` with an asyncpg
cursor inside one REPEATABLE READ transaction (one consistent snapshot, however
long the client takes to read) and yields a few hundred rows at a time. Only
what the public map shows is read (``PUBLIC_REPORT``: no running watch shift,
and ``REPORT_COLUMNS``: no members' names); the coordinates are the same ones
the public map draws.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import asyncpg

from projections.live_map.reader import PUBLIC_REPORT, REPORT_COLUMNS, LiveMapReader

BATCH = 500


async def public_reports_between(
    reader: LiveMapReader,
    start: datetime,
    end: datetime,
    courthouse: str | None = None,
    *,
    batch: int = BATCH,
) -> AsyncGenerator[list[asyncpg.Record], None]:
    """Public reports observed in [start, end) (at one courthouse), oldest first, in batches."""
    # The reader's own bounded wait for a pooled connection (same package).
    async with (
        reader._acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        cursor = await conn.cursor(
            f"SELECT {REPORT_COLUMNS} FROM map_reports "
            f"WHERE observed_at >= $1 AND observed_at < $2 AND {PUBLIC_REPORT} "
            "AND ($3::text IS NULL OR courthouse_code = $3) "
            "ORDER BY observed_at, report_id",
            start,
            end,
            courthouse,
        )
        while rows := await cursor.fetch(batch):
            yield rows
