"""Opaque cursors of users listings: a position in one order, safe to hand to any client.

A cursor is URL-safe base64 of `[sort_by, descending, value, id]`. It is not signed: it only
says where a page starts, grants nothing, and is checked like any other input; one made for
another order, or garbled, is a VALIDATION_ERROR on `field`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import orjson

from core.errors import AppError, ErrorCode
from persistence.user_listing import Position, UserQuery, sort_value
from persistence.views import UserView

MAX_CURSOR_LENGTH = 512


def encode(wanted: UserQuery, user: UserView) -> str:
    value = sort_value(user, wanted)
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    raw = orjson.dumps([wanted.sort_by, wanted.descending, value, user.id])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(wanted: UserQuery, cursor: str, *, field: str = "after") -> Position:
    """The position `cursor` names in `wanted`'s order, or a VALIDATION_ERROR on `field`."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_by, descending, value, user_id = orjson.loads(raw)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise _invalid(field, "Not a cursor of this listing") from None
    if sort_by != wanted.sort_by or descending is not wanted.descending:
        raise _invalid(field, "This cursor belongs to another sort order")
    if type(user_id) is not int or not 0 < user_id < 2**63:
        raise _invalid(field, "Not a cursor of this listing")
    return Position(_value(sort_by, value, field), user_id)


def _value(sort_by: str, value: Any, field: str) -> Any:
    if sort_by == "id" and type(value) is int and 0 < value < 2**63:
        return value
    if sort_by in ("name", "email") and isinstance(value, str) and len(value) <= 254:
        return value
    if sort_by == "created_at" and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid(field, "Not a cursor of this listing") from None
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    raise _invalid(field, "Not a cursor of this listing")


def _invalid(field: str, message: str) -> AppError:
    return AppError(ErrorCode.VALIDATION_ERROR, "Invalid input", {field: [message]})
