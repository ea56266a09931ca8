"""The GraphQL endpoint: strawberry's ASGI view with our context, limits, error shape and JSON."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from datetime import timedelta
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
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from core import metrics
from core.errors import AppError
from core.settings import Settings
from resolvers.deps import Caller, Services
from resolvers.loaders import Loaders
from schema import build_schema
from schema.context import Context
from schema.errors import format_error
from schema.limits import QueryLimits, too_complex
from schema.rules import credential_fields, one_credential_field_error
from server.graphiql import graphiql_page
from server.graphql_live import LiveConnection, sign_in_connection
from server.graphql_media import (
    is_request_error,
    mark_request_error,
    negotiated,
    wants_graphql_response,
)
from server.graphql_requests import (
    check_media_type,
    is_subscription,
    plain_json,
    refusal,
    replay,
    single_operation,
)
from server.media_type import JSON, is_json
from server.persisted import PersistedOperations
from server.responses import error_response


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = LiveConnection

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
            allow_queries_via_get=True,  # persisted queries only: see execute_single
            # Subscriptions only: graphql-transport-ws, and GraphQL over SSE (distinct
            # connections). WebSocket pages from other origins than CORS_ORIGINS are refused.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            allowed_origins=settings.cors_origins,
            max_subscriptions_per_connection=settings.live_subscriptions_per_user,
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self.timeout = settings.graphql_timeout
        self.persisted = PersistedOperations(settings)
        self.connections_per_user = settings.live_connections_per_user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Single JSON operations over POST (what every client sends) take a short path;
        anything else, or anything unusual about one, goes through strawberry's full view.
        `graphql_http_path_total{path}` counts which one answered."""
        if scope["type"] == "websocket":
            with ExitStack() as held:  # what the connection holds, given back when it ends
                scope.setdefault("state", {})["held"] = held
                await super().__call__(scope, receive, send)
            return
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
        except AppError as exc:  # no document to run (server/persisted.py)
            response = error_response(scope, exc)
        await negotiated(scope, response)(scope, receive, send)

    async def _single_json_post(self, request: Request) -> Response:
        """What `strawberry.http.AsyncBaseHTTPView.run` does for one JSON operation over POST,
        without the steps that cannot apply to it (subscriptions, multipart, IDE, GET rules):
        they were 15 % of a `me` request's CPU. Bodies it does not recognise as one well-formed
        operation are replayed to the full view, so every refusal stays strawberry's own."""
        body = await request.body()
        operation = single_operation(body)
        if operation is None:
            return await self.run(Request(request.scope, replay(body, request.receive)))
        query, variables, operation_name, extensions = operation
        services, caller = request.app.state.services, request.scope["state"]["caller"]
        query = await self.persisted.document(services, caller, query, extensions)
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
            return await self.run(
                Request(request.scope, replay(body, request.receive))
            )  # strawberry's words
        if not isinstance(result, ExecutionResult):  # the schema has no streaming operations
            raise TypeError(f"unexpected {type(result).__name__} for a single JSON operation")
        metrics.GRAPHQL_PATHS.labels("short").inc()
        response_data = await self.process_result(request, result)
        return self.create_response(response_data, sub_response)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page: assets from this server, so it works offline under a strict CSP."""
        return graphiql_page()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        """One per HTTP request, or one per WebSocket connection (its caller may change once,
        in `on_ws_connect`)."""
        services: Services = request.app.state.services
        caller: Caller = request.scope["state"]["caller"]
        return Context(
            services=services,
            caller=caller,
            loaders=Loaders.for_request(services, caller),
            request=request,
            response=response if isinstance(response, Response) else Response(),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """`connection_init`: see `server.graphql_live.sign_in_connection`."""
        held: ExitStack = context.request.scope["state"]["held"]
        await sign_in_connection(context, held, self.connections_per_user)
        return UnsetType()  # the one UNSET: a bare `connection_ack`

    async def parse_http_body(self, request: Any) -> Any:
        """A POST body is read only when its Content-Type is JSON as a media type (see
        `server.media_type`); strawberry's own test is a substring one."""
        if request.method == "POST" and not is_json(request.content_type):
            raise HTTPException(415, "Unsupported Content-Type: send application/json")
        # strawberry streams (SSE) whatever a request holds when its Accept names
        # text/event-stream, which urql's default does for every query: only a subscription
        # streams here; queries, mutations and batches are answered as one JSON document.
        # The document is parsed once more only when the client accepts a stream.
        data = await super().parse_http_body(_JSONTyped(request))  # type: ignore[arg-type]
        transport = self._get_stream_transport_from_headers(request.headers)
        if (
            transport is not None
            and isinstance(data, GraphQLRequestData)
            and is_subscription(data.query, data.operation_name)
        ):
            data.protocol = transport.protocol
        return data

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

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """One operation, its document persisted or checked first (server/persisted.py), stopped
        after GRAPHQL_TIMEOUT seconds, and never a subscription (one runs over SSE or a WebSocket;
        as one answer it would fail inside). Over GET only a persisted query runs, by its hash
        alone (a mutation: 405); a document never travels in a URL."""
        method = request_adapter.method
        persisted = isinstance(request_data.extensions, dict) and (
            "persistedQuery" in request_data.extensions
        )
        if method == "GET" and (not persisted or request_data.query is not None):
            raise HTTPException(400, "queries are not allowed when using GET")
        metrics.GRAPHQL_PATHS.labels("full").inc()
        request_data.query = await self.persisted.document(
            context.services, context.caller, request_data.query, request_data.extensions
        )
        allowed = _POST_OPERATIONS if method == "POST" else _GET_OPERATIONS
        try:
            async with asyncio.timeout(self.timeout):
                return await self.schema.execute(
                    request_data.query,
                    root_value=root_value,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=request_data.extensions,
                )
        except TimeoutError:
            error = too_complex(f"Query execution exceeded {self.timeout:g} seconds")
            return ExecutionResult(data=None, errors=[error])
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            if method == "GET":
                raise HTTPException(405, "mutations are not allowed when using GET") from exc
            raise HTTPException(400, exc.as_http_error_reason(method)) from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's GET, not for a persisted query sent over GET."""
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {}
        if is_request_error(result) and wants_graphql_response(request.scope):
            mark_request_error(request.scope)  # a 4xx with no `data` entry (GraphQL over HTTP)
        else:
            data["data"] = result.data
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


# What one POST may run and answer at once (the short path too, whatever Accept says): a
# subscription streams (SSE, WebSocket) or is refused. GET runs persisted queries only.
_POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
_GET_OPERATIONS = frozenset({OperationType.QUERY})


class _JSONTyped:
    """A request adapter whose JSON Content-Type (any case, any parameters) reads exactly
    `application/json`, for strawberry's substring test (other types are left as they are),
    and which hides Accept from strawberry's choice of a stream transport."""

    def __init__(self, request: Any) -> None:
        self._request = request
        self.content_type = JSON if is_json(request.content_type) else request.content_type
        # Without Accept, strawberry reads every request as plain HTTP (see parse_http_body).
        self.headers = {k: v for k, v in request.headers.items() if k.lower() != "accept"}

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
