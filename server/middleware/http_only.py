"""The shape every middleware of ours shares: pure ASGI, acting on HTTP requests only."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send


class HTTPMiddleware:
    """Pure ASGI middleware that handles HTTP requests (`handle`) and passes every other scope
    (lifespan, websocket) through untouched; one that WebSocket handshakes need too (a request
    id, the caller) says so in `scope_types`."""

    scope_types: frozenset[str] = frozenset({"http"})
    # ASGI 3 (one call of three arguments), said outright: `__call__` is a plain function (see
    # below), so asgiref's guess, which OpenTelemetry's middleware uses, would take it for ASGI 2.
    _asgi_single_callable = True

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function handing back the coroutine to await, not a coroutine of its own: an
        # `async def` here would stay on the stack of every request, and asyncio walks the whole
        # stack of coroutines each time the request resumes after I/O (bench/README.md, `me`).
        if scope["type"] not in self.scope_types:
            return self.app(scope, receive, send)
        return self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
