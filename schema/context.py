"""The typed per-request GraphQL context: services, the caller, and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.types import Info as _Info

from resolvers.deps import Caller, Services
from resolvers.loaders import Loaders


@dataclass(slots=True)
class Context:
    services: Services
    caller: Caller
    loaders: Loaders
    request: HTTPConnection  # the HTTP request, or the WebSocket of a live connection
    response: Response
    # A WebSocket connection's `connection_init` payload (strawberry sets it).
    connection_params: dict[str, object] | None = None


Info = _Info[Context, None]
