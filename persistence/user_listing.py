"""Listings of users: filters, stable orders, pages by number or keyset, and their counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core import paging
from core.validation import normalise_email
from persistence.models import LiveUserCount, User
from persistence.views import VIEW_COLUMNS, UserView

# Reads for display run on a Core connection (Database.reading) or an ORM session alike.
Reader = AsyncConnection | AsyncSession

AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class UserQuery:
    """Filters and order of a users page; `name`/`email` are case-insensitive substrings."""

    name: str | None = None
    email: str | None = None
    role: str | None = None
    include_deleted: bool = False
    sort_by: str = paging.DEFAULT_SORT_BY
    descending: bool = paging.DEFAULT_SORT == "desc"


_SORT_COLUMNS = {
    "id": User.id,
    "created_at": User.created_at,
    "name": User.name,
    "email": User.email,
}


def _like_part(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    return func.lower(column).like(_like_part(needle.lower()), escape="\\")


def _email_contains(needle: str) -> ColumnElement[bool]:
    """Emails are stored normalised and compared byte for byte: the needle is normalised the
    same way (an upper-case or fullwidth `JÜR` finds `jürgen@`), no function wraps the column."""
    return User.email.like(_like_part(normalise_email(needle)), escape="\\")


def filtered(query: AnySelect, wanted: UserQuery) -> AnySelect:
    if not wanted.include_deleted:
        query = query.where(User.deleted_at.is_(None))
    if wanted.name:
        query = query.where(_contains(User.name, wanted.name))
    if wanted.email:
        query = query.where(_email_contains(wanted.email))
    if wanted.role:
        query = query.where(User.role == wanted.role)
    return query


_UNIQUE_SORTS = ("id", "email")  # unique already: no tie-breaker needed


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a listing's order: the sort value and id of the row a keyset page follows."""

    value: Any
    id: int


def sort_value(user: UserView, wanted: UserQuery) -> Any:
    """The value `user` sorts by in `wanted`'s order (what a Position records)."""
    return getattr(user, wanted.sort_by)


def _order(wanted: UserQuery) -> list[Any]:
    column: Any = _SORT_COLUMNS[wanted.sort_by]
    order: list[Any] = (
        [column.desc(), User.id.desc()] if wanted.descending else [column.asc(), User.id.asc()]
    )
    return order[:1] if wanted.sort_by in _UNIQUE_SORTS else order


def _beyond(wanted: UserQuery, after: Position) -> ColumnElement[bool]:
    """Rows that come after `after` in `wanted`'s order: a range on the sort's index."""
    column: Any = _SORT_COLUMNS[wanted.sort_by]
    if wanted.descending:
        past, tie = column < after.value, User.id < after.id
    else:
        past, tie = column > after.value, User.id > after.id
    if wanted.sort_by in _UNIQUE_SORTS:
        return past  # type: ignore[no-any-return]
    return or_(past, and_(column == after.value, tie))


def page_query(
    wanted: UserQuery, *, offset: int, limit: int, after: Position | None = None
) -> AnySelect:
    """One page in a stable order: the sort column, then id (each sort has a matching index).

    With `after` (keyset), the page starts past that position: a range seek on the index, as
    cheap at row 1,000,000 as at row 1. With an OFFSET, a deferred join: the OFFSET walks ids
    only (index-only for the default order of live users), then just the page's rows are read.
    Reading whole rows while skipping made page 50,000 of 1,000,000 users take 2.9 s on MariaDB;
    the ids alone take 0.4 s (bench/README.md).
    """
    order = _order(wanted)
    ids = filtered(select(User.id), wanted)
    if after is not None:
        ids = ids.where(_beyond(wanted, after))
    ids = ids.order_by(*order).offset(offset).limit(limit)
    page_ids = ids.subquery("page_ids")
    return select(*VIEW_COLUMNS).join(page_ids, User.id == page_ids.c.id).order_by(*order)


async def page(
    reader: Reader,
    wanted: UserQuery,
    *,
    offset: int,
    limit: int,
    after: Position | None = None,
) -> list[UserView]:
    """A page of read models: Core rows cost a quarter of ORM loading, which a 100-row page
    felt (bench/README.md). By number, `driver_sql.page` reads the same rows for less."""
    query = page_query(wanted, offset=offset, limit=limit, after=after)
    return [UserView(*row) for row in await reader.execute(query)]


async def count_through(reader: Reader, wanted: UserQuery, position: Position) -> int:
    """How many matching rows come up to and including `position` (its page number's cost
    grows with the depth: an index range count)."""
    total = await reader.scalar(
        filtered(select(func.count(User.id)), wanted).where(not_(_beyond(wanted, position)))
    )
    return int(total or 0)


def unfiltered(wanted: UserQuery) -> bool:
    """Every live user, whatever the order: the total the counter rows keep."""
    return not (wanted.include_deleted or wanted.name or wanted.email or wanted.role)


async def count(reader: Reader, wanted: UserQuery) -> int:
    """The matching users: one small read of the live users count (migration 0011) when
    unfiltered, a count of the rows otherwise."""
    if unfiltered(wanted):
        total = await reader.scalar(select(func.sum(LiveUserCount.live)))
    else:
        total = await reader.scalar(filtered(select(func.count(User.id)), wanted))
    return int(total or 0)
