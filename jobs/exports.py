"""The RQ job: run one export by id, with resources opened for it and closed after."""

from __future__ import annotations

import asyncio

from core.settings import Settings
from resolvers.bootstrap import bootstrap
from resolvers.exports import run_export


def run_export_job(job_id: str) -> str | None:
    """Entry point RQ calls (see persistence.queue.RQ_FUNCTION); safe to run twice."""
    return asyncio.run(_run(Settings.from_env(), job_id))


async def _run(settings: Settings, job_id: str) -> str | None:
    async with bootstrap(settings) as services:
        return await run_export(services, job_id)
