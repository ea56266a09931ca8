"""How failures look in a GraphQL response: our codes kept, everything unexpected masked."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from core.errors import AppError, ErrorCode

log = logging.getLogger("app.graphql")


def app_error_of(error: GraphQLError) -> AppError | None:
    original = error.original_error
    return original if isinstance(original, AppError) else None


def _is_graphql_core_limit(message: str) -> bool:
    """graphql-core's own limits (the parser's token cap, its introspection depth rule)."""
    return ("more than" in message and "tokens" in message) or (
        message == "Maximum introspection depth exceeded"
    )


def is_unexpected(error: GraphQLError) -> bool:
    """True for failures of ours (bugs, outages), as opposed to a client's bad request."""
    original = error.original_error
    return original is not None and not isinstance(original, (AppError, GraphQLError))


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """The client-facing form of one error, with `extensions.code` from section 4."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = error.path
    app_error = app_error_of(error)
    if app_error is not None:
        formatted["message"] = app_error.message
        extensions: dict[str, Any] = {"code": app_error.code.value}
        if app_error.details is not None:
            extensions["details"] = app_error.details
    elif not is_unexpected(error):
        # Parse, validation and variable-coercion errors: the request itself is wrong.
        code = (error.extensions or {}).get("code") or ErrorCode.VALIDATION_ERROR.value
        if _is_graphql_core_limit(error.message):
            code = ErrorCode.QUERY_TOO_COMPLEX.value
        extensions = {"code": code}
    else:
        formatted["message"] = "Internal server error"
        extensions = {"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id}
    formatted["extensions"] = extensions
    return formatted


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    """Log each unexpected failure once, with the request id; expected ones are not errors."""
    for error in errors:
        if is_unexpected(error):
            log.error(
                "unexpected error in GraphQL request %s at %s",
                request_id,
                error.path,
                exc_info=error.original_error,
            )
