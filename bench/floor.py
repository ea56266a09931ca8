"""The floor: a raw Starlette handler running the product's SQL and orjson, and nothing else.

No GraphQL, no ORM, no middleware, no authentication, no cache, no access log: what is left is
the HTTP server, the database round trips and the JSON encoding, which every other scenario pays
too. The SQL is the text SQLAlchemy sends for the users page (`persistence.users.page_query`,
compiled at start-up, and the count), for the `createdBy` batch (`persistence.users.get_many`) and for one user by id
(`persistence.users.get`), run through the same driver (aiomysql or aiosqlite) with autocommit.

Routes:
- `GET /users?per_page=N&page=P` — count + page + the createdBy batch, in the GraphQL answer's
  shape (`items { id name email role isActive createdAt createdBy { id name } } pageInfo`);
  `&shape=rest` skips the createdBy batch and answers in the legacy REST envelope.
- `GET /me?id=N` — one user by id.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from persistence.db import async_url
from persistence.user_listing import UserQuery, page_query

_OFFSET, _LIMIT = 987_654_321, 123_456_789  # stand-ins, swapped for a page's values

# Every column but the password hash, in table order: what the product's page statement reads.
COLUMNS = (
    "users.id, users.name, users.email, users.{role}, users.is_active, "
    "users.token_version, users.version, users.created_at, users.updated_at, users.deleted_at, "
    "users.created_by"
)
ID, NAME, EMAIL, ROLE, ACTIVE, _TV, VERSION, CREATED, UPDATED, DELETED, CREATED_BY = range(11)


class Runner(Protocol):
    async def fetch(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]: ...
    async def run_many(
        self, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[tuple[Any, ...]]]: ...
    async def close(self) -> None: ...


class MySQLRunner:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, database_url: str) -> MySQLRunner:
        import aiomysql

        url = make_url(database_url)
        pool = await aiomysql.create_pool(
            host=url.host or "127.0.0.1",
            port=url.port or 3306,
            user=url.username or "root",
            password=url.password or "",
            db=url.database or "",
            charset="utf8mb4",
            autocommit=True,
            minsize=1,
            maxsize=10,
        )
        return cls(pool)

    async def fetch(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        return (await self.run_many([(sql, args)]))[0]

    async def run_many(
        self, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        async with self.pool.acquire() as conn, conn.cursor() as cursor:
            results = []
            for sql, args in statements:
                await cursor.execute(sql, tuple(args))
                results.append(list(await cursor.fetchall()))
            return results

    async def close(self) -> None:
        self.pool.close()
        await self.pool.wait_closed()


class SQLiteRunner:
    """A few aiosqlite connections handed out through a queue (one thread each)."""

    def __init__(self, connections: list[Any]) -> None:
        self.connections = connections
        self.free: asyncio.Queue[Any] = asyncio.Queue()
        for conn in connections:
            self.free.put_nowait(conn)

    @classmethod
    async def open(cls, database_url: str, size: int = 4) -> SQLiteRunner:
        import aiosqlite

        path = make_url(database_url).database or ""
        return cls([await aiosqlite.connect(path) for _ in range(size)])

    async def fetch(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        return (await self.run_many([(sql, args)]))[0]

    async def run_many(
        self, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        conn = await self.free.get()
        try:
            results = []
            for sql, args in statements:
                async with conn.execute(sql, tuple(args)) as cursor:
                    results.append(list(await cursor.fetchall()))
            return results
        finally:
            self.free.put_nowait(conn)

    async def close(self) -> None:
        for conn in self.connections:
            await conn.close()


class Queries:
    def __init__(self, dialect: str) -> None:
        self.mark = "%s" if dialect == "mysql" else "?"
        columns = COLUMNS.format(role="`role`" if dialect == "mysql" else "role")
        # The product's unfiltered total: the live users count (migration 0011), not count(*).
        self.count = "SELECT sum(live_user_counts.live) AS sum_1 FROM live_user_counts"
        # The page is the product's own statement, compiled once (it changes when the product's
        # does); `page_args` orders a page's limit and offset as its placeholders want them.
        compiled = page_query(UserQuery(), offset=_OFFSET, limit=_LIMIT).compile(
            dialect=mysql.dialect() if dialect == "mysql" else sqlite.dialect()
        )
        self.page = str(compiled)
        self._page_params = [compiled.params[name] for name in compiled.positiontup or ()]
        self.one = (
            f"SELECT {columns} FROM users WHERE users.id = {self.mark} AND users.deleted_at IS NULL"
        )
        self.many_prefix = f"SELECT {columns} FROM users WHERE users.id IN ("

    def page_args(self, offset: int, limit: int) -> tuple[int, ...]:
        marks = {_OFFSET: offset, _LIMIT: limit}
        return tuple(marks[value] for value in self._page_params)

    def many(self, count: int) -> str:
        return self.many_prefix + ", ".join([self.mark] * count) + ")"


def _iso(value: Any) -> str | None:
    """Dates as the product prints them: ISO 8601 in UTC with an explicit offset."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    moment: datetime = value
    return moment.replace(tzinfo=UTC).isoformat()


