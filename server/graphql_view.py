"""The GraphQL endpoint: strawberry's ASGI view with our context, limits, error shape and JSON."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, parse
from graphql.error import GraphQLSyntaxError
from opentelemetry.trace import Tracer
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from core.settings import Settings
from resolvers.deps import Caller, Services
from resolvers.loaders import Loaders
from schema import build_schema
from schema.context import Context
from schema.errors import format_error
from schema.limits import QueryLimits, too_complex
from schema.rules import credential_fields, one_credential_field_error
from server.graphiql import graphiql_page
from server.graphql_requests import (
    check_media_type,
    plain_json,
    refusal,
    replay,
    single_operation,
)
from server.media_type import JSON, is_json


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, settings: Settings, tracer: Tracer | None = None) -> None:
        super().__init__(
            build_schema(
                QueryLimits.of(settings),
                introspection=settings.graphql_introspection,
                batch_limit=settings.graphql_batch_limit,
                tracer=tracer,
                executor=settings.graphql_executor,
            ),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=(),
        )
        self.timeout = settings.graphql_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Single JSON operations over POST (what every client sends) take a short path;
        anything else, or anything unusual about one, goes through strawberry's full view."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        short = scope["method"] == "POST" and plain_json(scope)
        await self.answer(scope, receive, send, short_path=short)

    async def answer(self, scope: Scope, receive: Receive, send: Send, *, short_path: bool) -> None:
        """One request through the short path or the full view (a differential test holds the
        two equal); a refused request is a GraphQL error with a section 4 code, never text."""
        request = Request(scope, receive)
        try:
            check_media_type(scope)
            response = await (self._single_json_post(request) if short_path else self.run(request))
        except HTTPException as exc:
            response = refusal(scope, exc)
        await response(scope, receive, send)

    async def _single_json_post(self, request: Request) -> Response:
        """What `strawberry.http.AsyncBaseHTTPView.run` does for one JSON operation over POST,
        without the steps that cannot apply to it (subscriptions, multipart, IDE, GET rules):
        they were 15 % of a `me` request's CPU. Bodies it does not recognise as one well-formed
        operation are replayed to the full view, so every refusal stays strawberry's own."""
        body = await request.body()
        operation = single_operation(body)
        if operation is None:
            return await self.run(Request(request.scope, replay(body)))
        query, variables, operation_name, extensions = operation
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        try:
            async with asyncio.timeout(self.timeout):
                result = await self.schema.execute(
                    query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=operation_name,
                    allowed_operation_types=_POST_OPERATIONS,
                    operation_extensions=extensions,
                )
        except TimeoutError:
            error = too_complex(f"Query execution exceeded {self.timeout:g} seconds")
            result = ExecutionResult(data=None, errors=[error])
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError):
            return await self.run(Request(request.scope, replay(body)))  # strawberry's words
        if not isinstance(result, ExecutionResult):  # the schema has no streaming operations
            raise TypeError(f"unexpected {type(result).__name__} for a single JSON operation")
        response_data = await self.process_result(request, result)
        return self.create_response(response_data, sub_response)

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
            loaders=Loaders.for_request(services, caller),
            request=request,
            response=response,
        )

    async def parse_http_body(self, request: Any) -> Any:
        """A POST body is read only when its Content-Type is JSON as a media type (see
        `server.media_type`); strawberry's own test is a substring one."""
        if request.method == "POST" and not is_json(request.content_type):
            raise HTTPException(415, "Unsupported Content-Type: send application/json")
        return await super().parse_http_body(_JSONTyped(request))  # type: ignore[arg-type]

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


_POST_OPERATIONS = OperationType.from_http("POST")


class _JSONTyped:
    """A request adapter whose JSON Content-Type (any case, any parameters) reads exactly
    `application/json`, for strawberry's substring test; other types are left as they are."""

    def __init__(self, request: Any) -> None:
        self._request = request
        self.content_type = JSON if is_json(request.content_type) else request.content_type

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def _batch_has_credentials(batch: list[GraphQLRequestData]) -> bool:
    total = 0
    for item in batch:
        try:
            total += credential_fields(parse(item.query or "", max_tokens=10_000))
        except (GraphQLSyntaxError, GraphQLError):
            continue  # executed alone, it fails on its own
    return total > 0
