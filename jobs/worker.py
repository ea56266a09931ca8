"""The worker composition root: one RQ worker on the exports queue, with its settings.

Started by `python manage.py worker`. On start it sweeps the export table once, so jobs accepted
while Redis or every worker was down are queued again (the API's periodic sweep does the same).
RQ finishes the current job on SIGTERM (warm shutdown); a second signal stops it at once. It
serves its own `/metrics` on WORKER_METRICS_PORT (see jobs/metrics.py).
`manage.py worker --check` is the container's health check: it asks Redis whether a worker of
this host has sent its heartbeat lately, which a hung or dead worker does not.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import UTC, datetime, timedelta

from core.settings import Settings
from resolvers.bootstrap import bootstrap
from resolvers.exports import sweep
from server.logging_setup import configure_logging

log = logging.getLogger("app.worker")
# Seconds a worker's registration lives without a heartbeat. An idle RQ worker beats every
# WORKER_TTL - 15 s and a busy one every 30 s, so a live worker is never older than this.
WORKER_TTL = 60


async def _sweep_once(settings: Settings) -> None:
    async with bootstrap(settings) as services:
        await sweep(services)


def main(settings: Settings, *, burst: bool = False) -> int:
    """Run the worker until stopped (or, with `burst`, until the queue is empty)."""
    configure_logging(settings)
    if not settings.redis_url:
        log.info("REDIS_URL is not set: exports run on the API's in-process worker; nothing to do")
        return 0
    import redis
    from rq import Queue

    from jobs.metrics import MeteredWorker, start_metrics_server

    try:
        metrics_server = start_metrics_server(settings)
    except RuntimeError as exc:
        log.error("%s", exc)
        return 1
    connection = redis.Redis.from_url(settings.redis_url)
    asyncio.run(_sweep_once(settings))
    queue = Queue(settings.rq_queue, connection=connection)
    worker = MeteredWorker([queue], connection=connection, worker_ttl=WORKER_TTL)
    try:
        worker.work(burst=burst, with_scheduler=False)
    finally:
        if metrics_server is not None:
            metrics_server.should_exit = True
    return 0


def healthy(settings: Settings, *, hostname: str | None = None) -> bool:
    """Whether a worker on this host (its hostname) is registered with a recent heartbeat."""
    if not settings.redis_url:
        return False
    import redis
    from rq import Worker

    host = hostname or socket.gethostname()
    oldest = datetime.now(UTC) - timedelta(seconds=WORKER_TTL)
    with redis.Redis.from_url(settings.redis_url, socket_timeout=2) as connection:
        workers = Worker.all(connection=connection)
    return any(
        worker.hostname == host
        and worker.last_heartbeat is not None
        and worker.last_heartbeat.replace(tzinfo=worker.last_heartbeat.tzinfo or UTC) >= oldest
        for worker in workers
    )
