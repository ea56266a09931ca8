"""The database: engine from settings, sessions, and a transaction that times out instead of hanging."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core import metrics
from core.errors import AppError, ErrorCode
from core.settings import Settings

_ASYNC_DRIVERS = {
    "mysql": "mysql+aiomysql",
    "mysql+pymysql": "mysql+aiomysql",
    "mysql+aiomysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
    "mariadb+pymysql": "mysql+aiomysql",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
_SYNC_DRIVERS = {
    "mysql+aiomysql": "mysql+pymysql",
    "sqlite+aiosqlite": "sqlite+pysqlite",
}


def async_url(database_url: str) -> URL:
    """The legacy `mysql+pymysql://` and `sqlite:///` URLs, served by their asyncio twins.

    aiomysql is PyMySQL driven from asyncio, so MySQL still speaks through PyMySQL.
    """
    url = make_url(database_url)
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported DATABASE_URL scheme {url.drivername!r} (use mysql or sqlite)"
        )
    url = url.set(drivername=driver)
    if driver.startswith("mysql") and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def sync_url(database_url: str) -> URL:
    """The blocking-driver form of the same URL, for Alembic and the CLI."""
    url = async_url(database_url)
    return url.set(drivername=_SYNC_DRIVERS[url.drivername])


# The values bound to a failing statement are emails, names and password hashes: SQLAlchemy puts
# them in the exception's text (and so in every log line and traceback that shows it) unless the
# engine hides them. The statement itself still shows, with its placeholders.
HIDE_PARAMETERS = True

# A pooled MySQL connection idle for longer than this is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 1.0


def create_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    """An engine that survives database restarts (idle connections are pinged before use) and
    gives up instead of hanging. `autocommit` (MySQL): every statement its own transaction, and
    no ROLLBACK when a connection goes back to the pool (`Database.reading_now`); half the pool
    (its statements are short: a connection is back before the request's other work)."""
    url = async_url(settings.database_url)
    if url.drivername.startswith("sqlite"):
        return _sqlite_engine(url, settings)
    size = max(1, settings.db_pool_size // 2) if autocommit else settings.db_pool_size
    options: dict[str, Any] = (
        {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True} if autocommit else {}
    )
    engine = create_async_engine(
        url,
        hide_parameters=HIDE_PARAMETERS,
        pool_recycle=1800,
        pool_size=size,
        max_overflow=size,
        pool_timeout=settings.db_pool_timeout,
        connect_args={"connect_timeout": max(1, int(settings.db_timeout))},
        **options,
    )
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for connections that sat idle, and only for them.

    `pool_pre_ping` pings on every checkout: one more round trip on every request, which the
    bench showed on the hottest path (the token check). A connection returned moments ago was
    alive moments ago; one that sat idle may have been dropped (a MySQL restart, `wait_timeout`,
    a proxy), so it is pinged, and a failed ping makes the pool replace it (SQLAlchemy retries a
    checkout whose event raises DisconnectionError). A connection broken while busy fails its
    statement instead; SQLAlchemy then invalidates the pool and the caller gets
    SERVICE_UNAVAILABLE once (`Database.transaction`), as with pre-ping when the database dies
    between ping and statement.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return  # just opened, or in use a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the pool opens a new connection
            raise DisconnectionError("idle connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("idle connection failed its ping")


def _sqlite_engine(url: URL, settings: Settings) -> AsyncEngine:
    if url.database and url.database != ":memory:":
        from pathlib import Path

        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        hide_parameters=HIDE_PARAMETERS,
        pool_pre_ping=True,
        connect_args={"timeout": settings.db_timeout},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


@contextmanager
def _outages_unavailable() -> Iterator[None]:
    """Database outages, hangs and an exhausted pool as SERVICE_UNAVAILABLE."""
    try:
        yield
    except (TimeoutError, PoolTimeoutError) as exc:
        raise AppError(
            ErrorCode.SERVICE_UNAVAILABLE, "The database did not answer in time"
        ) from exc
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            raise AppError(ErrorCode.SERVICE_UNAVAILABLE, "The database is unavailable") from exc
        raise


def _watch_pool(engine: AsyncEngine) -> None:
    """Connections in use, and checkouts made while the pool was full (the next one waits)."""
    pool = engine.sync_engine.pool
    size = getattr(pool, "size", lambda: 0)()

    @event.listens_for(pool, "checkout")
    def _checkout(*_: Any) -> None:
        metrics.DB_POOL_IN_USE.inc()
        if size and getattr(pool, "checkedout", lambda: 0)() >= size:
            metrics.DB_POOL_WAITS.inc()

    @event.listens_for(pool, "checkin")
    def _checkin(*_: Any) -> None:
        metrics.DB_POOL_IN_USE.dec()


@dataclass(frozen=True, slots=True)
class Database:
    """The engine and its session factory; opened by a composition root, passed down. On MySQL
    a second engine, in autocommit, serves the reads of one statement (`reading_now`)."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    timeout: float
    autocommit_engine: AsyncEngine | None = None

    @classmethod
    def open(cls, settings: Settings) -> Database:
        engine = create_engine(settings)
        _watch_pool(engine)
        autocommit = None
        if engine.dialect.name == "mysql":
            autocommit = create_engine(settings, autocommit=True)
            _watch_pool(autocommit)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        return cls(engine, sessions, settings.db_timeout, autocommit)

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine (what statement listeners and tracing attach to)."""
        return tuple(e for e in (self.engine, self.autocommit_engine) if e is not None)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back on any error.

        Database outages and hangs surface as SERVICE_UNAVAILABLE after `DB_TIMEOUT` seconds.
        """
        with _outages_unavailable():
            async with asyncio.timeout(self.timeout):
                async with self.sessions() as session, session.begin():
                    yield session

    def reading(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A Core connection for reads that need no ORM session (which cost a read 2x the CPU):
        the statements, in one snapshot, then the rollback that ends it; outages and hangs as in
        `transaction`."""
        return _connected(self.engine, self.timeout)

    def reading_now(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A Core connection for a read of one statement (or of statements that need no common
        snapshot): in autocommit on MySQL, so it sees what is committed now and costs no
        transaction (a pooled transactional connection pays a ROLLBACK round trip when it goes
        back; the token check runs on every request); `reading` on SQLite."""
        return _connected(self.autocommit_engine or self.engine, self.timeout)

    async def ping(self, within: float | None = None) -> bool:
        """True when the database answers a trivial query within the timeout (DB_TIMEOUT)."""
        try:
            async with asyncio.timeout(self.timeout if within is None else within):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure means "not ready"; the caller reports it
            return False

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()


@asynccontextmanager
async def _connected(engine: AsyncEngine, within: float) -> AsyncIterator[AsyncConnection]:
    with _outages_unavailable():
        async with asyncio.timeout(within):
            async with engine.connect() as connection:
                yield connection
