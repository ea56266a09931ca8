"""`/health` and `/ready` (contract section 2)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from resolvers.health import check_health, is_ready
from server.draining import DRAINING
from server.responses import JSONResponse


async def health(request: Request) -> Response:
    report = await check_health(request.app.state.services)
    return JSONResponse(
        {
            "status": report.status,
            "database": report.database,
            "cache": report.cache,
            "queue": report.queue,
        }
    )


async def ready(request: Request) -> Response:
    ok = not DRAINING.is_set() and await is_ready(request.app.state.services)
    return JSONResponse(
        {"status": "ready" if ok else "unavailable"}, status_code=200 if ok else 503
    )
