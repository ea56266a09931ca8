"""The GraphQL endpoint: strawberry's ASGI view with our context, error shape and JSON encoder."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from resolvers.deps import Caller, Services
from resolvers.loaders import Loaders
from schema.context import Context
from schema.errors import format_error


class GraphQLView(GraphQL[Context, None]):
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
        return orjson.loads(data)
