"""Security headers on every response, `Cache-Control: no-store` included.

No answer of this API may be kept by a browser or a shared cache: token pairs, accounts,
pages of users, CSV exports, and errors that quote them (a conflict's etag). So every answer is
`no-store` unless its route says otherwise; only `cacheable` path prefixes (static assets that
hold no data) are left to their validators.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.middleware.http_only import HTTPMiddleware

_BASE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# API responses never need to load anything; the IDE pages set their own policy.
_API_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeadersMiddleware(HTTPMiddleware):
    def __init__(self, app: ASGIApp, *, hsts: bool, cacheable: tuple[str, ...] = ()) -> None:
        super().__init__(app)
        self.cacheable = cacheable
        self.headers = dict(_BASE)
        if hsts:
            self.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        private = not str(scope.get("path", "")).startswith(self.cacheable)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if "text/html" not in headers.get("content-type", ""):
                    headers.setdefault("Content-Security-Policy", _API_CSP)
                if private:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
