"""The export-job table: every state change is one conditional UPDATE, safe to repeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import ExportJob


async def insert(session: AsyncSession, job: ExportJob) -> None:
    session.add(job)
    await session.flush()


async def get(session: AsyncSession, job_id: str) -> ExportJob | None:
    return await session.get(ExportJob, job_id)


async def _update(session: AsyncSession, job_id: str, *conditions: Any, **values: Any) -> bool:
    result = await session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def mark_enqueued(session: AsyncSession, job_id: str, now: datetime) -> None:
    await _update(session, job_id, ExportJob.status == "queued", enqueued_at=now)


async def claim(session: AsyncSession, job_id: str, now: datetime) -> bool:
    """QUEUED → STARTED for exactly one runner; duplicates in the queue find nothing to do.

    `not_before` only gates when the sweep hands a retry to the queue, not who may claim it.
    """
    return await _update(
        session,
        job_id,
        ExportJob.status == "queued",
        status="started",
        attempts=ExportJob.attempts + 1,
        started_at=now,
        heartbeat_at=now,
        rows_done=0,
    )


async def record_progress(session: AsyncSession, job_id: str, rows_done: int) -> None:
    await _update(session, job_id, ExportJob.status == "started", rows_done=rows_done)


async def heartbeat(session: AsyncSession, job_id: str, now: datetime) -> None:
    await _update(session, job_id, ExportJob.status == "started", heartbeat_at=now)


async def finish(
    session: AsyncSession, job_id: str, *, now: datetime, row_count: int, file_name: str
) -> None:
    await _update(
        session,
        job_id,
        ExportJob.status == "started",
        status="finished",
        finished_at=now,
        row_count=row_count,
        rows_done=row_count,
        file_name=file_name,
        error=None,
    )


async def retry_or_fail(
    session: AsyncSession, job: ExportJob, *, now: datetime, error: str, max_attempts: int
) -> str:
    """Back to QUEUED after a backoff while attempts remain, else FAILED; the new status."""
    if job.attempts >= max_attempts:
        await _update(
            session,
            job.id,
            ExportJob.status == "started",
            status="failed",
            finished_at=now,
            error=error[:2000],
        )
        return "failed"
    backoff = timedelta(seconds=5 * 2 ** (job.attempts - 1))
    await _update(
        session,
        job.id,
        ExportJob.status == "started",
        status="queued",
        not_before=now + backoff,
        enqueued_at=None,
        error=error[:2000],
    )
    return "queued"


async def due(session: AsyncSession, *, now: datetime, stale_after: timedelta) -> list[ExportJob]:
    """Jobs a sweep must act on: never enqueued or lost from the queue, or whose worker died."""
    query = (
        select(ExportJob)
        .where(
            or_(
                (ExportJob.status == "queued")
                & (or_(ExportJob.not_before.is_(None), ExportJob.not_before <= now))
                & (or_(ExportJob.enqueued_at.is_(None), ExportJob.enqueued_at < now - stale_after)),
                (ExportJob.status == "started") & (ExportJob.heartbeat_at < now - stale_after),
            )
        )
        .limit(100)
    )
    return list((await session.scalars(query)).all())


async def expired_files(session: AsyncSession, *, before: datetime) -> list[ExportJob]:
    query = (
        select(ExportJob)
        .where(
            ExportJob.status == "finished",
            ExportJob.file_name.is_not(None),
            ExportJob.finished_at < before,
        )
        .limit(100)
    )
    return list((await session.scalars(query)).all())


async def forget_file(session: AsyncSession, job_id: str) -> None:
    await _update(session, job_id, file_name=None)


async def queue_depth(session: AsyncSession) -> int:
    total = await session.scalar(
        select(func.count(ExportJob.id)).where(ExportJob.status == "queued")
    )
    return int(total or 0)


async def oldest_queued(session: AsyncSession) -> datetime | None:
    """When the longest-waiting queued job was accepted (the queue-age metric), or None."""
    oldest: datetime | None = await session.scalar(
        select(func.min(ExportJob.created_at)).where(ExportJob.status == "queued")
    )
    return oldest
