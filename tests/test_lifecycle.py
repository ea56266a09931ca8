"""Operations drills: draining shutdown, database and Redis outages and recovery, metrics, logs."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.settings import Settings
from persistence.db import PING_AFTER_IDLE_SECONDS
from server.app import create_app
from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes
from tests.rest_helpers import bearer, data_of, error_of
from tests.tcp_proxy import TCPProxy

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def ready_status(base: str) -> int:
    try:
        return httpx.get(f"{base}/ready", timeout=2).status_code
    except httpx.HTTPError:
        return 0


def start_server(tmp_path: Path, port: int, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """`manage.py migrate` then `manage.py serve` on a SQLite file, as an operator runs them."""
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
        "APP_ENV": "test",
        **env,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()


def test_sigterm_drains_then_finishes_in_flight_requests(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path, port, SHUTDOWN_DRAIN_SECONDS="1.5", LOG_JSON="true")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: ready_status(base) == 200)
        body = b'{"query": "{ health { status } }"}'
        in_flight = socket.create_connection(("127.0.0.1", port))
        in_flight.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:5]
        )
        time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        wait_until(lambda: ready_status(base) == 503, 1.4)  # draining: told to go away
        in_flight.sendall(body[5:])
        in_flight.settimeout(10)
        response = b""
        while b'"status"' not in response and (chunk := in_flight.recv(65536)):
            response += chunk
        assert response.startswith(b"HTTP/1.1 200"), response
        assert b'"status":"ok"' in response
        in_flight.close()
        server.wait(20)
    finally:
        if server.poll() is None:
            server.kill()
    output = server.stdout.read().decode() if server.stdout else ""
    assert "draining" in output


@pytest.fixture
async def proxied(
    settings: Settings, backend: str
) -> AsyncIterator[tuple[Settings, TCPProxy, TCPProxy]]:
    """Settings whose MySQL and Redis traffic passes through proxies the test can cut."""
    assert settings.redis_url is not None
    db_url = make_url(settings.database_url)
    redis_url = make_url(settings.redis_url.replace("redis://", "mysql://"))
    db_proxy = await TCPProxy(db_url.host or "127.0.0.1", db_url.port or 3306).start()
    redis_proxy = await TCPProxy(redis_url.host or "127.0.0.1", redis_url.port or 6379).start()
    proxied_settings = settings.with_(
        database_url=db_url.set(port=db_proxy.port).render_as_string(hide_password=False),
        redis_url=f"redis://127.0.0.1:{redis_proxy.port}/{redis_url.database}",
        db_timeout=1.0,
        db_pool_timeout=1.0,
    )
    yield proxied_settings, db_proxy, redis_proxy
    await db_proxy.close()
    await redis_proxy.close()


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient, GraphQLClient]]:
    """The app for `settings` in its lifespan, with an HTTP client and a GraphQL client on it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"User-Agent": "ua"}
        ) as http:
            yield app, http, GraphQLClient(http)


