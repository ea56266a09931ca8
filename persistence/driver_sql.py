"""The hottest reads as statements compiled once and run as the driver's own SQL.

The token check of every request (`run`), a users page read by number and the `createdBy`
batch are built with SQLAlchemy like every other statement (`user_listing.page_query`, an `IN`
of ids), but each is compiled once per dialect (a bounded cache: the listing's filters, the
batch's size; a page with markers where the offset and the limit go, the batch where the ids
go), and then sent through `exec_driver_sql` with the values in their places, passed through
the bind processors of their types as `execute` would. What that skips, per request: building
the statement, its cache key, the compiled cache lookup and the result's type processing, row
by row; an uncached page of 100 users with its creators cost twice the floor's CPU through
`execute` (bench/README.md).
The text sent is the text SQLAlchemy compiles for `execute`; `views.view_of_row` turns the
driver's rows into the same views as the typed columns read (tests/test_driver_sql.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from persistence.models import User
from persistence.user_listing import UserQuery, page_query
from persistence.views import VIEW_COLUMNS, UserView, view_of_row

# Values no listing uses, compiled where the offset and the limit go (then replaced).
_OFFSET, _LIMIT = 987_654_321_001, 987_654_321_002
_ID = -987_654_321  # the marker of an id in the batch


@lru_cache(maxsize=64)
def _compiled(
    dialect: Dialect, statement: ClauseElement
) -> tuple[str, tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]]:
    """The text of a module-level statement, and each placeholder's name, value when none is
    given (a literal's), and bind processor, in the placeholders' order."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    binds = []
    for name in compiled.positiontup or ():
        kind = compiled.binds[name].type.dialect_impl(dialect)
        binds.append((name, compiled.params[name], kind.bind_processor(dialect)))
    return str(compiled), tuple(binds)


async def run(
    connection: AsyncConnection, statement: ClauseElement, values: dict[str, Any]
) -> CursorResult[Any]:
    """`connection.execute(statement, values)`, minus the building: the driver's rows, as the
    statement's columns' result types have not processed them (the statement is one made
    once, at import, and its SQL kept per dialect)."""
    sql, binds = _compiled(connection.dialect, statement)
    args = tuple(
        (process(value) if process is not None else value)
        for name, default, process in binds
        for value in (values.get(name, default),)
    )
    return await connection.exec_driver_sql(sql, args)


@lru_cache(maxsize=256)
def _page_sql(dialect: Dialect, wanted: UserQuery) -> tuple[str, tuple[Any, ...]]:
    compiled = page_query(wanted, offset=_OFFSET, limit=_LIMIT).compile(dialect=dialect)
    return str(compiled), tuple(compiled.params[name] for name in compiled.positiontup or ())


@lru_cache(maxsize=128)
def _many_sql(dialect: Dialect, count: int) -> str:
    statement = select(*VIEW_COLUMNS).where(User.id.in_([_ID] * count))
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    assert all(compiled.params[name] == _ID for name in compiled.positiontup or ())
    return str(compiled)


async def page(
    connection: AsyncConnection, wanted: UserQuery, *, offset: int, limit: int
) -> list[UserView]:
    """`user_listing.page` by number (no cursor)."""
    sql, params = _page_sql(connection.dialect, wanted)
    values = tuple(offset if p == _OFFSET else limit if p == _LIMIT else p for p in params)
    rows = await connection.exec_driver_sql(sql, values)
    return [view_of_row(row) for row in rows]


async def many(connection: AsyncConnection, ids: list[int]) -> list[UserView]:
    """The users of `ids` (distinct), deleted ones included, in no order."""
    rows = await connection.exec_driver_sql(_many_sql(connection.dialect, len(ids)), tuple(ids))
    return [view_of_row(row) for row in rows]
