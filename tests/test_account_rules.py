"""Rules around accounts that had no test: the register and refresh limits per client IP, and
what deactivating an account does to its sign-in and its live tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app
from tests.conftest import PASSWORD, Accounts, GraphQLClient
from tests.rest_helpers import bearer, data_of, error_of, rest_login


@asynccontextmanager
async def clients(
    settings: Settings, *ips: str
) -> AsyncIterator[tuple[Starlette, list[httpx.AsyncClient]]]:
    """One app for `settings`, and one HTTP client per client IP."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        opened = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(ip, 1)),
                base_url="http://t",
                headers={"User-Agent": "ua"},
            )
            for ip in ips
        ]
        try:
            yield app, opened
        finally:
            for http in opened:
                await http.aclose()


def person(i: int) -> dict[str, str]:
    return {"name": f"P{i}", "email": f"p{i}@example.com", "password": PASSWORD}


async def test_register_is_limited_per_client_ip(settings: Settings) -> None:
    limited = settings.with_(register_rate_limit_ip="2/minute")
    async with clients(limited, "203.0.113.1", "203.0.113.2") as (_, (first, second)):
        for i in range(2):
            data_of(await first.post("/auth/register", json=person(i)), 201)
        refused = await first.post("/auth/register", json=person(2))
        error = error_of(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["Retry-After"]) == error["details"]["retry_after"] > 0
        replay = await first.post("/auth/register", json=person(0))  # a replay counts too
        error_of(replay, 429, "RATE_LIMITED")
        # another address has its own budget, and the refused sign-up created nothing
        data_of(await second.post("/auth/register", json=person(2)), 201)
        assert (await rest_login(second, "p2@example.com"))["access_token"]


async def test_refresh_is_limited_per_client_ip_and_a_limited_token_stays_usable(
    settings: Settings,
) -> None:
    limited = settings.with_(refresh_rate_limit_ip="2/minute", token_fingerprint="off")
    async with clients(limited, "203.0.113.1", "203.0.113.2") as (app, (first, second)):
        await Accounts(app, GraphQLClient(first)).user()
        token = (await rest_login(first, "user@example.com"))["refresh_token"]
        for _ in range(2):
            token = data_of(await first.post("/auth/refresh", json={"refresh_token": token}))[
                "refresh_token"
            ]
        refused = await first.post("/auth/refresh", json={"refresh_token": token})
        error_of(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["Retry-After"]) > 0
        # refused before it was looked at: not a reuse, the session goes on from elsewhere
        rotated = data_of(await second.post("/auth/refresh", json={"refresh_token": token}))
        me = await second.get("/auth/me", headers=bearer(rotated["access_token"]))
        assert data_of(me)["email"] == "user@example.com"


async def test_a_deactivated_account_cannot_sign_in_and_its_tokens_stop(
    client: httpx.AsyncClient, gql: GraphQLClient, accounts: Accounts
) -> None:
    user = await accounts.user("leaver@example.com")
    pair = await rest_login(client, "leaver@example.com")
    admin = bearer(await accounts.admin_token())
    patched = await client.patch(f"/users/{user.id}", json={"is_active": False}, headers=admin)
    assert data_of(patched)["is_active"] is False
    error_of(
        await client.get("/auth/me", headers=bearer(pair["access_token"])), 401, "TOKEN_REVOKED"
    )
    refresh = await client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    error_of(refresh, 401, "TOKEN_REVOKED")
    right = {"email": "leaver@example.com", "password": PASSWORD}
    wrong = {"email": "leaver@example.com", "password": "not the password"}
    refused = error_of(await client.post("/auth/login", json=right), 401, "INVALID_CREDENTIALS")
    # the same answer as a wrong password: a deactivated account is not told apart
    assert refused == error_of(
        await client.post("/auth/login", json=wrong), 401, "INVALID_CREDENTIALS"
    )
    body = await gql(
        'mutation($p: String!) { login(email: "leaver@example.com", password: $p) { accessToken } }',
        {"p": PASSWORD},
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_CREDENTIALS"]
    await client.patch(f"/users/{user.id}", json={"is_active": True}, headers=admin)
    back = await rest_login(client, "leaver@example.com")  # reactivated: signs in again...
    assert data_of(await client.get("/auth/me", headers=bearer(back["access_token"])))
    old = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    error_of(old, 401, "TOKEN_REVOKED")  # ...but the tokens of before stay dead
