"""Request ids: echo a sane `X-Request-ID` or make one; every response and log line carries it."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from core.request_context import REQUEST_ID
from server.middleware.http_only import HTTPMiddleware

_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", "-"))


class RequestIdMiddleware(HTTPMiddleware):
    scope_types = frozenset({"http", "websocket"})  # a live connection's log lines carry one too

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if _SAFE.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message.setdefault("headers", [])
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)  # every log line of the request carries it
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
