"""Admin CSV exports: a synchronous stream, and jobs that are written first and never lost."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

from core import csv_export, metrics
from core.audit import AuditAction
from core.errors import AppError, ErrorCode
from persistence import exports as jobs_repo
from persistence import users as users_repo
from persistence.audit_events import AuditQuery
from persistence.models import ExportJob
from persistence.users import UserQuery
from resolvers import audit_events
from resolvers.access import require_admin
from resolvers.audit_log import record, record_alone
from resolvers.deps import Caller, Services

log = logging.getLogger("app.exports")
HEARTBEAT_EVERY = 25  # batches


def file_name(job_id: str) -> str:
    """The name a job's CSV is stored under, on every storage backend."""
    return f"{job_id}.csv"


def download_path(job_id: str) -> str:
    """The server path a finished job's CSV is downloaded from (the REST route's template too)."""
    return f"/admin/jobs/{job_id}/download"


def download_url(job: ExportJob) -> str | None:
    return download_path(job.id) if job.status == "finished" and job.file_name else None


async def stream_users_csv(
    services: Services, caller: Caller, *, query: UserQuery
) -> AsyncIterator[bytes]:
    """The CSV of the filtered users, produced a bounded batch at a time."""
    require_admin(caller)
    await record_alone(
        services,
        caller,
        AuditAction.EXPORT_DOWNLOADED,
        details={"kind": "users", "job_id": None, "filter": _filter_of(query)},
    )
    return _csv_chunks(services, query)


async def _csv_chunks(services: Services, query: UserQuery) -> AsyncIterator[bytes]:
    yield csv_export.encode([], header=True)
    async for batch in _batches(services, query):
        yield csv_export.encode(batch)


async def _batches(services: Services, query: UserQuery) -> AsyncIterator[list[tuple[str, ...]]]:
    """CSV rows of the filtered users, one short transaction per batch."""
    after_id = 0
    while True:
        async with services.db.transaction() as session:
            batch = await users_repo.export_batch(
                session, query, after_id=after_id, limit=services.settings.export_batch_size
            )
        if not batch:
            return
        yield [csv_export.row(*r) for r in batch]
        after_id = batch[-1][0]


def _filter_of(query: UserQuery | AuditQuery) -> dict[str, Any]:
    if isinstance(query, AuditQuery):
        return audit_events.query_json(query)
    return dataclasses.asdict(query)


async def request_export(
    services: Services, caller: Caller, *, query: UserQuery | AuditQuery
) -> ExportJob:
    """Record the job (the acceptance), then hand it to the queue; a failed hand-off is retried.
    A `UserQuery` exports users, an `AuditQuery` the audit events it matches."""
    principal = require_admin(caller)
    now = services.clock.now()
    kind = "audit" if isinstance(query, AuditQuery) else "users"
    job = ExportJob(
        id=uuid.uuid4().hex,
        status="queued",
        kind=kind,
        attempts=0,
        created_at=now,
        requested_by=principal.user_id,
        filter_json=json.dumps(_filter_of(query), sort_keys=True),
    )
    async with services.db.transaction() as session:
        await jobs_repo.insert(session, job)
        await record(
            session,
            caller,
            AuditAction.EXPORT_REQUESTED,
            details={"kind": kind, "job_id": job.id, "filter": _filter_of(query)},
            at=now,
        )
    metrics.EXPORT_JOBS.labels("queued").inc()
    await _enqueue(services, job.id)
    return job


async def request_audit_export(
    services: Services, caller: Caller, *, filter: audit_events.AuditFilter
) -> ExportJob:
    """A CSV export job of the audit events `filter` matches (admins; the filter validated)."""
    require_admin(caller)
    query = audit_events.check_filter(filter)
    return await request_export(services, caller, query=query)


async def get_job(services: Services, caller: Caller, *, job_id: str) -> ExportJob:
    require_admin(caller)
    async with services.db.transaction() as session:
        job = await jobs_repo.get(session, job_id.strip()[:64])
    if job is None:
        raise AppError(ErrorCode.NOT_FOUND, "Export job not found")
    return job


async def job_download(
    services: Services, caller: Caller, *, job_id: str
) -> tuple[str, AsyncIterator[bytes]]:
    """The finished CSV of a job (the name to offer it under: its kind and stored name; its
    bytes as a stream), from any instance; NOT_FOUND while unfinished or after retention
    removed it."""
    job = await get_job(services, caller, job_id=job_id)
    stream = None
    if job.status == "finished" and job.file_name:
        stream = await services.exports.open(job.file_name)
    if stream is None:
        raise AppError(ErrorCode.NOT_FOUND, "Export file not available")
    await record_alone(
        services,
        caller,
        AuditAction.EXPORT_DOWNLOADED,
        details={"kind": job.kind, "job_id": job.id},
    )
    kind = "audit-events" if job.kind == "audit" else "users"
    return f"{kind}-{job.file_name}", stream


