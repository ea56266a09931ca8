"""Running the web process: settings from the environment, logging, and a draining shutdown.

On SIGTERM the server first reports not-ready (`/ready` → 503) for SHUTDOWN_DRAIN_SECONDS so a
load balancer stops sending traffic, then uvicorn stops accepting, finishes in-flight requests
(up to its graceful timeout) and the lifespan disposes the engine and Redis pools.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from dataclasses import dataclass
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors.multiprocess import Process

from core.metrics_dir import mark_dead, prepare_metrics_dir
from core.settings import Settings
from server.app import create_app
from server.draining import DRAINING
from server.logging_setup import configure_logging

log = logging.getLogger("app.server")


def app_factory() -> Starlette:
    """For `uvicorn --factory server.main:app_factory`: settings from each process's environment."""
    return AppFactory(Settings.from_env())()


@dataclass(frozen=True, slots=True)
class AppFactory:
    """What each worker process of `serve_workers` calls to build its app: the parent's settings,
    pickled to the child with uvicorn's config, so no worker reads the environment again."""

    settings: Settings

    def __call__(self) -> Starlette:
        configure_logging(self.settings)
        return create_app(self.settings)


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
    """A uvicorn worker process whose server drains first (built in the child process).

    uvicorn 0.54's public API has no way to choose the server of a worker: `Multiprocess` builds
    `Process(config, sockets)` by its module-level name (at start, on restart, on SIGHUP and
    SIGTTIN) and `Process.server` builds a plain `Server`. The alternatives are worse: copying the
    supervisor, or replacing uvicorn's own SIGTERM handler from inside the app."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            factory = self.config.app
            assert isinstance(factory, AppFactory)
            self._server = DrainingServer(self.config, factory.settings.shutdown_drain_seconds)
        return self._server

    def join(self) -> None:
        """The supervisor joins a worker that died (before restarting it) or stopped: its live
        gauges (pool connections in use) must stop counting in /metrics."""
        super().join()
        mark_dead(self.pid)


def uvicorn_config(
    settings: Settings, app: Starlette | AppFactory | str, host: str, port: int, workers: int = 1
) -> uvicorn.Config:
    """Proxy headers are believed only from TRUSTED_PROXIES (uvicorn trusts 127.0.0.1 by default)."""
    trusted = ",".join(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=not isinstance(app, Starlette),
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
    """Several processes, each building its app from these settings (see `AppFactory`)."""
    from uvicorn.supervisors import multiprocess

    # prometheus_client reads this variable itself, in every worker: they share metric files.
    prepare_metrics_dir(required=True)  # the CLI already did, before any metric existed
    settings = settings.with_(workers=workers)
    configure_logging(settings)
    if not settings.cache_enabled and settings.cache_ttl > 0:
        log.warning("several workers without REDIS_URL: no cache, rate limits per worker")
    config = uvicorn_config(settings, AppFactory(settings), host, port, workers)
    multiprocess.Process = DrainingProcess  # type: ignore[misc]  # why: see DrainingProcess
    multiprocess.Multiprocess(config, sockets=[config.bind_socket()]).run()
