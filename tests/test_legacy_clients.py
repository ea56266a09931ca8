"""What the legacy server's own tests rely on (contract section 3), written as ours: register
replays an existing admin, the error object's keys, the typo route gone, the 8-character floor.

`PUT /users/{id}` with some fields is in test_rest_users.py, `/health` and `/ready` in the
envelope in test_server.py.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes
from tests.rest_helpers import bearer, data_of, error_of, rest_login

ADMIN = {"name": "Admin", "email": "admin@example.com", "password": PASSWORD, "role": "admin"}
REGISTER = "mutation($input: RegisterInput!) { register(input: $input) { id role version } }"


async def user_count(accounts: Accounts) -> int:
    from sqlalchemy import func, select

    from persistence.models import User

    async with accounts.services.db.transaction() as session:
        return int(await session.scalar(select(func.count(User.id))) or 0)


async def test_register_replays_an_existing_admin_without_an_admin_token(
    client: httpx.AsyncClient, gql: GraphQLClient, accounts: Accounts
) -> None:
    """A replay creates nothing, so it needs no admin token (the legacy tests "register" their
    admin before every test)."""
    admin = await accounts.user(ADMIN["email"], name="Admin", role="admin")
    before = await user_count(accounts)
    replayed = data_of(await client.post("/auth/register", json=ADMIN), 201)
    assert (replayed["id"], replayed["role"], replayed["version"]) == (admin.id, "admin", 1)
    over_graphql = await gql(REGISTER, {"input": {**ADMIN, "role": "ADMIN"}})
    assert over_graphql["data"]["register"] == {"id": str(admin.id), "role": "ADMIN", "version": 1}
    assert await user_count(accounts) == before
    assert data_of(await client.get("/auth/me", headers=bearer(await admin_access(client))))


async def admin_access(client: httpx.AsyncClient) -> str:
    return str((await rest_login(client, ADMIN["email"]))["access_token"])


async def test_register_with_another_role_than_the_account_is_email_exists(
    client: httpx.AsyncClient, gql: GraphQLClient, accounts: Accounts
) -> None:
    """Its own password but another role: never a change of role, in either direction."""
    await accounts.user(ADMIN["email"], name="Admin", role="admin")
    await accounts.user("plain@example.com", name="Plain")
    as_user = await client.post("/auth/register", json={**ADMIN, "role": "user"})
    error_of(as_user, 409, "EMAIL_EXISTS")
    promote = {"name": "Plain", "email": "plain@example.com", "password": PASSWORD}
    error_of(
        await client.post("/auth/register", json={**promote, "role": "admin"}), 409, "EMAIL_EXISTS"
    )
    body = await gql(REGISTER, {"input": {**promote, "role": "ADMIN"}})
    assert error_codes(body) == ["EMAIL_EXISTS"]
    admin = bearer(await admin_access(client))
    roles = {
        u["email"]: u["role"] for u in data_of(await client.get("/users", headers=admin))["items"]
    }
    assert roles == {"admin@example.com": "admin", "plain@example.com": "user"}


async def test_register_of_a_new_admin_still_needs_an_admin(client: httpx.AsyncClient) -> None:
    fresh = {**ADMIN, "email": "new-admin@example.com"}
    error_of(await client.post("/auth/register", json=fresh), 403, "FORBIDDEN")


async def test_an_existing_admins_wrong_password_is_email_exists(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    await accounts.user(ADMIN["email"], role="admin")
    wrong = await client.post("/auth/register", json={**ADMIN, "password": "not the password"})
    error_of(wrong, 409, "EMAIL_EXISTS")


async def test_the_error_object_has_exactly_code_message_details(client: httpx.AsyncClient) -> None:
    """The legacy envelope's error, without its misspelt `detals` alias."""
    body: dict[str, Any] = (await client.post("/auth/login", json={"email": "not-an-email"})).json()
    assert body["success"] is False and body["data"] is None
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"] == {"password": ["Missing data for required field"]}


async def test_the_typo_route_auth_regster_is_not_found(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    missing = await client.post("/auth/regster", json={**ADMIN, "role": "user"})
    error_of(missing, 404, "NOT_FOUND")
    assert await user_count(accounts) == 0  # nothing was registered through it


async def test_passwords_need_eight_characters(
    client: httpx.AsyncClient, gql: GraphQLClient, accounts: Accounts
) -> None:
    """ASVS 6.2.1: seven characters (the legacy tests' `bobpass`) are refused everywhere a
    password is set; eight are enough."""
    seven, eight = "bobpass", "bobpass8"
    short = await client.post(
        "/auth/register", json={"name": "Bob", "email": "bob@example.com", "password": seven}
    )
    assert error_of(short, 400, "VALIDATION_ERROR")["details"] == {
        "password": ["Must be at least 8 characters long"]
    }
    bob = {"name": "Bob", "email": "bob@example.com", "password": eight}
    made = data_of(await client.post("/auth/register", json=bob), 201)
    admin = bearer(await accounts.admin_token())
    for attempt in (
        client.post(
            "/users", json={**bob, "email": "b2@example.com", "password": seven}, headers=admin
        ),
        client.patch(f"/users/{made['id']}", json={"password": seven}, headers=admin),
    ):
        assert "password" in error_of(await attempt, 400, "VALIDATION_ERROR")["details"]
    over_graphql = await gql(
        REGISTER, {"input": {**bob, "email": "b3@example.com", "password": seven}}
    )
    assert error_codes(over_graphql) == ["VALIDATION_ERROR"]
    assert (await rest_login(client, "bob@example.com", eight))["access_token"]
