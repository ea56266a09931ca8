"""The RQ job: run one export by id, with resources opened for it and closed after."""

from __future__ import annotations

import asyncio

from core.settings import Settings
from resolvers.bootstrap import bootstrap
from resolvers.exports import run_export


class ExportFailed(RuntimeError):
    """The export ended FAILED after its last try: raised so RQ records the job as failed (its
    failed registry, dashboards, `rq info`). A try that will be retried returns normally: the
    retry is a new hand-off by the sweep, not RQ's."""


def run_export_job(job_id: str) -> str | None:
    """Entry point RQ calls (see persistence.queue.RQ_FUNCTION); safe to run twice."""
    status = asyncio.run(_run(Settings.from_env(), job_id))
    if status == "failed":
        raise ExportFailed(f"export {job_id} failed after its last try; see the job's error")
    return status


async def _run(settings: Settings, job_id: str) -> str | None:
    async with bootstrap(settings) as services:
        return await run_export(services, job_id)
