"""Running the web process: settings from the environment, logging, and a draining shutdown.

On SIGTERM the server first reports not-ready (`/ready` → 503) for SHUTDOWN_DRAIN_SECONDS so a
load balancer stops sending traffic, then uvicorn stops accepting, finishes in-flight requests
(up to its graceful timeout) and the lifespan disposes the engine and Redis pools.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import tempfile
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors.multiprocess import Process

from core.settings import Settings
from server.app import create_app
from server.draining import DRAINING
from server.logging_setup import configure_logging

log = logging.getLogger("app.server")


def app_factory() -> Starlette:
    """For `uvicorn --factory server.main:app_factory` (one call per worker process)."""
    settings = Settings.from_env()
    configure_logging(settings)
    return create_app(settings)


class DrainingServer(uvicorn.Server):
    """uvicorn that turns /ready to 503 and waits before it stops on SIGTERM/SIGINT."""

    def __init__(self, config: uvicorn.Config, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # What start-up built (modules, the schema, pools) lives as long as the process: frozen
        # out of the collector's reach, full collections stop rescanning it (see bench/README.md).
        gc.collect()
        gc.freeze()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if DRAINING.is_set() or self.drain_seconds <= 0:
            super().handle_exit(sig, frame)
            return
        DRAINING.set()
        log.info("draining for %.1f s before shutdown", self.drain_seconds)
        loop = asyncio.get_event_loop()
        loop.call_later(self.drain_seconds, super().handle_exit, sig, frame)


class DrainingProcess(Process):
    """A uvicorn worker process whose server drains first (built in the child process)."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            drain = Settings.from_env().shutdown_drain_seconds
            self._server = DrainingServer(self.config, drain)
        return self._server


def uvicorn_config(
    settings: Settings, app: Starlette | str, host: str, port: int, workers: int = 1
) -> uvicorn.Config:
    """Proxy headers are believed only from TRUSTED_PROXIES (uvicorn trusts 127.0.0.1 by default)."""
    trusted = ",".join(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=isinstance(app, str),
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or "",
        timeout_graceful_shutdown=10,
        server_header=False,
        log_config=None,
    )


def serve(settings: Settings, host: str, port: int) -> None:
    """One process: the app object is built here, with these settings."""
    configure_logging(settings)
    app = create_app(settings)
    DrainingServer(uvicorn_config(settings, app, host, port), settings.shutdown_drain_seconds).run()


def serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """Several processes: each builds its app from the environment through `app_factory`."""
    from uvicorn.supervisors import multiprocess

    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:  # workers must share their metric files
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="metrics-")
    configure_logging(settings)
    if not settings.redis_url:
        # Without Redis each worker would cache in its own memory, and one worker's write could
        # not invalidate another's copy: no cache then. Rate limits count per worker.
        os.environ["CACHE_TTL"] = "0"
        log.warning("several workers without REDIS_URL: no cache, rate limits per worker")
    config = uvicorn_config(settings, "server.main:app_factory", host, port, workers)
    # uvicorn has no hook for its worker class: its supervisor builds `Process` by module name.
    multiprocess.Process = DrainingProcess  # type: ignore[misc]
    multiprocess.Multiprocess(config, sockets=[config.bind_socket()]).run()
