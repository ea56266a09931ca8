"""One structured log line and the HTTP metrics for every request, by route template."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import metrics
from server.middleware.http_only import HTTPMiddleware
from server.tracing import name_http_span, request_span

log = logging.getLogger("app.access")


def route_template(scope: Scope) -> str:
    """The matched route's path (`/users/{id}`), never the raw path: bounded label values."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class ObservabilityMiddleware(HTTPMiddleware):
    def __init__(self, app: ASGIApp, tracing: bool = False) -> None:
        super().__init__(app)
        self.tracing = tracing

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500
        span = request_span() if self.tracing else None  # before the app changes the current one

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if span is not None:  # the span ends with the body: name it now, route matched
                    name_http_span(span, scope["method"], route_template(scope))
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            elapsed = time.perf_counter() - started
            route, method = route_template(scope), scope["method"]
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(elapsed)
            state = scope.get("state", {})
            caller = state.get("caller")
            principal = getattr(getattr(caller, "principal", None), "user_id", None)
            log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "request_id": state.get("request_id"),
                    "principal_id": principal,
                    "operation": state.get("graphql_operation"),
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
