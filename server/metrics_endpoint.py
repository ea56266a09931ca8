"""`/metrics` in the Prometheus text format: open in development, behind a token in production.

With PROMETHEUS_MULTIPROC_DIR set, values of every worker process are aggregated.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from core.errors import AppError, ErrorCode
from core.settings import Settings
from server.responses import error_response


def _registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return DEFAULT_REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def metrics_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint for `settings`: with METRICS_TOKEN set, only its bearer may read; in
    production without a token it is not served (scrape a separate port or set a token)."""
    token = settings.metrics_token

    async def metrics(request: Request) -> Response:
        if token is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return error_response(request.scope, AppError(ErrorCode.FORBIDDEN))
        elif settings.is_prod:
            return error_response(request.scope, AppError(ErrorCode.NOT_FOUND))
        body = generate_latest(_registry())
        return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)

    return metrics
