"""Legacy routes declared as operations: method, path, access, what they accept and answer.

An endpoint receives the request and, when its operation declares one, the parsed body or query
spec; the declarations are also what an OpenAPI generator reads. An operation without an
endpoint is routed by the app itself and declared only to be documented.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core.errors import validation_error
from resolvers.deps import Caller, Services
from server.rest.bodies import parse_body, parse_query, read_json

Endpoint = Callable[..., Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    endpoint: Endpoint | None  # None: the app routes it (see `server.app`)
    summary: str
    access: Literal["public", "signed-in", "admin"] = "public"
    status: int = 200
    body: type[Any] | None = None  # with `query` too: a body, or else the query string
    query: type[Any] | None = None
    returns: str | None = None  # the component schema of `data`; None for `data: null`
    headers: tuple[str, ...] = ()  # conditional request headers it honours
    refusals: tuple[int, ...] = ()  # error statuses beyond those its access and inputs imply
    description: str = ""  # what the summary leaves out
    media_type: str = "application/json"  # of the success answer
    attachment: str | None = None  # the file name a download is offered under


def routes_of(operations: Iterable[Operation]) -> list[BaseRoute]:
    """One route per path, in declaration order, so a wrong method gets 405 with every `Allow`."""
    by_path: dict[str, dict[str, Operation]] = {}
    for operation in operations:
        if operation.endpoint is not None:
            by_path.setdefault(operation.path, {})[operation.method] = operation
    return [
        Route(path, _dispatch(methods), methods=list(methods), name=f"rest:{path}")
        for path, methods in by_path.items()
    ]


def _dispatch(methods: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        operation = methods["GET" if request.method == "HEAD" else request.method]
        assert operation.endpoint is not None  # `routes_of` routes only these
        if operation.body is not None and (operation.query is None or await request.body()):
            if operation.query is not None and request.query_params:
                raise validation_error(
                    {"query": ["Send a JSON body or query parameters, not both"]}
                )
            body = parse_body(operation.body, await read_json(request))
            return await operation.endpoint(request, body)
        if operation.query is not None:
            query = parse_query(operation.query, request.query_params)
            return await operation.endpoint(request, query)
        return await operation.endpoint(request)

    return endpoint


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def caller_of(request: Request) -> Caller:
    """Who is asking, as the authentication middleware resolved it."""
    caller: Caller = request.scope["state"]["caller"]
    return caller
