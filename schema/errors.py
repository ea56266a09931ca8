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


def error_code(error: GraphQLError) -> str:
    """The section 4 code of a GraphQL error."""
    app_error = app_error_of(error)
    if app_error is not None:
        return app_error.code.value
    if is_unexpected(error):
        return ErrorCode.INTERNAL_ERROR.value
    # Parse, validation and variable-coercion errors: the request itself is wrong.
    if _is_graphql_core_limit(error.message):
        return ErrorCode.QUERY_TOO_COMPLEX.value
    code = (error.extensions or {}).get("code")
    return str(code) if code else ErrorCode.VALIDATION_ERROR.value


def format_error(error: GraphQLError, request_id: str) -> dict[str, Any]:
    """The client-facing form of one error, with `extensions.code` from section 4."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = error.path
    code = error_code(error)
    extensions: dict[str, Any] = {"code": code}
    app_error = app_error_of(error)
    if app_error is not None:
        formatted["message"] = app_error.message
        if app_error.details is not None:
            extensions["details"] = app_error.details
    elif code == ErrorCode.INTERNAL_ERROR.value:
        formatted["message"] = "Internal server error"
        extensions["requestId"] = request_id
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
