"""The OpenAPI 3.1 document of the legacy REST routes, generated from their declarations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from server.rest.fields import field_specs
from server.rest.routing import Operation
from server.rest.schemas import COMPONENT_SCHEMAS, envelope_schema, field_schema, object_schema, ref

_PATH_PARAM = re.compile(r"{(\w+)}")
_PATH_TYPES = {"user_id": "integer", "job_id": "string"}
_HEADER_NOTES = {
    "If-Match": "An ETag (quoted or bare) or `*`; a stale one is 409 and writes nothing",
    "If-None-Match": "ETags; when one is current the answer is 304 with no body",
}
_ERRORS = {
    400: "VALIDATION_ERROR: `details` maps each bad field to its messages",
    401: "MISSING_AUTH_HEADER, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED, ...",
    403: "FORBIDDEN",
    404: "USER_NOT_FOUND or NOT_FOUND",
    409: "EMAIL_EXISTS, VERSION_CONFLICT (`details.current_etag`) or LAST_ADMIN",
    415: "HTTP_ERROR: the body must be application/json",
    429: "RATE_LIMITED, with `Retry-After`",
    503: "SERVICE_UNAVAILABLE: the database (or a required Redis) does not answer in time",
}


def openapi_document(operations: Iterable[Operation], *, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _describe(operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Accounts REST compatibility API", "version": version},
        "paths": paths,
        "components": {
            "schemas": COMPONENT_SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A session's access token, or an API key (`agk_...`)",
                }
            },
        },
    }


def _describe(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": "_".join([op.method.lower(), *re.findall(r"\w+", op.path)]),
        "summary": op.summary,
        "description": f"Access: {op.access}. {op.description}".strip(),
        "tags": [op.path.split("/")[1]],
        "security": [] if op.access == "public" else [{"bearer": []}],
        "parameters": _parameters(op),
        "responses": _responses(op),
    }
    if op.body is not None:
        content = {"application/json": {"schema": object_schema(op.body)}}
        doc["requestBody"] = {"required": op.query is None, "content": content}
    return doc


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": _PATH_TYPES[name]}}
        for name in _PATH_PARAM.findall(op.path)
    ]
    if op.query is not None:
        params += [
            {"name": f.name, "in": "query", "required": f.required, "schema": field_schema(f)}
            for f in field_specs(op.query)
        ]
    params += [
        {"name": name, "in": "header", "description": _HEADER_NOTES[name], "schema": {"type": "string"}}
        for name in op.headers
    ]  # fmt: skip
    return params


def _responses(op: Operation) -> dict[str, Any]:
    success = _success(op)
    responses: dict[str, Any] = {str(op.status): success}
    if "If-None-Match" in op.headers:
        responses["304"] = {"description": "Not modified"}
    for status in _error_statuses(op):
        error = {"application/json": {"schema": ref("Error")}}
        responses[str(status)] = {"description": _ERRORS[status], "content": error}
    return responses


def _success(op: Operation) -> dict[str, Any]:
    """The envelope around `returns`, or text (a download)."""
    if op.media_type != "application/json":
        schema: dict[str, Any] = {"type": "string"}
    else:
        schema = envelope_schema(ref(op.returns) if op.returns else {"type": "null"})
    success: dict[str, Any] = {
        "description": "Success",
        "content": {op.media_type: {"schema": schema}},
    }
    headers: dict[str, Any] = {}
    if op.returns == "User":
        headers["ETag"] = {"schema": {"type": "string"}}
    if op.attachment is not None:
        disposition = f'attachment; filename="{op.attachment}"'
        headers["Content-Disposition"] = {"description": disposition, "schema": {"type": "string"}}
    if headers:
        success["headers"] = headers
    return success


def _error_statuses(op: Operation) -> list[int]:
    """The refusals every route of this kind can give, and those its declaration adds."""
    path_params = _PATH_PARAM.findall(op.path)
    checked_param = any(_PATH_TYPES[name] == "integer" for name in path_params)
    implied = {
        400: op.body is not None or op.query is not None or checked_param or bool(op.headers),
        401: op.access != "public",
        403: op.access == "admin",
        404: bool(path_params),
        409: "If-Match" in op.headers,
        415: op.body is not None,
    }
    statuses = {status for status, applies in implied.items() if applies} | set(op.refusals)
    return sorted(statuses)
