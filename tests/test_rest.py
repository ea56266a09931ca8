"""The legacy REST routes, black-box over HTTP: the envelope, HTTP refusals and `/auth/*`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app
from tests.conftest import PASSWORD, Accounts, every_log_line
from tests.rest_helpers import USER_KEYS, bearer, data_of, error_of, rest_login

GRACE = {"name": "Grace", "email": "grace@example.com", "password": PASSWORD}


# --- the envelope and the HTTP-level refusals ----------------------------------------------


async def test_unknown_route_is_not_found_in_the_envelope(client: httpx.AsyncClient) -> None:
    error_of(await client.get("/no/such/route"), 404, "NOT_FOUND")


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    error = error_of(await client.delete("/users"), 405, "HTTP_ERROR")
    assert error["message"]
    response = await client.delete("/users")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
    me = await client.post("/auth/me")
    error_of(me, 405, "HTTP_ERROR")
    assert set(me.headers["Allow"].split(", ")) == {"GET", "HEAD"}


async def test_malformed_json_is_a_validation_error(client: httpx.AsyncClient) -> None:
    for raw in (b"{not json", b"", b'{"email": "a@b.io",}'):
        response = await client.post(
            "/auth/login", content=raw, headers={"Content-Type": "application/json"}
        )
        assert error_of(response, 400, "VALIDATION_ERROR")["details"] == {
            "body": ["Malformed JSON"]
        }
    not_an_object = await client.post("/auth/login", json=["a@b.io", "pw"])
    assert "body" in error_of(not_an_object, 400, "VALIDATION_ERROR")["details"]


async def test_body_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    form = await client.post("/auth/login", data={"email": "a@b.io", "password": "x"})
    error_of(form, 415, "HTTP_ERROR")
    text = await client.post(
        "/auth/register", content=b'{"name": "x"}', headers={"Content-Type": "text/plain"}
    )
    error_of(text, 415, "HTTP_ERROR")
    charset = await client.post(
        "/auth/login",
        content=b'{"email": "a@b.io", "password": "whatever1"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    error_of(charset, 401, "INVALID_CREDENTIALS")


async def test_unexpected_failures_are_masked(
    app: Starlette, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolvers import users

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret database password in the message")

    token = await accounts.token_for()
    monkeypatch.setattr(users, "get_me", broken)
    transport = httpx.ASGITransport(
        app=app, client=("203.0.113.7", 50000), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t", headers={"User-Agent": "pytest-client"}
    ) as http:
        response = await http.get(
            "/users/me", headers={**bearer(token), "X-Request-ID": "req-500-test"}
        )
    error = error_of(response, 500, "INTERNAL_ERROR")
    assert error["details"] == {"request_id": "req-500-test"}
    assert "secret" not in response.text
    assert response.headers["X-Request-ID"] == "req-500-test"


async def test_a_failing_statement_logs_no_parameters(
    app: Starlette, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected database error is logged with its statement, never the values bound to it
    (emails, names, password hashes)."""
    from sqlalchemy import insert

    from persistence.models import User
    from resolvers import users

    taken = await accounts.user("leaked@example.com", name="Leaky Name")

    async def duplicate(services: Any, caller: Any) -> Any:
        async with services.db.transaction() as session:  # the same id again: a real failure
            await session.execute(
                insert(User).values(
                    id=taken.id,
                    name="Leaky Name",
                    email="leaked@example.com",
                    password_hash="hash-never-logged",
                    role="user",
                    is_active=True,
                    token_version=0,
                    version=1,
                    created_at=taken.created_at,
                    updated_at=taken.created_at,
                )
            )

    monkeypatch.setattr(users, "get_me", duplicate)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    before = len(every_log_line())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/users/me", headers={"X-Request-ID": "sql-1"})
    error_of(response, 500, "INTERNAL_ERROR")
    logged = "\n".join(every_log_line()[before:])
    assert "INSERT INTO users" in logged and "sql-1" in logged  # the failure was logged
    for value in ("leaked@example.com", "Leaky Name", "hash-never-logged"):
        assert value not in logged


# --- /auth/* ----------------------------------------------------------------------------------


async def test_register_creates_a_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/register", json=GRACE)
    user = data_of(response, 201)
    assert set(user) == USER_KEYS  # no deleted_at for a non-admin
    assert isinstance(user["id"], int)
    assert (user["name"], user["email"], user["role"]) == ("Grace", "grace@example.com", "user")
    assert user["is_active"] is True and user["version"] == 1 and user["created_by"] is None
    assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None
    assert response.headers["ETag"] == f'"{user["id"]}-1"'


async def test_register_replays_for_the_same_password(client: httpx.AsyncClient) -> None:
    first = data_of(await client.post("/auth/register", json=GRACE), 201)
    again = data_of(
        await client.post("/auth/register", json={**GRACE, "email": " GRACE@example.com"}), 201
    )
    assert again == first
    other = await client.post("/auth/register", json={**GRACE, "password": "another password"})
    error_of(other, 409, "EMAIL_EXISTS")


