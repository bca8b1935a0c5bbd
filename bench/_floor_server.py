"""The floor for bench/live.py: asyncpg LISTEN -> raw websockets broadcast(), nothing else."""

from __future__ import annotations

import asyncio
import sys

import asyncpg
from websockets.asyncio.server import broadcast, serve


async def main(port: int, dsn_host: str, db_port: int, user: str, dbname: str) -> None:
    clients: set = set()

    async def handler(ws) -> None:  # type: ignore[no-untyped-def]
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    conn = await asyncpg.connect(host=dsn_host, port=db_port, user=user, database=dbname)
    await conn.add_listener("bench_floor", lambda *args: broadcast(clients, args[3]))
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=4096, max_queue=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
