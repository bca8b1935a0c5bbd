"""`/healthz`: a readiness answer a load balancer can act on.

200 while PostgreSQL answers; 503 with ``{"database": "down"}`` and
``Retry-After`` while it does not, so traffic goes to a process that can
store reports. The probe is bounded: a health check never hangs either.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from web.errors import RETRY_AFTER_SECONDS, database_unavailable_errors

PROBE_TIMEOUT_SECONDS = 1.0


async def readiness(request: Request) -> Response:
    reader = request.app.state.live.reader
    try:
        await asyncio.wait_for(reader.ping(), PROBE_TIMEOUT_SECONDS)
    except database_unavailable_errors():
        return JSONResponse(
            {"status": "unavailable", "database": "down"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )
    return JSONResponse({"status": "ok", "database": "up"}, headers={"Cache-Control": "no-store"})