def create_floor_app(database_url: str) -> Starlette:
    url = async_url(database_url)
    dialect = "mysql" if url.drivername.startswith("mysql") else "sqlite"
    queries = Queries(dialect)
    state: dict[str, Runner] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runner: Runner = (
            await MySQLRunner.open(database_url)
            if dialect == "mysql"
            else await SQLiteRunner.open(database_url)
        )
        state["db"] = runner
        try:
            yield
        finally:
            await runner.close()

    async def users(request: Request) -> Response:
        per_page = int(request.query_params.get("per_page", "20"))
        page = int(request.query_params.get("page", "1"))
        rest = request.query_params.get("shape") == "rest"
        db = state["db"]
        counted, rows = await db.run_many(
            [
                (queries.count, ()),
                (queries.page, queries.page_args((page - 1) * per_page, per_page)),
            ]
        )
        total = int(counted[0][0])
        if rest:
            body: dict[str, Any] = {
                "success": True,
                "data": {
                    "items": [_rest_user(row) for row in rows],
                    "meta": {
                        "page": page,
                        "per_page": per_page,
                        "total": total,
                        "pages": -(-total // per_page),
                        "sort": "desc",
                        "sort_by": "created_at",
                    },
                },
                "error": None,
            }
            return Response(orjson.dumps(body), media_type="application/json")
        wanted = sorted({row[CREATED_BY] for row in rows if row[CREATED_BY] is not None})
        creators: dict[int, tuple[Any, ...]] = {}
        if wanted:
            creators = {row[ID]: row for row in await db.fetch(queries.many(len(wanted)), wanted)}
        items = []
        for row in rows:
            creator = creators.get(row[CREATED_BY]) if row[CREATED_BY] is not None else None
            items.append(
                {
                    "id": str(row[ID]),
                    "name": row[NAME],
                    "email": row[EMAIL],
                    "role": row[ROLE].upper(),
                    "isActive": bool(row[ACTIVE]),
                    "createdAt": _iso(row[CREATED]),
                    "createdBy": None
                    if creator is None
                    else {"id": str(creator[ID]), "name": creator[NAME]},
                }
            )
        answer = {"data": {"users": {"items": items, "pageInfo": {"total": total}}}}
        return Response(orjson.dumps(answer), media_type="application/json")

    async def me(request: Request) -> Response:
        rows = await state["db"].fetch(queries.one, (int(request.query_params["id"]),))
        row = rows[0]
        answer = {
            "data": {
                "me": {
                    "id": str(row[ID]),
                    "name": row[NAME],
                    "email": row[EMAIL],
                    "role": row[ROLE].upper(),
                }
            }
        }
        return Response(orjson.dumps(answer), media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/users", users, methods=["GET"]),
            Route("/me", me, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _rest_user(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[ID],
        "name": row[NAME],
        "email": row[EMAIL],
        "role": row[ROLE],
        "is_active": bool(row[ACTIVE]),
        "version": row[VERSION],
        "created_at": _iso(row[CREATED]),
        "updated_at": _iso(row[UPDATED]),
        "created_by": row[CREATED_BY],
        "deleted_at": _iso(row[DELETED]),
    }


def app_from_env() -> Starlette:
    return create_floor_app(os.environ["DATABASE_URL"])
