"""The live side of the GraphQL endpoint: graphql-transport-ws connections signed in at
`connection_init`, held against LIVE_CONNECTIONS_PER_USER, with errors shaped as over HTTP."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import ExitStack
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types import ExecutionResult

from core.errors import AppError
from resolvers.authn import authenticate
from resolvers.deps import Caller
from resolvers.loaders import Loaders
from schema.context import Context
from schema.errors import format_error


async def sign_in_connection(context: Context, held: ExitStack, per_user: int) -> None:
    """A token in `connection_init`'s payload (`{"Authorization": "Bearer ..."}`) wins over
    the handshake's header; without a valid one, or past `per_user` open connections of that
    user, the connection is refused (strawberry closes it with 4403 Forbidden)."""
    await sign_in_again(context)
    principal = context.caller.principal
    if principal is None:
        raise ConnectionRejectionError
    slot = context.services.live.slot("connection", principal.user_id, per_user)
    try:
        held.enter_context(slot)  # given back when the connection ends, however it ends
    except AppError as exc:
        raise ConnectionRejectionError from exc


async def sign_in_again(context: Context) -> None:
    """The connection's caller from its token, checked now: at `connection_init`, and again
    before each subscription (a session revoked or a token expired meanwhile is refused with
    its own code, as over HTTP)."""
    params = context.connection_params or {}
    token = next((v for k, v in params.items() if k.lower() == "authorization"), None)
    if not isinstance(token, str):
        token = context.request.headers.get("authorization")
    old = context.caller
    context.caller = Caller(request_id=old.request_id, ip=old.ip, user_agent=old.user_agent)
    if token is not None:
        await authenticate(context.services, context.caller, token)
    context.loaders = Loaders.for_request(context.services, context.caller)


class _Shaped(GraphQLError):
    """An error already in its client-facing form (`schema.errors.format_error`)."""

    def __init__(self, shaped: dict[str, Any]) -> None:
        super().__init__(str(shaped["message"]))
        self.shaped = shaped

    @property
    def formatted(self) -> Any:
        return self.shaped


class LiveConnection(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler; each error leaves with its section 4 code
    (and unexpected ones masked), as `GraphQLView.process_result` shapes them over HTTP."""

    async def handle_subscribe(self, message: Any) -> None:
        if self.connection_acknowledged:
            await sign_in_again(self.context)
        await super().handle_subscribe(message)

    async def _send_result_stream(
        self, operation: Operation[Context, None], result_source: Any
    ) -> None:
        await super()._send_result_stream(operation, self._shaped(result_source))

    async def _shaped(self, results: Any) -> AsyncGenerator[Any]:
        async for result in results:
            if isinstance(result, ExecutionResult) and result.errors:
                result.errors = [self._shape(error) for error in result.errors]
            yield result

    def _shape(self, error: GraphQLError) -> GraphQLError:
        if self._get_pre_execution_close_reason(error) is not None:
            return error  # a syntax error or no operation: the socket is closed with it
        return _Shaped(format_error(error, self.context.caller.request_id))
