"""The shape every middleware of ours shares: pure ASGI, acting on HTTP requests only."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HTTPMiddleware:
    """Pure ASGI middleware that handles HTTP requests (`handle`) and passes every other scope
    (lifespan, websocket) through untouched; one that WebSocket handshakes need too (a request
    id, the caller) says so in `scope_types`."""

    scope_types: frozenset[str] = frozenset({"http"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in self.scope_types:
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
