"""The SDK's account-lifecycle methods (async and blocking), against the app and a real SMTP
server on loopback."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from core.settings import Settings
from tests.conftest import PASSWORD, Accounts
from tests.mail_helpers import (
    SMTPServer,
    next_mail,
    smtp_server,  # noqa: F401 (the `smtp` fixture)
    token_in,
)
from tests.test_client import ROOT

if str(ROOT / "client") not in sys.path:  # the SDK from the checkout, as tests/test_client.py
    sys.path.insert(0, str(ROOT / "client"))

from client import (
    APIClient,
    AsyncAPIClient,
    EmailNotVerified,
    InvalidCredentials,
    NotFound,
    TokenInvalid,
    TokenRevoked,
)
from tests.test_client import ADMIN, live_server, sdk_for  # noqa: F401 (a fixture)

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def settings(settings: Settings, smtp: SMTPServer) -> Settings:
    return settings.with_(smtp_url=smtp.url)


@pytest.fixture
async def sdk(app: Starlette) -> AsyncIterator[AsyncAPIClient]:
    async with sdk_for(app) as api:
        yield api


async def test_passwords_through_the_sdk(
    sdk: AsyncAPIClient, accounts: Accounts, smtp: SMTPServer
) -> None:
    await accounts.user("user@example.com")
    await sdk.login("user@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials):
        await sdk.change_password("not my password!", NEW_PASSWORD)
    await sdk.change_password(PASSWORD, NEW_PASSWORD)
    assert (await sdk.get_current_user())["email"] == "user@example.com"  # this session goes on
    await sdk.request_password_reset("user@example.com")
    token = token_in(await next_mail(accounts.services, smtp.inbox))
    await sdk.reset_password(token, PASSWORD)
    with pytest.raises(TokenInvalid):
        await sdk.reset_password(token, PASSWORD)
    with pytest.raises(TokenRevoked):
        await sdk.get_current_user()  # the reset ended every session
    await sdk.login("user@example.com", PASSWORD)


async def test_email_and_sessions_through_the_sdk(
    sdk: AsyncAPIClient, accounts: Accounts, smtp: SMTPServer
) -> None:
    await sdk.register("Ada", "ada@example.com", PASSWORD)
    token = token_in(await next_mail(accounts.services, smtp.inbox))
    await sdk.login("ada@example.com", PASSWORD)
    assert (await sdk.get_current_user())["email_verified"] is False
    assert (await sdk.verify_email(token))["email_verified"] is True
    await sdk.change_email(PASSWORD, "ada@example.org")
    changed = await sdk.verify_email(token_in(await next_mail(accounts.services, smtp.inbox)))
    assert changed["email"] == "ada@example.org"
    [session] = await sdk.list_sessions()
    assert session["current"] is True and session["user_agent"] is not None
    with pytest.raises(NotFound):
        await sdk.revoke_session("not-a-session")
    await sdk.revoke_session(session["id"])
    with pytest.raises(TokenRevoked):
        await sdk.list_sessions()


async def test_admin_lifecycle_through_the_sdk(sdk: AsyncAPIClient, accounts: Accounts) -> None:
    await accounts.user(ADMIN, role="admin")
    user = await accounts.user("user@example.com")
    await accounts.login("user@example.com")
    await sdk.login(ADMIN, PASSWORD)
    assert len(await sdk.list_user_sessions(user.id)) == 1
    await sdk.revoke_user_sessions(user.id)
    assert await sdk.list_user_sessions(user.id) == []
    await sdk.delete_user(user.id)
    assert (await sdk.restore_user(user.id))["deleted_at"] is None


def test_blocking_client_lifecycle_on_a_real_server(
    live_server: tuple[str, Starlette],  # noqa: F811
) -> None:
    url, _app = live_server
    with APIClient(url) as api:
        api.login(ADMIN, PASSWORD)
        api.change_password(PASSWORD, NEW_PASSWORD)
        [session] = api.list_sessions()
        assert session["current"] is True
        api.request_password_reset("nobody@example.com")
        created = api.create_user("Dee", "dee@example.com", PASSWORD)
        api.delete_user(created["id"])
        assert api.restore_user(created["id"])["id"] == created["id"]
        api.revoke_session(session["id"])


async def test_unverified_login_has_its_class(
    settings: Settings, accounts: Accounts, app: Starlette
) -> None:
    app.state.services.settings = settings.with_(require_verified_email=True)
    await accounts.user("user@example.com")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with AsyncAPIClient("http://testserver", transport=transport) as api:
        with pytest.raises(EmailNotVerified):
            await api.login("user@example.com", PASSWORD)
