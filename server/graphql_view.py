"""The GraphQL endpoint: strawberry's ASGI view with our context, limits, error shape and JSON."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, parse
from graphql.error import GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from core.settings import Settings
from resolvers.deps import Caller, Services
from resolvers.loaders import Loaders
from schema import build_schema
from schema.context import Context
from schema.errors import format_error
from schema.limits import QueryLimits, too_complex
from schema.rules import credential_fields, one_credential_field_error
from server.graphiql import graphiql_page


def limits_of(settings: Settings) -> QueryLimits:
    return QueryLimits(
        depth=settings.graphql_max_depth,
        aliases=settings.graphql_max_aliases,
        directives=settings.graphql_max_directives,
        root_fields=settings.graphql_max_root_fields,
        cost=settings.graphql_max_cost,
        tokens=settings.graphql_max_tokens,
    )


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(
                limits_of(settings),
                introspection=settings.graphql_introspection,
                batch_limit=settings.graphql_batch_limit,
            ),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=(),
        )
        self.timeout = settings.graphql_timeout

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page: assets from this server, so it works offline under a strict CSP."""
        return graphiql_page()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services: Services = request.app.state.services
        caller: Caller = request.scope["state"]["caller"]
        assert isinstance(request, Request)
        assert isinstance(response, Response)
        return Context(
            services=services,
            caller=caller,
            loaders=Loaders.for_request(services),
            request=request,
            response=response,
        )

    async def execute_operation(
        self,
        request: Any,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        """Batches (when enabled) may not carry credential fields: one attempt per request."""
        if isinstance(request_data, list) and _batch_has_credentials(request_data):
            return [
                ExecutionResult(data=None, errors=[one_credential_field_error()])
                for _ in request_data
            ]
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """One operation, stopped after GRAPHQL_TIMEOUT seconds."""
        try:
            async with asyncio.timeout(self.timeout):
                return await super().execute_single(*args, **kwargs)
        except TimeoutError:
            error = too_complex(f"Query execution exceeded {self.timeout:g} seconds")
            return ExecutionResult(data=None, errors=[error])

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            request_id = str(request.scope.get("state", {}).get("request_id", "-"))
            data["errors"] = [format_error(error, request_id) for error in result.errors]
        if result.extensions:
            data["extensions"] = result.extensions
        return data

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> Any:
        """A request body must be an object (or, when batching, a list of objects)."""
        value = orjson.loads(data)
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, dict) for item in items):
            raise HTTPException(400, "The request body must be a JSON object")
        return value


def _batch_has_credentials(batch: list[GraphQLRequestData]) -> bool:
    total = 0
    for item in batch:
        try:
            total += credential_fields(parse(item.query or "", max_tokens=10_000))
        except (GraphQLSyntaxError, GraphQLError):
            continue  # executed alone, it fails on its own
    return total > 0
