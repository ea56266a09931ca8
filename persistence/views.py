"""Read models: what a read hands out instead of an ORM row (writes keep the row).

A `UserView` is plain, frozen values, attached to no session and never holding the password
hash, so a caller never has to guess whether an object is attached or which columns it carries.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, func

from core.etags import etag_of
from persistence.models import User


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as every read shows it (me, user, users pages, createdBy, cached rows, and the
    answer of a write as the transports receive it)."""

    id: int
    name: str
    email: str
    role: str
    is_active: bool
    token_version: int
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    created_by: int | None
    email_verified: bool
    last_login_at: datetime | None
    mfa_enabled: bool

    @property
    def etag(self) -> str:
        """The strong validator both transports send: it changes on every write."""
        return etag_of(self.id, self.version)

    @classmethod
    def of(cls, row: User) -> UserView:
        """The view of an ORM row, as a write answers it."""
        return cls(*(getattr(row, name) for name in VIEW_FIELDS))

    def redacted(self, *, deleted_at: bool, created_by: bool) -> UserView:
        """This view with the named fields blanked (None)."""
        changes: dict[str, Any] = {}
        if deleted_at and self.deleted_at is not None:
            changes["deleted_at"] = None
        if created_by and self.created_by is not None:
            changes["created_by"] = None
        return replace(self, **changes) if changes else self


VIEW_FIELDS = tuple(f.name for f in fields(UserView))
# The columns of a view, in its fields' order: a row of them is `UserView(*row)`.
VIEW_COLUMNS = tuple(User.__table__.c[name] for name in VIEW_FIELDS)
# The fields stored as UTC datetimes and as booleans (0/1 in both databases).
DATE_FIELDS = ("created_at", "updated_at", "deleted_at", "last_login_at")
_DATES_AT = tuple(VIEW_FIELDS.index(name) for name in DATE_FIELDS)
_BOOLS_AT = tuple(i for i, f in enumerate(fields(UserView)) if f.type in (bool, "bool"))


def packed_view() -> ColumnElement[Any]:
    """A view's columns as one JSON array column (`json_array` in MySQL, MariaDB and SQLite).

    For the token check of every request: the driver parses a descriptor and a converter per
    result column of every query, in Python, which made thirteen columns cost more than the
    rest of the statement; one column and one `orjson.loads` cost ~10 % less a `me` request
    (bench/README.md)."""
    return func.json_array(*VIEW_COLUMNS)


def view_of_row(row: Any) -> UserView:
    """The view of a driver's row of `VIEW_COLUMNS` (no type processing: MySQL's naive
    datetimes, SQLite's text, 0/1 for booleans): what a typed `execute` would read."""
    values = list(row)
    for at in _DATES_AT:
        value = values[at]
        if value is not None:
            if value.__class__ is str:
                value = datetime.fromisoformat(value)
            values[at] = value.replace(tzinfo=UTC)
    for at in _BOOLS_AT:
        values[at] = bool(values[at])
    return UserView(*values)


def unpacked_view(packed: str | bytes) -> UserView:
    """The view of a `packed_view()` value: the same values as a row of `VIEW_COLUMNS` reads."""
    values = orjson.loads(packed)
    for at in _DATES_AT:  # stored naive UTC, `2026-12-01 10:00:00.123456`
        if values[at] is not None:
            values[at] = datetime.fromisoformat(values[at]).replace(tzinfo=UTC)
    for at in _BOOLS_AT:
        values[at] = bool(values[at])
    return UserView(*values)
