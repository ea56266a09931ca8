"""The typed per-request GraphQL context: services, the caller, and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as _Info

from resolvers.deps import Caller, Services
from resolvers.loaders import Loaders


@dataclass(slots=True)
class Context:
    services: Services
    caller: Caller
    loaders: Loaders
    request: Request
    response: Response


Info = _Info[Context, None]
