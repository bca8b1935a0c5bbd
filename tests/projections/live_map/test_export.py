"""The GeoJSON export's reads (projections/live_map/export.py) against a client that stops reading.

The download is streamed: while a client does not read, the response waits in
flow control with the generator suspended between batches. Nothing bounds how
long a client may stay there, so the export must hold no pooled connection
across a batch: ten such clients would otherwise take the whole live-map pool
and every first paint and feed read of the public map would answer 503.
"""

from __future__ import annotations

from datetime import UTC, datetime

from courtwatch.services import Services
from projections.live_map.export import public_reports_between
from projections.live_map.reader import LiveMapReader
from tests.web.summaries.test_exports import insert, map_rows

START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)


async def test_a_client_that_stops_reading_holds_no_pooled_connection(services: Services) -> None:
    reader = LiveMapReader(services.database)
    await reader.open()  # creates the tables
    rows = map_rows(43)
    insert(services, rows)
    running = {row[0] for row in rows if row[1] == "watch_shift" and "ended_at" not in str(row[11])}
    batches = public_reports_between(reader, START, END, batch=5)
    try:
        first = await anext(batches)
        assert len(first) == 5
        # The client stops reading here: every connection of the pool is still free.
        pool_size = reader.pool.get_max_size()
        held = []
        try:
            for _ in range(pool_size):
                held.append(await reader.pool.acquire(timeout=2))
        finally:
            for conn in held:
                await reader.pool.release(conn)
        assert len(held) == pool_size
        rest = [row async for batch in batches for row in batch]
        ids = [row["report_id"] for row in [*first, *rest]]
        # Every public report once, oldest first, as the cursor gave them.
        assert sorted(ids) == sorted(row[0] for row in rows if row[0] not in running)
        assert len(set(ids)) == len(ids)
        times = [row["observed_at"] for row in [*first, *rest]]
        assert times == sorted(times)
    finally:
        await batches.aclose()  # (an old generator holding a connection would hang close())
        await reader.close()
