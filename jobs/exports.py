"""The RQ job: run one export by id, with resources opened for it and closed after."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from core.request_context import REQUEST_ID
from core.settings import Settings
from resolvers.bootstrap import bootstrap
from resolvers.exports import run_export
from server.tracing import instrument, job_span

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


class ExportFailed(RuntimeError):
    """The export ended FAILED after its last try: raised so RQ records the job as failed (its
    failed registry, dashboards, `rq info`). A try that will be retried returns normally: the
    retry is a new hand-off by the sweep, not RQ's."""


def run_export_job(job_id: str) -> str | None:
    """Entry point RQ calls (see persistence.queue.RQ_FUNCTION); safe to run twice."""
    from rq import get_current_job

    job = get_current_job()
    meta = job.meta if job is not None else {}
    status = asyncio.run(_run(Settings.from_env(), job_id, meta))
    if status == "failed":
        raise ExportFailed(f"export {job_id} failed after its last try; see the job's error")
    return status


async def _run(
    settings: Settings,
    job_id: str,
    meta: Mapping[str, str],
    tracing: TracerProvider | None = None,
) -> str | None:
    """With the request id and the trace of the request that queued it (`meta`)."""
    REQUEST_ID.set(meta.get("request_id"))
    with job_span(settings, "export job", meta, tracing) as provider:
        async with bootstrap(settings) as services:
            if provider is not None:
                instrument(services, provider)
            return await run_export(services, job_id)
