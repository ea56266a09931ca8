"""`/metrics` for Prometheus: open in development, behind a token in production.

Served by prometheus-client's own ASGI app, so content negotiation (the text format, or
OpenMetrics when a scraper asks for it) and gzip are its. With PROMETHEUS_MULTIPROC_DIR set, the
values of every process sharing that folder are aggregated. The API and the worker serve it alike.
"""

from __future__ import annotations

import hmac
import os

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, make_asgi_app
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Receive, Scope, Send

from core.errors import AppError, ErrorCode
from core.settings import Settings
from server.responses import error_response


def _registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return DEFAULT_REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def _bearer(scope: Scope) -> str:
    header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    return header.decode("latin-1").removeprefix("Bearer ").strip()


class MetricsApp:
    """With METRICS_TOKEN set, only its bearer may read; in production without a token it is not
    served (set a token, or keep the port off the load balancer)."""

    def __init__(self, settings: Settings) -> None:
        self.token = settings.metrics_token
        self.hidden = settings.is_prod and self.token is None
        self.exposition: ASGIApp = make_asgi_app(_registry())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = self._refusal(scope)
        if refused is None:
            await self.exposition(scope, receive, send)
            return
        await error_response(scope, refused)(scope, receive, send)

    def _refusal(self, scope: Scope) -> AppError | None:
        if self.token is not None:
            if not hmac.compare_digest(_bearer(scope).encode(), self.token.encode()):
                return AppError(ErrorCode.FORBIDDEN)
            return None
        return AppError(ErrorCode.NOT_FOUND) if self.hidden else None
