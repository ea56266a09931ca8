"""Refuse request bodies over `MAX_CONTENT_LENGTH`, declared or streamed, with 413."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import AppError, ErrorCode
from server.middleware.http_only import HTTPMiddleware
from server.responses import error_response


class _TooLarge(AppError):
    """Raised from `receive`; an AppError, so whichever layer catches it answers 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            ErrorCode.PAYLOAD_TOO_LARGE, f"Request body is larger than {max_bytes} bytes"
        )


class BodyLimitMiddleware(HTTPMiddleware):
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(scope, _TooLarge(self.max_bytes))(scope, receive, send)
