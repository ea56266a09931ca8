"""Expired and revoked sessions are deleted SESSION_RETENTION seconds after they ended, by the
sweep; live sessions are kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core import tokens
from core.settings import Settings, SettingsError
from persistence.models import AuthSession
from resolvers.retention import purge_ended_sessions
from server.app import create_app
from tests.conftest import Accounts, GraphQLClient, error_codes

DAY = 86_400
REFRESH = "mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }"


class LaterClock:
    def __init__(self, seconds: float) -> None:
        self.at = datetime.now(UTC) + timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self.at


async def session_ids(accounts: Accounts) -> set[str]:
    async with accounts.services.db.transaction() as session:
        return set((await session.scalars(select(AuthSession.id))).all())


def session_of(settings: Settings, pair: dict[str, Any]) -> str:
    claims = tokens.decode(settings, pair["accessToken"], "access", now=datetime.now(UTC))
    return claims.session_id


async def test_ended_sessions_are_purged_after_the_retention(
    gql: GraphQLClient, accounts: Accounts, settings: Settings
) -> None:
    assert settings.session_retention == 7 * DAY  # the documented default
    await accounts.user("kept@example.com")
    live, revoked, expired = [await accounts.login("kept@example.com") for _ in range(3)]
    await gql("mutation { logout }", token=revoked["accessToken"])
    services = accounts.services
    async with services.db.transaction() as session:  # ended half a day from now
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_of(settings, expired))
            .values(expires_at=datetime.now(UTC) + timedelta(seconds=DAY / 2))
        )
    ids = {name: session_of(settings, pair) for name, pair in
           (("live", live), ("revoked", revoked), ("expired", expired))}  # fmt: skip

    services.clock = LaterClock(6 * DAY)  # both ended, neither 7 days ago
    assert await purge_ended_sessions(services) == 0
    assert await session_ids(accounts) == set(ids.values())

    services.clock = LaterClock(8 * DAY)  # both ended over 7 days ago; the live one goes on
    assert await purge_ended_sessions(services) == 2
    assert await session_ids(accounts) == {ids["live"]}
    services.clock = LaterClock(0)
    me = await gql("{ me { email } }", token=live["accessToken"])
    assert me["data"] == {"me": {"email": "kept@example.com"}}
    gone = await gql(REFRESH, {"t": revoked["refreshToken"]})
    assert error_codes(gone) == ["TOKEN_REVOKED"]  # as before the purge


async def test_the_sweep_purges_ended_sessions_when_the_server_starts(
    accounts: Accounts, settings: Settings
) -> None:
    await accounts.user("old@example.com")
    old, current = await accounts.login("old@example.com"), await accounts.login("old@example.com")
    long_ago = datetime.now(UTC) - timedelta(days=30)
    async with accounts.services.db.transaction() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_of(settings, old))
            .values(revoked_at=long_ago, revoked_reason="logout")
        )
    second = create_app(settings)  # another process of the same deployment starting up
    async with second.router.lifespan_context(second):
        for _ in range(100):
            if session_of(settings, old) not in await session_ids(accounts):
                break
            await asyncio.sleep(0.05)
    assert await session_ids(accounts) == {session_of(settings, current)}


def test_the_retention_is_a_setting() -> None:
    assert Settings.from_env({}).session_retention == 7 * DAY
    assert Settings.from_env({"SESSION_RETENTION": "3600"}).session_retention == 3600
    with pytest.raises(SettingsError, match="SESSION_RETENTION"):
        Settings.from_env({"SESSION_RETENTION": "-1"})
