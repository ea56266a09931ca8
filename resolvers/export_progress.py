"""Following an export live: the job as it is, then again each time its status or its count of
rows written changes, until it finished or failed (the `exportJob` subscription, both transports)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from persistence.models import ExportJob
from resolvers.access import require_admin
from resolvers.deps import Caller, Services
from resolvers.exports import get_job

ENDED = ("finished", "failed")


async def follow_export(
    services: Services, caller: Caller, *, job_id: str
) -> AsyncIterator[ExportJob]:
    """ADMIN; NOT_FOUND for an unknown job, RATE_LIMITED beyond LIVE_SUBSCRIPTIONS_PER_USER."""
    principal = require_admin(caller)
    limit = services.settings.live_subscriptions_per_user
    with services.live.slot("subscription", principal.user_id, limit):
        # Listening before the first read: a change between the two is not missed.
        async with services.progress.listen(job_id.strip()[:64]) as listener:
            job = await get_job(services, caller, job_id=job_id)
            yield job
            while job.status not in ENDED:
                # A notice may be lost (Redis restarting): the row is re-read now and then anyway.
                await listener.wait(services.settings.live_poll_interval)
                seen, job = job, await get_job(services, caller, job_id=job_id)
                if (job.status, job.rows_done) != (seen.status, seen.rows_done):
                    yield job
