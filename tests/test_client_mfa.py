"""The SDK's second-factor methods (async and blocking): login raises MfaRequired with the
ticket, verify_mfa finishes it, enrollment, recovery codes, disable and an admin's reset."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from core import totp
from tests.conftest import PASSWORD, Accounts
from tests.mfa_helpers import StepClock
from tests.test_client import ADMIN, ROOT, live_server, sdk_for  # noqa: F401 (a fixture)

if str(ROOT / "client") not in sys.path:  # the SDK from the checkout, as tests/test_client.py
    sys.path.insert(0, str(ROOT / "client"))

from client import (
    APIClient,
    AsyncAPIClient,
    AuthenticationError,
    Forbidden,
    InvalidCredentials,
    InvalidMfaCode,
    MfaRequired,
    TokenRevoked,
)

USER = "user@example.com"


@pytest.fixture
async def sdk(app: Starlette) -> AsyncIterator[AsyncAPIClient]:
    async with sdk_for(app) as api:
        yield api


async def test_the_second_factor_through_the_async_sdk(
    sdk: AsyncAPIClient, accounts: Accounts
) -> None:
    clock = StepClock()
    accounts.services.clock = clock
    await accounts.user(USER)
    await sdk.login(USER, PASSWORD)
    with pytest.raises(InvalidCredentials):
        await sdk.enroll_totp("not my password")
    enrollment = await sdk.enroll_totp(PASSWORD)
    assert enrollment["otpauth_uri"].startswith("otpauth://totp/")
    with pytest.raises(InvalidMfaCode):
        await sdk.confirm_totp("000000")
    codes = await sdk.confirm_totp(totp.code_at(enrollment["secret"], clock.now()))
    assert len(codes) == 10
    assert (await sdk.get_current_user())["mfa_enabled"] is True

    with pytest.raises(MfaRequired) as needed:
        await sdk.login(USER, PASSWORD)
    assert isinstance(needed.value, AuthenticationError) and needed.value.mfa_token
    assert needed.value.code == "MFA_REQUIRED"
    clock.advance()
    with pytest.raises(InvalidMfaCode):
        await sdk.verify_mfa(needed.value.mfa_token, "000000")
    pair = await sdk.verify_mfa(
        needed.value.mfa_token, totp.code_at(enrollment["secret"], clock.now())
    )
    assert sdk.access_token == pair["access_token"]
    assert (await sdk.get_current_user())["email"] == USER

    fresh = await sdk.regenerate_recovery_codes(PASSWORD, codes[0])
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    await sdk.disable_totp(PASSWORD, fresh[0])
    assert (await sdk.get_current_user())["mfa_enabled"] is False
    await sdk.login(USER, PASSWORD)  # no second factor now


async def test_an_admin_resets_a_users_factor_through_the_sdk(
    sdk: AsyncAPIClient, accounts: Accounts, app: Starlette
) -> None:
    clock = StepClock()
    accounts.services.clock = clock
    await accounts.user(USER)
    await accounts.user(ADMIN, role="admin")
    await sdk.login(USER, PASSWORD)
    secret = (await sdk.enroll_totp(PASSWORD))["secret"]
    await sdk.confirm_totp(totp.code_at(secret, clock.now()))
    with pytest.raises(Forbidden):
        await sdk.reset_mfa((await sdk.get_current_user())["id"])
    user_id = (await sdk.get_current_user())["id"]
    async with sdk_for(app) as admin:
        await admin.login(ADMIN, PASSWORD)
        await admin.reset_mfa(user_id)
    with pytest.raises(TokenRevoked):
        await sdk.get_current_user()
    await sdk.login(USER, PASSWORD)
    assert (await sdk.get_current_user())["mfa_enabled"] is False


def test_blocking_client_second_factor_on_a_real_server(
    live_server: tuple[str, Starlette],  # noqa: F811
) -> None:
    url, app = live_server
    clock = StepClock()
    app.state.services.clock = clock
    with APIClient(url) as api:
        api.login(ADMIN, PASSWORD)
        secret = api.enroll_totp(PASSWORD)["secret"]
        codes = api.confirm_totp(totp.code_at(secret, clock.now()))
        with pytest.raises(MfaRequired) as needed:
            api.login(ADMIN, PASSWORD)
        api.verify_mfa(needed.value.mfa_token, codes[0])
        assert api.get_current_user()["mfa_enabled"] is True
        with pytest.raises(InvalidMfaCode):
            api.disable_totp(PASSWORD, codes[0])  # used
        clock.advance()
        api.disable_totp(PASSWORD, totp.code_at(secret, clock.now()))
        assert api.get_current_user()["mfa_enabled"] is False
