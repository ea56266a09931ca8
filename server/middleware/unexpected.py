"""The innermost safety net: an unexpected exception becomes one masked, logged 500.

Innermost, so the response still passes through every other middleware (request id, security
headers, metrics); and handled here, so Starlette does not re-raise it for uvicorn to log twice.
A client that went away mid-request is not an error of ours: one info line, no answer.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive, Scope, Send

from server.error_handlers import unexpected_error
from server.middleware.http_only import HTTPMiddleware
from server.middleware.request_id import request_id_of

log = logging.getLogger("app.errors")


class UnexpectedErrorMiddleware(HTTPMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.info("client disconnected during request %s", request_id_of(scope))
        except Exception as exc:
            if started:  # too late to answer: let the server close the connection
                raise
            response = await unexpected_error(Request(scope), exc)
            await response(scope, receive, send)
