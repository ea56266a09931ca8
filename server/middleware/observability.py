"""One structured log line and the HTTP metrics for every request, by route template."""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import metrics
from server.middleware.http_only import HTTPMiddleware
from server.tracing import name_http_span, request_span

log = logging.getLogger("app.access")
# Methods are the client's to choose: past this many series, children are looked up each time.
_MAX_SERIES = 1000


def route_template(scope: Scope) -> str:
    """The matched route's path (`/users/{id}`), never the raw path: bounded label values."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class ObservabilityMiddleware(HTTPMiddleware):
    def __init__(self, app: ASGIApp, tracing: bool = False) -> None:
        super().__init__(app)
        self.tracing = tracing
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

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
            counted, timed = self._series(method, route, status)
            counted.inc()
            timed.observe(elapsed)
            if log.isEnabledFor(logging.INFO):
                log.handle(_access_record(scope, method, route, status, elapsed))

    def _series(self, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
        """The request counter and latency histogram of one method, route and status, looked
        up once per process (prometheus' `labels()` costs a lock and a tuple on every call)."""
        key = (method, route, status)
        found = self._children.get(key)
        if found is None:
            found = (
                metrics.HTTP_REQUESTS.labels(method, route, str(status)),
                metrics.HTTP_LATENCY.labels(method, route),
            )
            if len(self._children) < _MAX_SERIES:
                self._children[key] = found
        return found


def _access_record(
    scope: Scope, method: str, route: str, status: int, elapsed: float
) -> logging.LogRecord:
    """The access line, made as `log.info` would make it less its search of the stack for the
    caller's file and line, which no formatter of ours prints (bench/README.md, `me`)."""
    state = scope.get("state", {})
    caller = state.get("caller")
    principal = getattr(getattr(caller, "principal", None), "user_id", None)
    return log.makeRecord(
        log.name,
        logging.INFO,
        __file__,
        0,
        "%s %s %s",
        (method, route, status),
        None,
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
