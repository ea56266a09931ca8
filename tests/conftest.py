"""One suite, two backends: the embedded default (SQLite, no Redis) and MySQL + Redis.

MySQL and Redis come from TEST_DATABASE_URL / TEST_REDIS_URL. When they are unset the MySQL
run is skipped, except under CI=true, where it fails: CI never counts a skip as a pass.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, event, text
from starlette.applications import Starlette

from core.settings import Settings
from persistence.db import sync_url
from persistence.migrate import upgrade
from persistence.models import Base
from resolvers.accounts import create_account
from resolvers.bootstrap import bootstrap
from server.app import create_app

TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
BACKENDS = ["embedded", "mysql"]
# The app's own background tasks (server/background.py, the in-process mail sender): statements
# they run while a test counts a request's queries are not the request's.
APP_BACKGROUND_TASKS = frozenset({"export-sweep", "mail-sender"})


def in_app_background() -> bool:
    """Whether the code running now is one of the app's background tasks, not a request."""
    task = asyncio.current_task()
    return task is not None and task.get_name() in APP_BACKGROUND_TASKS


def listen_to_sql(db: Any, listener: Callable[..., None]) -> Callable[[], None]:
    """`listener` called before every statement any engine of `db` (a `Database`) runs; the
    returned function stops it."""
    engines = [engine.sync_engine for engine in db.engines]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", listener)

    def stop() -> None:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", listener)

    return stop


def mysql_urls() -> tuple[str, str] | None:
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if database_url and redis_url:
        return database_url, redis_url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true requires TEST_DATABASE_URL and TEST_REDIS_URL (MySQL + Redis runs)")
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def mysql_database() -> tuple[str, str]:
    """The test MySQL database, dropped and migrated once per run."""
    urls = mysql_urls()
    if urls is None:
        pytest.skip("TEST_DATABASE_URL / TEST_REDIS_URL not set")
    database_url, redis_url = urls
    url = sync_url(database_url)
    engine = create_engine(url.set(database=""))
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
    engine.dispose()
    upgrade(database_url)
    return database_url, redis_url


# Kept by triggers from the other tables (migration 0011): never wiped by hand.
DERIVED_TABLES = {"live_user_counts"}


