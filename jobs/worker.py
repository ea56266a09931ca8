"""The worker composition root: one RQ worker on the exports queue, with its settings.

Started by `python manage.py worker`. On start it sweeps the export table once, so jobs accepted
while Redis or every worker was down are queued again (the API's periodic sweep does the same).
RQ finishes the current job on SIGTERM (warm shutdown); a second signal stops it at once. It
serves its own `/metrics` on WORKER_METRICS_PORT (see jobs/metrics.py).
"""

from __future__ import annotations

import asyncio
import logging

from core.settings import Settings
from resolvers.bootstrap import bootstrap
from resolvers.exports import sweep
from server.logging_setup import configure_logging

log = logging.getLogger("app.worker")


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
    worker = MeteredWorker([queue], connection=connection)
    try:
        worker.work(burst=burst, with_scheduler=False)
    finally:
        if metrics_server is not None:
            metrics_server.should_exit = True
    return 0
