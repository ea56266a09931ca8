"""The worker's own `/metrics`, so each worker container is scraped by itself, and the RQ worker
that keeps it truthful: each job runs in a forked work horse whose live gauges die with it."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import uvicorn
from rq import Worker
from starlette.applications import Starlette
from starlette.routing import Route

from core.metrics_dir import mark_dead
from core.settings import Settings
from server.health import livez
from server.metrics_endpoint import MetricsApp

log = logging.getLogger("app.worker")


class MeteredWorker(Worker):
    """RQ's forking worker; once a horse is gone its gauges stop counting (`mark_process_dead`)."""

    def monitor_work_horse(self, job: Any, queue: Any, execution: Any) -> None:
        horse = self.horse_pid
        try:
            super().monitor_work_horse(job, queue, execution)
        finally:
            mark_dead(horse)


def metrics_app(settings: Settings) -> Starlette:
    """`/metrics` behind the same token rule as the API's, and `/livez` for the container."""
    routes = [Route("/metrics", MetricsApp(settings), methods=["GET"])]
    return Starlette(routes=[*routes, Route("/livez", livez, methods=["GET"])])


def _run(server: uvicorn.Server) -> None:
    with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot bind: reported below
        server.run()


def start_metrics_server(settings: Settings, wait: float = 10.0) -> uvicorn.Server | None:
    """Serve `metrics_app` on WORKER_METRICS_HOST:PORT from a daemon thread (no signal handlers:
    RQ keeps its own); None when the port is 0. Raises RuntimeError when it cannot listen."""
    if settings.worker_metrics_port == 0:
        return None
    config = uvicorn.Config(
        metrics_app(settings),
        host=settings.worker_metrics_host,
        port=settings.worker_metrics_port,
        lifespan="off",
        access_log=False,
        log_config=None,
        server_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=_run, args=(server,), name="metrics-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
            raise RuntimeError(f"worker metrics: cannot listen on {address}")
        time.sleep(0.02)
    log.info("worker metrics on http://%s:%d/metrics", config.host, config.port)
    return server