@pytest.mark.mysql_only
async def test_database_outage_and_recovery(proxied: tuple[Settings, TCPProxy, TCPProxy]) -> None:
    settings, db_proxy, _ = proxied
    async with served(settings) as (app, http, gql):
        token = await Accounts(app, gql).admin_token()
        assert (await http.get("/ready")).status_code == 200
        db_proxy.cut()  # MySQL stops
        not_ready = error_of(await http.get("/ready"), 503, "SERVICE_UNAVAILABLE")
        assert (not_ready["details"]["status"], not_ready["details"]["database"]) == (
            "unavailable",
            "down",
        )
        assert error_codes(await gql("{ me { id } }", token=token)) == ["SERVICE_UNAVAILABLE"]
        for path in ("/users", "/auth/me"):  # REST answers the outage in the legacy envelope
            error_of(await http.get(path, headers=bearer(token)), 503, "SERVICE_UNAVAILABLE")
        db_proxy.restore()  # MySQL is back: the failed statement invalidated the pool
        assert (await http.get("/ready")).status_code == 200
        assert "errors" not in await gql("{ users { pageInfo { total } } }", token=token)
        db_proxy.freeze()  # MySQL hangs: requests fail after DB_TIMEOUT, never hang
        started = time.monotonic()
        body = await gql("{ users(page: 2) { pageInfo { total } } }", token=token)
        assert "SERVICE_UNAVAILABLE" in error_codes(body)
        assert time.monotonic() - started < 5
        db_proxy.restore()
        db_proxy.cut()  # drop the half-used connections of the hang
        db_proxy.restore()
        for _ in range(20):
            if (await http.get("/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert "errors" not in await gql("{ users(page: 3) { pageInfo { total } } }", token=token)


@pytest.mark.mysql_only
async def test_connections_dropped_while_idle_are_replaced_without_an_error(
    proxied: tuple[Settings, TCPProxy, TCPProxy],
) -> None:
    """A MySQL restart between requests: pooled connections idle past the ping threshold are
    pinged at checkout, and the dead ones replaced before any statement runs on them."""
    settings, db_proxy, _ = proxied
    async with served(settings) as (app, _http, gql):
        token = await Accounts(app, gql).admin_token()
        assert "errors" not in await gql("{ me { id } }", token=token)
        db_proxy.cut()  # every pooled connection dies; MySQL itself is back at once
        db_proxy.restore()
        await asyncio.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
        for _ in range(3):
            body = await gql("{ me { id } users { pageInfo { total } } }", token=token)
            assert "errors" not in body, body


@pytest.mark.mysql_only
async def test_redis_outage_degrades_and_recovers(
    proxied: tuple[Settings, TCPProxy, TCPProxy],
) -> None:
    settings, _, redis_proxy = proxied
    async with served(settings) as (app, http, gql):
        accounts = Accounts(app, gql)
        await accounts.user("u@example.com")
        redis_proxy.cut()
        health = data_of(await http.get("/health"))  # degraded, still 200 in the envelope
        assert (health["status"], health["database"], health["cache"]) == ("degraded", "ok", "down")
        assert (await http.get("/ready")).status_code == 200
        started = time.monotonic()
        pair = await accounts.login("u@example.com")  # limits count in process meanwhile
        assert time.monotonic() - started < 3
        assert "errors" not in await gql("{ me { id } }", token=pair["accessToken"])
        redis_proxy.restore()
        for _ in range(30):
            if (await http.get("/health")).json()["data"]["cache"] == "ok":
                break
            await asyncio.sleep(0.1)
        assert data_of(await http.get("/health"))["cache"] == "ok"


async def test_metrics_after_a_scripted_session(
    client: httpx.AsyncClient, gql: GraphQLClient, accounts: Accounts
) -> None:
    from prometheus_client import REGISTRY

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "health": value("http_requests_total", method="GET", route="/health", status="200"),
        "login_failed": value("auth_events_total", event="login_failed"),
        "forbidden": value("graphql_errors_total", code="FORBIDDEN"),
        "me": value(
            "graphql_operation_duration_seconds_count", operation_name="Me", operation_type="query"
        ),
    }
    for _ in range(3):
        await client.get("/health")
    await client.get("/users/12345")  # a route template, not the raw path
    await gql('mutation { login(email: "x@example.com", password: "nope nope") { accessToken } }')
    token = await accounts.token_for("m@example.com")
    await gql("query Me { me { id } }", token=token)
    await gql("{ users { pageInfo { total } } }", token=token)
    text = (await client.get("/metrics")).text
    assert (
        value("http_requests_total", method="GET", route="/health", status="200")
        == before["health"] + 3
    )
    assert value("auth_events_total", event="login_failed") == before["login_failed"] + 1
    assert value("graphql_errors_total", code="FORBIDDEN") == before["forbidden"] + 1
    assert (
        value(
            "graphql_operation_duration_seconds_count", operation_name="Me", operation_type="query"
        )
        == before["me"] + 1
    )
    assert 'route="/users/{user_id}"' in text or 'route="/users/{id}"' in text
    assert "/users/12345" not in text
    assert 'graphql_resolver_duration_seconds_bucket{field="me",le="0.005"}' in text


async def test_metrics_need_the_token_in_production(settings: Settings) -> None:
    strong = "a-production-secret-that-is-long-and-random-4f9a2c"
    prod = Settings.from_env(
        {
            "APP_ENV": "prod",
            "DATABASE_URL": settings.database_url,
            "JWT_SECRET": strong,
            "SECRET_KEY": strong,
            "METRICS_TOKEN": "m" * 32,
        }
    )
    app = create_app(prod)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        assert (await http.get("/metrics")).status_code == 403
        ok = await http.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
    assert ok.status_code == 200
    assert "http_requests_total" in ok.text


def test_two_workers_share_metrics_and_drain(tmp_path: Path) -> None:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    server = start_server(
        tmp_path,
        port,
        "--workers",
        "2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        SHUTDOWN_DRAIN_SECONDS="6",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: ready_status(base) == 200, 30)
        pids: set[str] = set()
        for _ in range(40):  # new connections spread over both workers
            response = httpx.get(f"{base}/health", headers={"Connection": "close"})
            assert response.status_code == 200
        for _ in range(20):
            pids.update(p.name.split("_")[-1] for p in metrics_dir.glob("counter_*.db"))
        text = httpx.get(f"{base}/metrics").text
        server.send_signal(signal.SIGTERM)  # every worker drains: not ready, still answering
        wait_until(lambda: ready_status(base) == 503, 5)  # within the 6 s drain, on a busy box
        assert httpx.get(f"{base}/health").status_code == 200
    finally:
        stop(server)
    assert len(pids) >= 2, pids  # both workers counted
    line = next(
        x
        for x in text.splitlines()
        if x.startswith("http_requests_total{") and 'route="/health"' in x
    )
    assert float(line.rsplit(" ", 1)[1]) == 40


def test_two_workers_make_one_bootstrap_admin_and_serve_no_stale_page(tmp_path: Path) -> None:
    """Both workers start at once with BOOTSTRAP_ADMIN_*: one admin. Without Redis neither keeps
    a cache of its own, so a write through one is seen by pages read from the other."""
    port = free_port()
    server = start_server(
        tmp_path,
        port,
        "--workers",
        "2",
        PASSWORD_HASH_PROFILE="fast",
        BOOTSTRAP_ADMIN_EMAIL="Root@Example.com",
        BOOTSTRAP_ADMIN_PASSWORD=PASSWORD,
    )
    base = f"http://127.0.0.1:{port}"

    def totals(token: str) -> set[int]:
        headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
        # New connections, spread over both workers by the kernel.
        pages = (httpx.get(f"{base}/users", headers=headers) for _ in range(30))
        return {page.json()["data"]["meta"]["total"] for page in pages}

    try:
        wait_until(lambda: ready_status(base) == 200, 30)
        login = httpx.post(
            f"{base}/auth/login", json={"email": "root@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["data"]["access_token"]
        assert totals(token) == {1}  # both workers have read (and could have cached) page 1
        new = {"name": "New", "email": "new@example.com", "password": PASSWORD}
        assert httpx.post(f"{base}/auth/register", json=new).status_code == 201
        assert totals(token) == {2}
    finally:
        stop(server)
    engine = create_engine(f"sqlite:///{tmp_path}/app.db")
    with engine.connect() as conn:
        admins = conn.execute(text("SELECT email FROM users WHERE role = 'admin'")).all()
    engine.dispose()
    assert [tuple(row) for row in admins] == [("root@example.com",)]
