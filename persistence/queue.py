"""Where accepted jobs (exports, mails) go to run: RQ when Redis is configured, this process
otherwise.

Either way the job's row is the source of truth; the queue only carries ids, so a lost queue
entry is found again by a sweep and nothing accepted is ever lost.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from opentelemetry import propagate

from core.request_context import REQUEST_ID
from core.settings import Settings

log = logging.getLogger("app.queue")
RQ_FUNCTION = "jobs.exports.run_export_job"
RQ_MAIL_FUNCTION = "jobs.mail.send_mail_job"


class JobQueue(Protocol):
    async def enqueue(self, job_id: str) -> bool: ...


class InProcessQueue:
    """An asyncio queue drained by a task the server starts in its lifespan."""

    def __init__(self) -> None:
        self.pending: asyncio.Queue[str] = asyncio.Queue()

    async def enqueue(self, job_id: str) -> bool:
        self.pending.put_nowait(job_id)
        return True


class RQQueue:
    def __init__(self, settings: Settings, function: str = RQ_FUNCTION) -> None:
        import redis
        from rq import Queue

        assert settings.redis_url is not None
        connection = redis.Redis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=settings.redis_timeout
        )
        self._queue = Queue(settings.rq_queue, connection=connection)
        self._function = function
        self._timeout = max(600, settings.export_lease * 10)

    async def enqueue(self, job_id: str) -> bool:
        """Hand the id to RQ; False when Redis is unavailable (the sweep retries later)."""
        try:
            await asyncio.to_thread(
                self._queue.enqueue,
                self._function,
                job_id,
                meta=job_meta(),
                job_timeout=self._timeout,
                result_ttl=3600,
                failure_ttl=86_400,
            )
        except Exception as exc:  # Redis down: the row stays QUEUED and is requeued
            log.warning("could not enqueue %s %s: %s", self._function, job_id, type(exc).__name__)
            return False
        return True


def job_meta() -> dict[str, str]:
    """What joins a job to the request that queued it: its request id for the log lines, and
    the trace context (W3C `traceparent`, none when untraced) for the job's span."""
    meta: dict[str, str] = {}
    propagate.inject(meta)
    request_id = REQUEST_ID.get()
    if request_id is not None:
        meta["request_id"] = request_id
    return meta


def open_queue(settings: Settings, function: str = RQ_FUNCTION) -> JobQueue:
    """The queue of one kind of job (`function`: what an RQ worker runs for each id)."""
    return RQQueue(settings, function) if settings.redis_url else InProcessQueue()
