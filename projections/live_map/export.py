"""Every public report of a date range, read in batches, a pooled connection per batch.

The GeoJSON download has no row cap, so it must not hold the whole answer in
memory: :func:`public_reports_between` yields a few hundred rows at a time,
walking ``map_reports`` in (observed_at, report_id) order from where the last
batch ended. It holds no connection between batches: the response waits in
flow control for as long as a client takes to read, and a client that stops
reading must not keep a connection of the live map's small pool (ten of them
would stop every first paint of the public map). The price is one snapshot per
batch instead of one for the whole download: a report changed meanwhile is
read as it is when its batch is read. Only what the public map shows is read
(``PUBLIC_REPORT``: no running watch shift, and ``REPORT_COLUMNS``: no members'
names); the coordinates are the same ones the public map draws.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from uuid import UUID

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
    after: tuple[datetime, UUID] | None = None
    while True:
        # The reader's own bounded wait for a pooled connection (same package).
        async with reader._acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {REPORT_COLUMNS} FROM map_reports "
                f"WHERE observed_at >= $1 AND observed_at < $2 AND {PUBLIC_REPORT} "
                "AND ($3::text IS NULL OR courthouse_code = $3) "
                "AND ($4::timestamptz IS NULL OR (observed_at, report_id) > ($4, $5::uuid)) "
                "ORDER BY observed_at, report_id LIMIT $6",
                start,
                end,
                courthouse,
                None if after is None else after[0],
                None if after is None else after[1],
                batch,
            )
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        # Inside [start, end) the selected observed_at is the stored one (never clamped).
        after = (rows[-1]["observed_at"], rows[-1]["report_id"])
