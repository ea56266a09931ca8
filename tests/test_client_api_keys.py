"""The SDK's API keys: made from a session, then `APIClient(base_url, api_key=...)` (blocking
and asyncio) acts as the key's owner and is refused credential operations."""

from __future__ import annotations

import sys

import pytest
from starlette.applications import Starlette

from tests.conftest import PASSWORD, Accounts
from tests.test_client import ROOT

if str(ROOT / "client") not in sys.path:  # the SDK from the checkout, as tests/test_client.py
    sys.path.insert(0, str(ROOT / "client"))

from client import APIClient, Forbidden, NotFound, TokenRevoked
from tests.test_client import ADMIN, live_server, sdk_for  # noqa: F401 (a fixture)


async def test_async_client_with_an_api_key(app: Starlette, accounts: Accounts) -> None:
    await accounts.user("user@example.com")
    stranger = await accounts.user("stranger@example.com")
    async with sdk_for(app) as person:
        await person.login("user@example.com", PASSWORD)
        made = await person.create_api_key("ci", expires_in_days=7)
        assert made["secret"].startswith("agk_")
        assert made["api_key"]["prefix"] == made["secret"][:12]
        assert made["api_key"]["expires_at"] is not None
        assert await person.list_api_keys() == [made["api_key"]]
    async with sdk_for(app, api_key=made["secret"], user_agent="ci-runner/2") as robot:
        assert (await robot.get_current_user())["email"] == "user@example.com"
        with pytest.raises(Forbidden):
            await robot.change_password(PASSWORD, "another long passphrase")
        with pytest.raises(Forbidden):
            await robot.create_api_key("more")
        with pytest.raises(Forbidden):
            await robot.list_sessions()
        async with sdk_for(app) as other:
            await other.login(stranger.email, PASSWORD)
            with pytest.raises(NotFound):
                await other.revoke_api_key(made["api_key"]["id"])
        async with sdk_for(app) as person:
            await person.login("user@example.com", PASSWORD)
            await person.revoke_api_key(made["api_key"]["id"])
            assert await person.list_api_keys() == []
        with pytest.raises(TokenRevoked):
            await robot.get_current_user()


def test_blocking_client_with_an_api_key_on_a_real_server(
    live_server: tuple[str, Starlette],  # noqa: F811
) -> None:
    url, _app = live_server
    with APIClient(url) as person:
        person.login(ADMIN, PASSWORD)
        made = person.create_api_key("nightly export")
        assert made["api_key"]["expires_at"] is None
    with APIClient(url, api_key=made["secret"]) as robot:
        assert robot.get_current_user()["role"] == "admin"  # the owner's role
        assert robot.list_users()["meta"]["total"] == 1
        with pytest.raises(Forbidden):
            robot.logout()
        with pytest.raises(Forbidden):
            robot.revoke_api_key(made["api_key"]["id"])
    with APIClient(url) as person:
        person.login(ADMIN, PASSWORD)
        [key] = person.list_api_keys()
        assert key["last_used_at"] is not None and key["name"] == "nightly export"
        person.revoke_api_key(key["id"])
    with APIClient(url, api_key=made["secret"]) as robot, pytest.raises(TokenRevoked):
        robot.get_current_user()
