"""Health and readiness: what each backing service answers right now."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from resolvers.deps import Services


@dataclass(frozen=True, slots=True)
class HealthReport:
    database: str  # "ok" | "down"
    cache: str  # "ok" | "down" | "in-process"
    queue: str  # "rq" | "in-process" | "down"

    @property
    def status(self) -> str:
        return "ok" if "down" not in (self.database, self.cache, self.queue) else "degraded"


# A readiness probe must answer before the prober gives up (Kubernetes: 1 s by default).
READY_DB_TIMEOUT = 1.0


async def check_health(services: Services, *, db_timeout: float | None = None) -> HealthReport:
    """Ping the database (within `db_timeout`, else DB_TIMEOUT) and Redis (when configured), at
    the same time, so the answer takes the slower of the two, not their sum."""
    if services.redis is None:
        database = "ok" if await services.db.ping(db_timeout) else "down"
        return HealthReport(database, "in-process", "in-process")
    db_ok, redis_ok = await asyncio.gather(services.db.ping(db_timeout), _redis_answers(services))
    database = "ok" if db_ok else "down"
    return HealthReport(database, "ok" if redis_ok else "down", "rq" if redis_ok else "down")


async def _redis_answers(services: Services) -> bool:
    assert services.redis is not None
    try:
        async with asyncio.timeout(services.settings.redis_timeout * 2):
            return bool(await services.redis.ping())
    except Exception:  # any failure means "down" for the report
        return False
