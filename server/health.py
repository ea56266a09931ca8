"""`/health` and `/ready` (contract section 2), in the legacy envelope like every REST answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from core.errors import AppError, ErrorCode
from resolvers.health import READY_DB_TIMEOUT, HealthReport, check_health
from server.draining import DRAINING
from server.responses import JSONResponse, envelope


def _services(report: HealthReport, status: str) -> dict[str, str]:
    return {
        "status": status,
        "database": report.database,
        "cache": report.cache,
        "queue": report.queue,
    }


async def health(request: Request) -> Response:
    """Always 200: `status` says `degraded` when a backing service is down."""
    report = await check_health(request.app.state.services)
    return JSONResponse(envelope(_services(report, report.status)))


async def livez(request: Request) -> Response:
    """Liveness: the process answers HTTP. It touches no dependency, so an outage of MySQL or
    Redis never makes Kubernetes restart every API process at once (that is `/ready`'s job)."""
    return JSONResponse(envelope({"status": "alive"}))


async def ready(request: Request) -> Response:
    """200 while the database answers within 1 s and the server is not draining; else 503
    SERVICE_UNAVAILABLE with the same report in `details`."""
    report = await check_health(request.app.state.services, db_timeout=READY_DB_TIMEOUT)
    if not DRAINING.is_set() and report.database == "ok":
        return JSONResponse(envelope(_services(report, "ready")))
    status = "draining" if DRAINING.is_set() else "unavailable"
    error = AppError(ErrorCode.SERVICE_UNAVAILABLE, details=_services(report, status))
    return JSONResponse(envelope(error=error), status_code=error.status)