async def run_export(services: Services, job_id: str) -> str | None:
    """Run one job if it is still to be run; the status it ends in (None: nothing to do)."""
    async with services.db.transaction() as session:
        if not await jobs_repo.claim(session, job_id, services.clock.now()):
            return None
        job = await jobs_repo.get(session, job_id)
    assert job is not None
    await services.progress.publish(job_id)
    try:
        return await _run_claimed(services, job)
    finally:  # every ending (finished, failed, queued again) is a status change to tell
        await services.progress.publish(job_id)


async def _run_claimed(services: Services, job: ExportJob) -> str:
    job_id = job.id
    try:
        rows = await _write_file(services, job)
    except Exception as exc:
        log.exception("export %s failed (attempt %s)", job_id, job.attempts)
        message = f"Export failed ({type(exc).__name__}); see the server log for job {job_id}"
        async with services.db.transaction() as session:
            status = await jobs_repo.retry_or_fail(
                session,
                job,
                now=services.clock.now(),
                error=message,
                max_attempts=services.settings.export_max_attempts,
            )
        metrics.EXPORT_JOBS.labels(status).inc()
        return status
    async with services.db.transaction() as session:
        await jobs_repo.finish(
            session,
            job_id,
            now=services.clock.now(),
            row_count=rows,
            file_name=file_name(job_id),
        )
    metrics.EXPORT_JOBS.labels("finished").inc()
    return "finished"


async def _write_file(services: Services, job: ExportJob) -> int:
    """Store the CSV, a batch at a time, with a heartbeat every HEARTBEAT_EVERY batches."""
    columns, batches = _source(services, job)
    rows = 0
    progress = _Progress(services, job.id)

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal rows
        yield csv_export.encode([], header=True, columns=columns)
        async for number, batch in _numbered(batches):
            yield csv_export.encode(batch)
            rows += len(batch)
            await progress.rows_written(rows)
            if number % HEARTBEAT_EVERY == 0:
                async with services.db.transaction() as session:
                    await jobs_repo.heartbeat(session, job.id, services.clock.now())

    await services.exports.save(file_name(job.id), chunks())
    return rows


class _Progress:
    """Rows written so far, on the job row and as a notice to live subscribers, at most once
    per EXPORT_PROGRESS_INTERVAL (a fast export must not turn into a stream of writes)."""

    def __init__(self, services: Services, job_id: str) -> None:
        self.services, self.job_id = services, job_id
        self.every = services.settings.export_progress_interval
        self.last = time.monotonic()

    async def rows_written(self, rows: int) -> None:
        if time.monotonic() - self.last < self.every:
            return
        self.last = time.monotonic()
        async with self.services.db.transaction() as session:
            await jobs_repo.record_progress(session, self.job_id, rows)
        await self.services.progress.publish(self.job_id)


def _source(
    services: Services, job: ExportJob
) -> tuple[Sequence[str], AsyncIterator[list[tuple[str, ...]]]]:
    """The CSV columns and row batches of a job, by its kind."""
    stored = json.loads(job.filter_json)
    if job.kind == "audit":
        return audit_events.HEADER, audit_events.csv_batches(
            services, audit_events.query_of(stored)
        )
    return csv_export.HEADER, _batches(services, UserQuery(**stored))


async def _numbered(
    batches: AsyncIterator[list[tuple[str, ...]]],
) -> AsyncIterator[tuple[int, list[tuple[str, ...]]]]:
    number = 0
    async for batch in batches:
        number += 1
        yield number, batch


async def sweep(services: Services) -> None:
    """Requeue jobs whose hand-off or worker was lost, and remove files past retention."""
    settings, now = services.settings, services.clock.now()
    async with services.db.transaction() as session:
        due = await jobs_repo.due(
            session, now=now, stale_after=timedelta(seconds=settings.export_lease)
        )
        metrics.EXPORT_QUEUE_DEPTH.set(await jobs_repo.queue_depth(session))
        oldest = await jobs_repo.oldest_queued(session)
        metrics.EXPORT_QUEUE_AGE.set(0 if oldest is None else (now - oldest).total_seconds())
        lost: list[str] = []
        for job in due:
            if job.status == "started":
                lost.append(job.id)
                await jobs_repo.retry_or_fail(
                    session,
                    job,
                    now=now,
                    error="The worker was lost",
                    max_attempts=settings.export_max_attempts,
                )
        expired = await jobs_repo.expired_files(
            session, before=now - timedelta(seconds=settings.export_retention)
        )
    for job_id in lost:  # queued again or failed: their subscribers hear of it
        await services.progress.publish(job_id)
    for job in expired:  # outside that transaction: the storage may be this very database
        await services.exports.delete(job.file_name or file_name(job.id))
        async with services.db.transaction() as session:
            await jobs_repo.forget_file(session, job.id)
    for job in due:
        if job.status == "queued":
            await _enqueue(services, job.id)


async def _enqueue(services: Services, job_id: str) -> None:
    if await services.queue.enqueue(job_id):
        async with services.db.transaction() as session:
            await jobs_repo.mark_enqueued(session, job_id, services.clock.now())
