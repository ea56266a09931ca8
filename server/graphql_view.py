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
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
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


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(
                QueryLimits.of(settings),
                introspection=settings.graphql_introspection,
                batch_limit=settings.graphql_batch_limit,
            ),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=(),
        )
        self.timeout = settings.graphql_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Single JSON operations over POST (what every client sends) take a short path;
        anything else, or anything unusual about one, goes through strawberry's full view."""
        if scope["type"] == "http" and scope["method"] == "POST" and _plain_json(scope):
            await self._single_json_post(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def _single_json_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What `strawberry.http.AsyncBaseHTTPView.run` does for one JSON operation over POST,
        without the steps that cannot apply to it (subscriptions, multipart, IDE, GET rules):
        they were 15 % of a `me` request's CPU. Bodies it does not recognise as one well-formed
        operation are replayed to the full view, so every refusal stays strawberry's own."""
        request = Request(scope, receive)
        body = await request.body()
        operation = _single_operation(body)
        if operation is None:
            await super().__call__(scope, _replay(body), send)
            return
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
        except (CannotGetOperationTypeError, InvalidOperationTypeError):
            await super().__call__(scope, _replay(body), send)  # strawberry's 400, its words
            return
        if not isinstance(result, ExecutionResult):  # the schema has no streaming operations
            raise TypeError(f"unexpected {type(result).__name__} for a single JSON operation")
        response_data = await self.process_result(request, result)
        await self.create_response(response_data, sub_response)(scope, receive, send)

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


_POST_OPERATIONS = OperationType.from_http("POST")
_STREAMING = (b"multipart/", b"text/event-stream")


def _plain_json(scope: Scope) -> bool:
    """A JSON body, and an answer wanted as one JSON document (not a stream)."""
    content_type = accept = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"accept":
            accept = value
    return b"application/json" in content_type.lower() and not any(
        kind in accept.lower() for kind in _STREAMING
    )


def _single_operation(body: bytes) -> tuple[str, dict[str, Any] | None, str | None, Any] | None:
    """`(query, variables, operationName, extensions)` of a body holding one well-formed
    operation, else None (the full view then answers it, refusals included)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    query, variables = data.get("query"), data.get("variables")
    name, extensions = data.get("operationName"), data.get("extensions")
    if (
        not isinstance(query, str)
        or not isinstance(variables, dict | None)
        or not isinstance(name, str | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return query, variables, name, extensions


def _replay(body: bytes) -> Receive:
    """A `receive` that hands the already-read body to another reader."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _batch_has_credentials(batch: list[GraphQLRequestData]) -> bool:
    total = 0
    for item in batch:
        try:
            total += credential_fields(parse(item.query or "", max_tokens=10_000))
        except (GraphQLSyntaxError, GraphQLError):
            continue  # executed alone, it fails on its own
    return total > 0
