"""`health`: a public field that proves the whole stack answers."""

from __future__ import annotations

import strawberry

from resolvers.health import check_health
from schema.context import Info
from schema.permissions import PUBLIC, policy


@strawberry.type
class Health:
    status: str
    database: str
    cache: str
    queue: str


@strawberry.type
class HealthQuery:
    @strawberry.field(
        extensions=policy(PUBLIC), description="Backing services, as /health reports."
    )
    async def health(self, info: Info) -> Health:
        report = await check_health(info.context.services)
        return Health(
            status=report.status, database=report.database, cache=report.cache, queue=report.queue
        )
