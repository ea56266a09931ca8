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
    elif error.original_error is None:
        # Parse and validation errors: the document itself is wrong.
        code = (error.extensions or {}).get("code") or ErrorCode.VALIDATION_ERROR.value
        extensions = {"code": code}
    else:
        formatted["message"] = "Internal server error"
        extensions = {"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id}
    formatted["extensions"] = extensions
    return formatted


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    """Log each unexpected failure once, with the request id; expected ones are not errors."""
    for error in errors:
        if error.original_error is not None and app_error_of(error) is None:
            log.error(
                "unexpected error in GraphQL request %s at %s",
                request_id,
                error.path,
                exc_info=error.original_error,
            )
