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


async def check_health(services: Services) -> HealthReport:
    """Ping the database and Redis (when configured) and report each one."""
    database = "ok" if await services.db.ping() else "down"
    if services.redis is None:
        return HealthReport(database, "in-process", "in-process")
    redis_ok = await _redis_answers(services)
    return HealthReport(database, "ok" if redis_ok else "down", "rq" if redis_ok else "down")


async def _redis_answers(services: Services) -> bool:
    assert services.redis is not None
    try:
        async with asyncio.timeout(services.settings.redis_timeout * 2):
            return bool(await services.redis.ping())
    except Exception:  # any failure means "down" for the report
        return False
