"""How the server answers failures outside GraphQL: the one status table, 404/405, and a mask.

GraphQL shapes its own errors; `error_response` keeps the GraphQL shape on `/graphql` for the
rare failure that reaches these handlers from there (a middleware outage, a wrong method).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ExceptionHandler

from core.errors import AppError, ErrorCode, internal_error
from server.middleware.request_id import request_id_of
from server.responses import error_response

log = logging.getLogger("app.errors")


async def app_error(request: Request, exc: Exception) -> Response:
    """An expected failure: its status from the table, `Retry-After` when rate limited."""
    assert isinstance(exc, AppError)
    headers: dict[str, str] = {}
    details = exc.details or {}
    retry_after = details.get("retry_after")
    if exc.code is ErrorCode.RATE_LIMITED and retry_after is not None:
        headers["Retry-After"] = str(retry_after)
        # The IETF draft's fields (draft-ietf-httpapi-ratelimit-headers), for this refusal.
        headers["RateLimit-Limit"] = str(details.get("limit", ""))
        headers["RateLimit-Remaining"] = "0"
        headers["RateLimit-Reset"] = str(retry_after)
        headers["RateLimit-Policy"] = f"{details.get('limit')};w={details.get('window')}"
    return error_response(request.scope, exc, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's routing refusals: unknown route → NOT_FOUND, the rest → HTTP_ERROR."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = AppError(ErrorCode.NOT_FOUND, "No such route")
    else:
        error = AppError(ErrorCode.HTTP_ERROR, exc.detail, status=exc.status_code)
    return error_response(request.scope, error, dict(exc.headers or {}))


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Anything else: logged with the request id, answered with a generic INTERNAL_ERROR.

    This runs outside the other middleware, so it sets the request id header itself.
    """
    request_id = request_id_of(request.scope)
    if isinstance(exc, AppError):  # raised by a middleware, outside the routes
        response = await app_error(request, exc)
    else:
        log.error("unexpected error in request %s", request_id, exc_info=exc)
        response = error_response(request.scope, internal_error(request_id))
    response.headers["X-Request-ID"] = request_id
    return response


EXCEPTION_HANDLERS: Mapping[Any, ExceptionHandler] = {
    AppError: app_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
