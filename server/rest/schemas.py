"""JSON Schemas of the REST shapes: request specs, user, tokens, pages, jobs, health, envelopes."""

from __future__ import annotations

from typing import Any

from core.errors import ErrorCode
from core.rbac import ROLES
from server.rest.fields import FieldSpec, field_specs

_JSON_TYPES = {str: "string", int: "integer", bool: "boolean"}


def field_schema(f: FieldSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES[f.kind]}
    rule = f.rule
    if rule.choices:
        schema["enum"] = list(rule.choices)
    if rule.minimum is not None:
        schema["minimum"] = rule.minimum
    if rule.maximum is not None:
        schema["maximum"] = rule.maximum
    if not f.required and f.default is not None:
        schema["default"] = f.default
    if rule.description:
        schema["description"] = rule.description
    return schema


def object_schema(spec: type[Any]) -> dict[str, Any]:
    """A body spec as a closed JSON object: unknown and read-only fields are refused."""
    specs = field_specs(spec)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: field_schema(f) for f in specs},
        "additionalProperties": False,
    }
    required = [f.name for f in specs if f.required]
    if required:
        schema["required"] = required
    return schema


def envelope_schema(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["success", "data", "error"],
        "properties": {"success": {"const": True}, "data": data, "error": {"type": "null"}},
    }


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


_MOMENT = {"type": "string", "format": "date-time"}

_USER_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "email": {"type": "string", "format": "email"},
    "role": {"type": "string", "enum": list(ROLES)},
    "is_active": {"type": "boolean"},
    "version": {"type": "integer", "description": "Bumps on every write"},
    "created_at": _MOMENT,
    "updated_at": _MOMENT,
    "created_by": {"type": ["integer", "null"]},
    "deleted_at": {**_MOMENT, "type": ["string", "null"], "description": "Admins only"},
}

_JOB_STATUS = {"type": "string", "enum": ["queued", "started", "finished", "failed"]}
_JOB_PROPERTIES: dict[str, Any] = {
    "job_id": {"type": "string"},
    "status": _JOB_STATUS,
    "row_count": {"type": ["integer", "null"], "description": "Once finished"},
    "download_url": {
        "type": ["string", "null"],
        "description": "A path on this server, while the finished file is kept",
    },
    "error": {"type": ["string", "null"], "description": "Once failed"},
    "created_at": _MOMENT,
    "finished_at": {**_MOMENT, "type": ["string", "null"]},
}

_HEALTH_PROPERTIES: dict[str, Any] = {
    "status": {"type": "string", "enum": ["ok", "degraded"]},
    "database": {"type": "string", "enum": ["ok", "down"]},
    "cache": {"type": "string", "enum": ["ok", "down", "in-process"]},
    "queue": {"type": "string", "enum": ["rq", "in-process", "down"]},
}
COMPONENT_SCHEMAS: dict[str, Any] = {
    "User": {
        "type": "object",
        "required": [name for name in _USER_PROPERTIES if name != "deleted_at"],
        "properties": _USER_PROPERTIES,
    },
    "TokenPair": {
        "type": "object",
        "required": ["access_token", "refresh_token", "token_type", "expires_in"],
        "properties": {
            "access_token": {"type": "string"},
            "refresh_token": {"type": "string"},
            "token_type": {"const": "bearer"},
            "expires_in": {"type": "integer", "description": "Seconds"},
        },
    },
    "UserPage": {
        "type": "object",
        "required": ["items", "meta"],
        "properties": {
            "items": {"type": "array", "items": ref("User")},
            "meta": {
                "type": "object",
                "required": ["page", "per_page", "total", "pages", "sort", "sort_by"],
                "properties": {name: {"type": "integer"} for name in ("per_page", "total", "pages")}
                | {
                    "page": {
                        "type": ["integer", "null"],
                        "description": "null on a page asked for by cursor (`after`)",
                    },
                    "sort": {"type": "string"},
                    "sort_by": {"type": "string"},
                    "next_cursor": {
                        "type": ["string", "null"],
                        "description": "Pass as `after` for the next page; null on the last",
                    },
                },
            },
        },
    },
    "ExportAccepted": {
        "type": "object",
        "required": ["job_id", "status"],
        "properties": {"job_id": {"type": "string"}, "status": _JOB_STATUS},
    },
    "ExportJob": {
        "type": "object",
        "required": [*_JOB_PROPERTIES],
        "properties": _JOB_PROPERTIES,
    },
    "Health": {
        "type": "object",
        "required": ["status", "database", "cache", "queue"],
        "properties": _HEALTH_PROPERTIES,
    },
    "Readiness": {
        "type": "object",
        "required": ["status", "database", "cache", "queue"],
        "properties": {**_HEALTH_PROPERTIES, "status": {"const": "ready"}},
    },
    "Error": {
        "type": "object",
        "required": ["success", "data", "error"],
        "properties": {
            "success": {"const": False},
            "data": {"type": "null"},
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "enum": [code.value for code in ErrorCode]},
                    "message": {"type": "string"},
                    "details": {"type": ["object", "null"]},
                },
            },
        },
    },
}
