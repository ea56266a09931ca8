"""How failures look in a GraphQL response: our codes kept, everything unexpected masked."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from core.errors import AppError, ErrorCode, internal_error

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


def camel_case(name: str) -> str:
    """`retry_after` -> `retryAfter`: a detail key in GraphQL's spelling."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def graphql_extensions(error: AppError) -> dict[str, Any]:
    """`extensions` of one of our errors, the one place GraphQL spells them.

    Resolvers raise details in snake_case (the internal vocabulary); here their keys become
    camelCase (`retryAfter`, `currentEtag`). A VALIDATION_ERROR's keys are the names of the
    fields that were refused, as the caller wrote them, so they pass unchanged. A masked
    failure's request id goes beside the code (`extensions.requestId`), not in `details`.
    """
    extensions: dict[str, Any] = {"code": error.code.value}
    details = error.details
    if error.code is ErrorCode.INTERNAL_ERROR:
        extensions["requestId"] = (details or {}).get("request_id", "-")
    elif details is not None and error.code is ErrorCode.VALIDATION_ERROR:
        extensions["details"] = details
    elif details is not None:
        extensions["details"] = {camel_case(key): value for key, value in details.items()}
    return extensions


def graphql_error(error: AppError) -> dict[str, Any]:
    """One of our errors as an entry of a GraphQL `errors` list, with no location or path."""
    return {"message": error.message, "extensions": graphql_extensions(error)}


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
    if app_error is None and error_code(error) == ErrorCode.INTERNAL_ERROR.value:
        app_error = internal_error(request_id)
    if app_error is None:
        formatted["extensions"] = {"code": error_code(error)}
    else:
        formatted.update(graphql_error(app_error))
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
