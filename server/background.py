"""Background work of the API process: the export and mail sweeps, the purge of ended sessions
and of audit events past retention, and the in-process export worker and mail sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable

from core.errors import AppError
from persistence.queue import InProcessQueue
from resolvers.deps import Services
from resolvers.exports import run_export, sweep
from resolvers.mail import deliver, sweep_mail
from resolvers.retention import (
    purge_ended_sessions,
    purge_ended_tickets,
    purge_old_audit_events,
)

log = logging.getLogger("app.background")


# Ended sessions are purged at start-up, then hourly: finding them scans `auth_sessions` (no
# index on their end times), which every EXPORT_SWEEP_INTERVAL would be work for nothing.
PURGE_EVERY = 3600.0
# Cancelled background work stops at its next await; the app's shutdown never waits longer.
STOP_WITHIN = 5.0


async def _sweep_forever(services: Services) -> None:
    purge_due = 0.0
    while True:
        await _guarded("export sweep", sweep(services))
        await _guarded("mail sweep", sweep_mail(services))
        if time.monotonic() >= purge_due and await _guarded(
            "session purge", purge_ended_sessions(services)
        ):
            await _guarded("MFA ticket purge", purge_ended_tickets(services))
            await _guarded("audit purge", purge_old_audit_events(services))
            purge_due = time.monotonic() + PURGE_EVERY
        await asyncio.sleep(services.settings.export_sweep_interval)


async def _guarded(what: str, work: Awaitable[object]) -> bool:
    """Run one piece of periodic work; a failure is logged and retried next interval."""
    try:
        await work
    except AppError as error:  # database down or not migrated
        log.warning("%s skipped: %s", what, error.message)
    except Exception:
        log.exception("%s failed", what)
    else:
        return True
    return False


async def _drain(services: Services, queue: InProcessQueue) -> None:
    while True:
        job_id = await queue.pending.get()
        try:
            await run_export(services, job_id)
        except Exception:  # recorded on the job row by run_export when it can be
            log.exception("in-process export %s crashed", job_id)


async def _send_mail(services: Services, queue: InProcessQueue) -> None:
    while True:
        mail_id = await queue.pending.get()
        await _guarded(f"mail {mail_id}", deliver(services, mail_id))


@contextlib.asynccontextmanager
async def background(services: Services) -> AsyncIterator[None]:
    """Run the sweeps (and the in-process worker without Redis) for the lifetime of the app."""
    tasks = [asyncio.create_task(_sweep_forever(services), name="export-sweep")]
    if isinstance(services.queue, InProcessQueue):
        tasks.append(asyncio.create_task(_drain(services, services.queue), name="export-worker"))
    if isinstance(services.mail_queue, InProcessQueue):
        tasks.append(
            asyncio.create_task(_send_mail(services, services.mail_queue), name="mail-sender")
        )
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        _, stuck = await asyncio.wait(tasks, timeout=STOP_WITHIN)
        for task in stuck:
            log.warning("background task %s did not stop within %g s", task.get_name(), STOP_WITHIN)
