"""Reading a GraphQL HTTP request before either path runs it, and refusing it as GraphQL does.

The short path takes a body only when `single_operation` recognises one well-formed operation;
everything else is replayed to strawberry's full view, whose refusals `refusal` turns into
GraphQL errors with section 4 codes instead of strawberry's plain-text answers.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from core.errors import AppError, ErrorCode
from server.media_type import is_json
from server.responses import error_response

# strawberry's refusals by status; the rest (400) are requests that are not well-formed.
_REFUSALS = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.HTTP_ERROR, 415: ErrorCode.HTTP_ERROR}


def header(scope: Scope, wanted: bytes) -> bytes:
    """A request header's value, lower-cased (b"" when absent)."""
    return next((value.lower() for name, value in scope["headers"] if name == wanted), b"")


def plain_json(scope: Scope) -> bool:
    """A JSON body. What the answer is (one JSON document, or a stream) depends on the
    operation, not on `Accept`: urql's default names `text/event-stream` and `multipart/mixed`
    beside the JSON types for every query it sends. The short path runs queries and mutations
    (the schema has no incremental delivery) and hands anything else to the full view."""
    return is_json(header(scope, b"content-type"))


def check_media_type(scope: Scope) -> None:
    """A POST must carry JSON. strawberry answers another media type with 400; the contract's
    answer is 415 HTTP_ERROR, as on the REST routes."""
    if scope["method"] == "POST" and not is_json(header(scope, b"content-type")):
        raise HTTPException(415, "Content-Type must be application/json")


def single_operation(
    body: bytes,
) -> tuple[str | None, dict[str, Any] | None, str | None, Any] | None:
    """`(query, variables, operationName, extensions)` of a body holding one well-formed
    operation, else None (the full view then answers it, refusals included). The query may be
    absent when `extensions` names a persisted one (server/persisted.py)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    query, variables = data.get("query"), data.get("variables")
    name, extensions = data.get("operationName"), data.get("extensions")
    persisted = isinstance(extensions, dict) and "persistedQuery" in extensions
    if (
        not (isinstance(query, str) or (persisted and query is None))
        or not (query or persisted)  # strawberry raises MissingQueryError: the full view's 400
        or not isinstance(variables, dict | None)
        or not isinstance(name, str | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return query, variables, name, extensions


def replay(body: bytes, then: Receive) -> Receive:
    """A `receive` that hands the already-read body to another reader, then the connection's own
    messages: a stream (a subscription over SSE) sees its client leave, not an instant one."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive


def refusal(scope: Scope, exc: HTTPException) -> Response:
    """strawberry's refusal of a request (its status and words) as a GraphQL error."""
    code = _REFUSALS.get(exc.status_code, ErrorCode.VALIDATION_ERROR)
    return error_response(scope, AppError(code, exc.reason, status=exc.status_code))


def is_subscription(query: str | None, operation_name: str | None) -> bool:
    """Whether the document's chosen operation is a subscription: only those stream over SSE.
    strawberry picks SSE for any request whose Accept names `text/event-stream`, which urql's
    default does for every query; a query or mutation is answered as one JSON document. A
    document by hash only (persisted) or one that does not parse is not a stream."""
    if query is None:
        return False
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    return len(chosen) == 1 and chosen[0].operation is OperationType.SUBSCRIPTION