async def test_register_as_admin_needs_an_admin(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    error_of(await client.post("/auth/register", json={**GRACE, "role": "admin"}), 403, "FORBIDDEN")
    user_token = await accounts.token_for()
    refused = await client.post(
        "/auth/register", json={**GRACE, "role": "admin"}, headers=bearer(user_token)
    )
    error_of(refused, 403, "FORBIDDEN")
    admin = await accounts.admin_token()
    made = await client.post(
        "/auth/register", json={**GRACE, "role": "admin"}, headers=bearer(admin)
    )
    assert data_of(made, 201)["role"] == "admin"


async def test_register_names_every_bad_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register",
        json={"name": 7, "password": PASSWORD, "role": "root", "version": 3, "emal": "x@y.io"},
    )
    details = error_of(response, 400, "VALIDATION_ERROR")["details"]
    assert details == {
        "name": ["Must be a string"],
        "email": ["Missing data for required field"],
        "role": ["Must be one of user, admin"],
        "version": ["Read-only field"],
        "emal": ["Unknown field"],
    }
    weak = await client.post("/auth/register", json={**GRACE, "email": "nope", "password": "x"})
    assert set(error_of(weak, 400, "VALIDATION_ERROR")["details"]) == {"email", "password"}


async def test_login_answers_the_legacy_token_shape(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    await accounts.user()
    pair = await rest_login(client, "user@example.com")
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 600
    wrong = await client.post(
        "/auth/login", json={"email": "user@example.com", "password": "wrong password"}
    )
    error_of(wrong, 401, "INVALID_CREDENTIALS")


async def test_me_carries_an_etag_and_honours_if_none_match(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    await accounts.user()
    token = (await rest_login(client, "user@example.com"))["access_token"]
    response = await client.get("/auth/me", headers=bearer(token))
    assert data_of(response)["email"] == "user@example.com"
    cached = await client.get(
        "/auth/me", headers={**bearer(token), "If-None-Match": response.headers["ETag"]}
    )
    assert cached.status_code == 304 and cached.content == b""


async def test_signed_in_routes_say_why_a_token_is_refused(client: httpx.AsyncClient) -> None:
    error_of(await client.get("/auth/me"), 401, "MISSING_AUTH_HEADER")
    error_of(await client.get("/auth/me", headers=bearer("not.a.jwt")), 401, "TOKEN_INVALID")
    error_of(await client.post("/auth/logout"), 401, "MISSING_AUTH_HEADER")
    error_of(await client.post("/auth/logout-all"), 401, "MISSING_AUTH_HEADER")


async def test_refresh_rotates_the_session(client: httpx.AsyncClient, accounts: Accounts) -> None:
    await accounts.user()
    pair = await rest_login(client, "user@example.com")
    rotated = data_of(
        await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    )
    assert set(rotated) == {"access_token", "refresh_token", "token_type", "expires_in"}
    old = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    error_of(old, 401, "TOKEN_REVOKED")
    data_of(await client.get("/auth/me", headers=bearer(rotated["access_token"])))
    replay = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    error_of(replay, 401, "TOKEN_REVOKED")
    missing = await client.post("/auth/refresh", json={})
    assert error_of(missing, 400, "VALIDATION_ERROR")["details"] == {
        "refresh_token": ["Missing data for required field"]
    }


async def test_logout_and_logout_all(client: httpx.AsyncClient, accounts: Accounts) -> None:
    await accounts.user()
    first, second, third = [await rest_login(client, "user@example.com") for _ in range(3)]
    assert data_of(await client.post("/auth/logout", headers=bearer(first["access_token"]))) is None
    error_of(
        await client.get("/auth/me", headers=bearer(first["access_token"])), 401, "TOKEN_REVOKED"
    )
    data_of(await client.get("/auth/me", headers=bearer(second["access_token"])))
    assert (
        data_of(await client.post("/auth/logout-all", headers=bearer(second["access_token"])))
        is None
    )
    for pair in (second, third):
        me = await client.get("/auth/me", headers=bearer(pair["access_token"]))
        error_of(me, 401, "TOKEN_REVOKED")


async def test_login_rate_limit_sends_retry_after(settings: Settings) -> None:
    from tests.conftest import Accounts as Factory
    from tests.conftest import GraphQLClient

    app = create_app(settings.with_(login_rate_limit_account="2/minute"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await Factory(app, GraphQLClient(http)).user()
            wrong = {"email": "user@example.com", "password": "wrong password"}
            for _ in range(2):
                error_of(await http.post("/auth/login", json=wrong), 401, "INVALID_CREDENTIALS")
            limited = await http.post("/auth/login", json=wrong)
    error = error_of(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["Retry-After"]) == error["details"]["retry_after"] > 0
    assert limited.headers["RateLimit-Limit"] == "2"
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert limited.headers["RateLimit-Reset"] == limited.headers["Retry-After"]
    assert limited.headers["RateLimit-Policy"] == "2;w=60"
