"""Error responses in the shape each transport expects: GraphQL errors or the legacy envelope."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Scope

from core.errors import AppError
from schema.errors import graphql_error


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def rest_error(error: AppError) -> dict[str, Any]:
    """`error` of the envelope, the one place REST spells an error: `details` keep the internal
    snake_case keys (`retry_after`, `current_etag`, a masked failure's `request_id`)."""
    return {"code": error.code.value, "message": error.message, "details": error.details}


def envelope(data: Any = None, error: AppError | None = None) -> dict[str, Any]:
    """The legacy REST envelope `{success, data, error}`."""
    if error is None:
        return {"success": True, "data": data, "error": None}
    return {"success": False, "data": None, "error": rest_error(error)}


def error_response(
    scope: Scope, error: AppError, headers: dict[str, str] | None = None
) -> Response:
    """A GraphQL-shaped error on /graphql, the legacy envelope everywhere else."""
    if scope.get("path", "").startswith("/graphql"):
        body: dict[str, Any] = {"errors": [graphql_error(error)]}
    else:
        body = envelope(error=error)
    return JSONResponse(body, status_code=error.status, headers=headers)
