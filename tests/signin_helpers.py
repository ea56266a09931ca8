"""Attacking the sign-in doors as a client behind a proxy would: one app, many client addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

from core.settings import Settings
from server.app import create_app

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
REGISTER = "mutation($input: RegisterInput!) { register(input: $input) { id email } }"
PROXY = "10.0.0.1"  # the trusted proxy every request comes through


class Door:
    """GraphQL and REST requests as if from `ip` (named by X-Forwarded-For)."""

    def __init__(self, app: Starlette, http: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http

    @property
    def services(self) -> Any:
        return self.app.state.services

    async def gql(self, query: str, variables: dict[str, Any], ip: str) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-Forwarded-For": ip},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(self, email: str, password: str, ip: str) -> str:
        """`ok`, or the error code the login answered."""
        return outcome(await self.gql(LOGIN, {"e": email, "p": password}, ip), "login")

    async def register(self, email: str, password: str, ip: str, name: str = "Jürgen") -> str:
        data = {"name": name, "email": email, "password": password}
        return outcome(await self.gql(REGISTER, {"input": data}, ip), "register")

    async def rest(self, path: str, body: dict[str, Any], ip: str) -> httpx.Response:
        return await self.http.post(path, json=body, headers={"X-Forwarded-For": ip})


def outcome(body: dict[str, Any], field: str) -> str:
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    assert body["data"][field], body
    return "ok"


@asynccontextmanager
async def door(settings: Settings, **changes: Any) -> AsyncIterator[Door]:
    """The app behind a trusted proxy: each request names its client in X-Forwarded-For."""
    app = create_app(settings.with_(trusted_proxies=(f"{PROXY}/32",), **changes))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(PROXY, 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"User-Agent": "attacker"}
        ) as http:
            yield Door(app, http)


class HashCounter:
    """Swaps the app's hasher for one that records every argon2 computation (the real one
    still runs): `verify` with the hash it checked, `hash` for a new one."""

    def __init__(self, services: Any) -> None:
        self.calls: list[tuple[str, str]] = []
        hasher = services.hasher
        calls = self.calls

        class Counting(type(hasher)):  # type: ignore[misc]
            def verify(self, password_hash: str, password: str) -> bool:
                calls.append(("verify", password_hash))
                return bool(super().verify(password_hash, password))

            def hash(self, password: str) -> str:
                calls.append(("hash", ""))
                return str(super().hash(password))

        services.hasher = Counting(hasher._argon, hasher.min_length)

    def take(self) -> list[str]:
        """The kinds of computation since the last call."""
        kinds = [kind for kind, _ in self.calls]
        self.calls.clear()
        return kinds