def _wipe_mysql(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in DERIVED_TABLES:
                continue  # the triggers on `users` bring it back to zero as the users go
            conn.execute(text(f"DELETE FROM `{table.name}`"))  # our own table names
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


def _flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


def base_settings(**changes: Any) -> Settings:
    defaults: dict[str, Any] = {
        "app_env": "test",
        "jwt_secret": TEST_SECRET,
        "secret_key": TEST_SECRET,
        "password_hash_profile": "fast",
        "export_dir": "",
    }
    defaults.update(changes)
    return Settings(**defaults).validate()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `mysql_only` exist only in their MySQL variant, and those marked
    `storages(...)` only on the export storages named (no skip is reported)."""
    dropped = [item for item in items if _not_collected(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def _not_collected(item: pytest.Item) -> bool:
    params = getattr(item, "callspec", None)
    if not isinstance(item, pytest.Function) or params is None:
        return False
    if item.get_closest_marker("mysql_only") and params.params.get("backend") == "embedded":
        return True
    storages = item.get_closest_marker("storages")
    storage = params.params.get("settings")  # the storage-parametrized `settings` fixture
    return storages is not None and storage is not None and storage not in storages.args


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API on loopback (moto's server process), for EXPORT_STORAGE=s3."""
    from tests.storage_helpers import moto_server

    with moto_server(free_port()) as endpoint:
        yield endpoint


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for one test on one backend, on a database with nothing in it."""
    folders = {"export_dir": str(tmp_path / "exports"), "mail_outbox_dir": str(tmp_path / "outbox")}
    if backend == "embedded":
        template: Path = request.getfixturevalue("sqlite_template")
        db_file = tmp_path / "app.db"
        shutil.copy(template, db_file)
        yield base_settings(database_url=f"sqlite:///{db_file}", **folders)
        return
    database_url, redis_url = request.getfixturevalue("mysql_database")
    _wipe_mysql(database_url)
    _flush_redis(redis_url)
    yield base_settings(database_url=database_url, redis_url=redis_url, **folders)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"User-Agent": "pytest-client"}
    ) as http:
        yield http


class GraphQLClient:
    """Posts documents to /graphql; `token` signs the requests in."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


PASSWORD = "correct horse battery staple"


class Accounts:
    """Factories for users and signed-in callers of the app under test."""

    def __init__(self, app: Starlette, gql: GraphQLClient) -> None:
        self.app = app
        self.gql = gql

    @property
    def services(self) -> Any:
        return self.app.state.services

    async def user(
        self,
        email: str = "user@example.com",
        *,
        name: str = "Ada User",
        role: str = "user",
        password: str = PASSWORD,
        created_by: int | None = None,
    ) -> Any:
        from resolvers.accounts import create_account

        return await create_account(
            self.services,
            name=name,
            email=email,
            password=password,
            role=role,
            created_by=created_by,
        )

    async def login(
        self, email: str, password: str = PASSWORD, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        body = await self.gql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
            "{ accessToken refreshToken tokenType expiresIn } }",
            {"e": email, "p": password},
            headers=headers,
        )
        assert "errors" not in body, body
        pair: dict[str, Any] = body["data"]["login"]
        return pair

    async def token_for(self, email: str = "user@example.com", role: str = "user") -> str:
        await self.user(email, role=role)
        return str((await self.login(email))["accessToken"])

    async def admin_token(self, email: str = "admin@example.com") -> str:
        return await self.token_for(email, role="admin")


@pytest.fixture
def accounts(app: Starlette, gql: GraphQLClient) -> Accounts:
    return Accounts(app, gql)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app under uvicorn on loopback, in a thread, for clients that speak real HTTP."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    with serving(config) as base_url:
        yield base_url


@contextmanager
def serving(config: uvicorn.Config) -> Iterator[str]:
    """Run uvicorn with `config` in a thread until the block ends; yields its base URL."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://{config.host}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def seed_accounts(settings: Settings) -> None:
    """An admin and a user (PASSWORD) for a server that runs outside the test's event loop."""

    async def seed() -> None:
        async with bootstrap(settings) as services:
            for email, role in (("admin@example.com", "admin"), ("user@example.com", "user")):
                await create_account(services, name=role, email=email, password=PASSWORD, role=role)

    asyncio.run(seed())


JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.")
API_KEY = re.compile(r"agk_[A-Za-z0-9_-]{20,}")


def leaks_a_secret(line: str) -> bool:
    """Whether a log line carries a secret the tests use: a password, a key, a token, a hash."""
    return (
        TEST_SECRET in line
        or PASSWORD in line
        or bool(JWT.search(line) or API_KEY.search(line))
        or "$argon2" in line
    )


class _EveryLine(logging.Handler):
    """Every log record of the run, formatted both ways, for the secrets check at the end."""

    lines: ClassVar[list[str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        from server.logging_setup import JSONFormatter, TextFormatter

        self.lines.append(JSONFormatter().format(record))
        self.lines.append(TextFormatter().format(record))


def every_log_line() -> list[str]:
    """The log lines of this run so far."""
    return _EveryLine.lines


_CAPTURE = _EveryLine(level=logging.DEBUG)


def pytest_sessionstart(session: pytest.Session) -> None:
    root = logging.getLogger()
    root.addHandler(_CAPTURE)
    root.setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Whatever tests were selected, the run fails if any of its log lines carries a secret."""
    logging.getLogger().removeHandler(_CAPTURE)
    leaks = [line for line in _EveryLine.lines if leaks_a_secret(line)]
    if not leaks:
        return
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_sep("=", f"{len(leaks)} log lines carry a secret", red=True)
        for line in leaks[:20]:
            reporter.write_line(line[:400])
