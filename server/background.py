"""Background work of the API process: the export sweep, and the in-process export worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from core.errors import AppError
from persistence.queue import InProcessQueue
from resolvers.deps import Services
from resolvers.exports import run_export, sweep

log = logging.getLogger("app.background")


async def _sweep_forever(services: Services) -> None:
    while True:
        try:
            await sweep(services)
        except AppError as error:  # database down or not migrated: retried next interval
            log.warning("export sweep skipped: %s", error.message)
        except Exception:
            log.exception("export sweep failed")
        await asyncio.sleep(services.settings.export_sweep_interval)


async def _drain(services: Services, queue: InProcessQueue) -> None:
    while True:
        job_id = await queue.pending.get()
        try:
            await run_export(services, job_id)
        except Exception:  # recorded on the job row by run_export when it can be
            log.exception("in-process export %s crashed", job_id)


@contextlib.asynccontextmanager
async def background(services: Services) -> AsyncIterator[None]:
    """Run the sweep (and the in-process worker without Redis) for the lifetime of the app."""
    tasks = [asyncio.create_task(_sweep_forever(services), name="export-sweep")]
    if isinstance(services.queue, InProcessQueue):
        tasks.append(asyncio.create_task(_drain(services, services.queue), name="export-worker"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
