"""Password guessing as an attacker behind a proxy tries it (issue 15): one budget per identity,
whatever the door, and no lock-out of the owner. Each request names its client in
X-Forwarded-For, which the app believes from its trusted proxy only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from core.settings import Settings, SettingsError
from persistence.models import User
from resolvers.accounts import create_account
from server.app import create_app
from server.main import uvicorn_config
from tests.conftest import PASSWORD, free_port, serving
from tests.signin_helpers import Door, HashCounter, door

WRONG = "not the password"
OWNER = "owner@example.com"


async def owner(d: Door, email: str = OWNER, **changes: Any) -> User:
    user = await create_account(
        d.services, name="Owner", email=email, password=PASSWORD, role="user"
    )
    if changes:
        async with d.services.db.transaction() as session:
            await session.execute(update(User).where(User.id == user.id).values(**changes))
    return user


# --- register is no password oracle ------------------------------------------------------


async def test_register_guesses_spend_the_accounts_budget_of_that_client(
    settings: Settings,
) -> None:
    async with door(settings) as d:
        await owner(d)
        guesses = [await d.register(OWNER, f"guess number {i}", "198.51.100.1") for i in range(11)]
        assert guesses == ["EMAIL_EXISTS"] * 10 + ["RATE_LIMITED"]
        # Counted exactly as failed logins: that client's sign-in budget for the account is spent.
        assert await d.login(OWNER, PASSWORD, "198.51.100.1") == "RATE_LIMITED"
        assert await d.login(OWNER, PASSWORD, "198.51.100.2") == "ok"


async def test_register_guesses_from_many_addresses_spend_the_accounts_budget(
    settings: Settings,
) -> None:
    async with door(settings) as d:
        await owner(d)
        answers = [
            await d.register(OWNER, WRONG, f"198.51.{i // 250}.{i % 250 + 1}") for i in range(100)
        ]
        assert answers == ["EMAIL_EXISTS"] * 100
        assert await d.register(OWNER, WRONG, "203.0.113.1") == "RATE_LIMITED"
        # Past the account's budget from anywhere even the owner waits (README, "Security").
        assert await d.login(OWNER, PASSWORD, "203.0.113.2") == "RATE_LIMITED"


@pytest.mark.parametrize("state", ["deactivated", "deleted"])
async def test_register_of_an_unusable_account_says_the_same_to_any_password(
    settings: Settings, state: str
) -> None:
    changes: dict[str, Any] = (
        {"is_active": False} if state == "deactivated" else {"deleted_at": datetime.now(UTC)}
    )
    async with door(settings) as d:
        await owner(d, **changes)
        right = await d.register(OWNER, PASSWORD, "198.51.100.1")
        wrong = await d.register(OWNER, WRONG, "198.51.100.1")
        assert right == wrong == "EMAIL_EXISTS"


async def test_register_replays_only_for_an_active_account(settings: Settings) -> None:
    async with door(settings) as d:
        user = await owner(d)
        body = await d.gql(
            "mutation($input: RegisterInput!) { register(input: $input) { id } }",
            {"input": {"name": "Owner", "email": OWNER, "password": PASSWORD}},
            "198.51.100.1",
        )
        assert body["data"]["register"]["id"] == str(user.id)


async def test_rest_register_is_a_sign_in_attempt_too(settings: Settings) -> None:
    async with door(settings) as d:
        await owner(d)
        body = {"name": "Owner", "email": OWNER, "password": WRONG}
        statuses = [
            (await d.rest("/auth/register", body, "198.51.100.1")).status_code for _ in range(11)
        ]
        assert statuses == [409] * 10 + [429]
        login = await d.rest("/auth/login", {"email": OWNER, "password": PASSWORD}, "198.51.100.1")
        assert login.status_code == 429 and int(login.headers["Retry-After"]) > 0


# --- the owner cannot be locked out --------------------------------------------------------


async def test_failures_from_one_client_do_not_lock_out_the_owner(settings: Settings) -> None:
    async with door(settings) as d:
        await owner(d)
        attacker = [await d.login(OWNER, WRONG, "198.51.100.66") for _ in range(12)]
        assert attacker == ["INVALID_CREDENTIALS"] * 10 + ["RATE_LIMITED"] * 2
        assert await d.login(OWNER, PASSWORD, "192.0.2.10") == "ok"
        # The attacker's client stays refused, even with the right password.
        assert await d.login(OWNER, PASSWORD, "198.51.100.66") == "RATE_LIMITED"


async def test_successful_sign_ins_never_spend_the_accounts_budget(settings: Settings) -> None:
    async with door(settings) as d:
        await owner(d)
        assert [await d.login(OWNER, PASSWORD, "192.0.2.10") for _ in range(20)] == ["ok"] * 20
        failures = [await d.login(OWNER, WRONG, "192.0.2.10") for _ in range(11)]
        assert failures == ["INVALID_CREDENTIALS"] * 10 + ["RATE_LIMITED"]


# --- IPv6: a client is its /64 -------------------------------------------------------------


async def test_an_ipv6_client_is_its_64_for_the_per_client_limits(settings: Settings) -> None:
    async with door(settings) as d:
        answers = [
            await d.register(f"new{i}@example.com", PASSWORD, f"2001:db8:1:2::{i:x}")
            for i in range(1, 22)
        ]
        assert answers == ["ok"] * 20 + ["RATE_LIMITED"]  # REGISTER_RATE_LIMIT_IP: 20/minute
        assert await d.register("other@example.com", PASSWORD, "2001:db8:1:3::1") == "ok"
        assert await d.register("v4@example.com", PASSWORD, "198.51.100.1") == "ok"


async def test_ipv6_failures_from_one_64_share_the_accounts_budget(settings: Settings) -> None:
    async with door(settings) as d:
        await owner(d)
        answers = [await d.login(OWNER, WRONG, f"2001:db8:9:9:{i:x}::1") for i in range(1, 12)]
        assert answers == ["INVALID_CREDENTIALS"] * 10 + ["RATE_LIMITED"]
        assert await d.login(OWNER, PASSWORD, "2001:db8:9:a::1") == "ok"


# --- the budgets ---------------------------------------------------------------------------


async def test_failures_from_anywhere_are_capped_per_account(settings: Settings) -> None:
    async with door(settings, login_rate_limit_account_total="5/minute") as d:
        await owner(d)
        counter = HashCounter(d.services)
        assert [await d.login(OWNER, WRONG, f"198.51.100.{i}") for i in range(1, 6)] == [
            "INVALID_CREDENTIALS"
        ] * 5
        assert counter.take() == ["verify"] * 5
        assert await d.login(OWNER, PASSWORD, "192.0.2.10") == "RATE_LIMITED"
        assert await d.register(OWNER, PASSWORD, "192.0.2.11") == "RATE_LIMITED"
        assert counter.take() == []  # refused before any hash was verified
        assert (
            await d.login("someone.else@example.com", WRONG, "192.0.2.10") == "INVALID_CREDENTIALS"
        )


async def test_attempts_per_client_are_counted_before_hashing(settings: Settings) -> None:
    async with door(settings, login_rate_limit_ip="3/minute") as d:
        await owner(d)
        counter = HashCounter(d.services)
        first = [
            await d.login(OWNER, PASSWORD, "198.51.100.5"),
            await d.login("nobody@example.com", WRONG, "198.51.100.5"),
            await d.register(OWNER, WRONG, "198.51.100.5"),
        ]
        assert first == ["ok", "INVALID_CREDENTIALS", "EMAIL_EXISTS"]
        assert counter.take() == ["verify"] * 3
        assert await d.login(OWNER, PASSWORD, "198.51.100.5") == "RATE_LIMITED"
        assert counter.take() == []
        assert await d.login(OWNER, PASSWORD, "198.51.100.6") == "ok"


async def test_concurrent_guesses_cannot_overshoot_the_budget(settings: Settings) -> None:
    """Each attempt holds its place in the budget while its hash is checked, so guesses in
    flight at once cannot all pass the check before any of them is counted."""
    async with door(settings, login_rate_limit_account_total="10/minute") as d:
        await owner(d)
        counter = HashCounter(d.services)
        answers = await asyncio.gather(
            *(d.login(OWNER, WRONG, f"198.51.100.{i}") for i in range(1, 31))
        )
        assert sorted(answers) == ["INVALID_CREDENTIALS"] * 10 + ["RATE_LIMITED"] * 20
        assert counter.take() == ["verify"] * 10


async def test_every_password_check_verifies_exactly_one_hash(settings: Settings) -> None:
    async with door(settings) as d:
        await owner(d)
        await owner(d, "off@example.com", is_active=False)
        await owner(d, "gone@example.com", deleted_at=datetime.now(UTC))
        counter = HashCounter(d.services)
        ip = iter(f"198.51.100.{i}" for i in range(1, 100))
        for email in (OWNER, "nobody@example.com", "off@example.com", "gone@example.com"):
            for password in (PASSWORD, WRONG):
                await d.login(email, password, next(ip))
                assert counter.take() == ["verify"], ("login", email, password)
                if email != "nobody@example.com":
                    await d.register(email, password, next(ip))
                    assert counter.take() == ["verify"], ("register", email, password)
        assert await d.register("fresh@example.com", PASSWORD, next(ip)) == "ok"
        assert counter.take() == ["hash"]  # a new account: its hash is made, none is verified


def test_the_budgets_are_settings_with_the_documented_defaults() -> None:
    defaults = Settings.from_env({})
    assert defaults.login_rate_limit_account == "10/minute"  # failures, per account and client
    assert defaults.login_rate_limit_account_total == "100/minute"  # failures, per account
    assert defaults.login_rate_limit_ip == "100/minute"  # attempts, per client
    given = Settings.from_env({"LOGIN_RATE_LIMIT_ACCOUNT_TOTAL": "50/hour"})
    assert given.login_rate_limit_account_total == "50/hour"
    with pytest.raises(SettingsError, match="LOGIN_RATE_LIMIT_ACCOUNT_TOTAL"):
        Settings.from_env({"LOGIN_RATE_LIMIT_ACCOUNT_TOTAL": "lots"})


async def test_account_budgets_hold_when_redis_is_down(settings: Settings) -> None:
    """Places are taken and given back in process when Redis does not answer."""
    broken = {"redis_url": "redis://127.0.0.1:1/0", "login_rate_limit_account": "2/minute"}
    async with door(settings, **broken) as d:
        await owner(d)
        attacker = [await d.login(OWNER, WRONG, "198.51.100.1") for _ in range(3)]
        assert attacker == ["INVALID_CREDENTIALS"] * 2 + ["RATE_LIMITED"]
        assert [await d.login(OWNER, PASSWORD, "192.0.2.1") for _ in range(4)] == ["ok"] * 4


# --- through a live server behind a proxy --------------------------------------------------


@pytest.fixture
def proxied_server(settings: Settings) -> Iterator[str]:
    """The app served as `manage.py serve` serves it, with TRUSTED_PROXIES=127.0.0.1: the
    test client is the proxy and names each client in X-Forwarded-For."""
    behind = settings.with_(trusted_proxies=("127.0.0.1",))
    config = uvicorn_config(behind, create_app(behind), "127.0.0.1", free_port())
    config.log_level = "warning"
    with serving(config) as base_url:
        yield base_url


def test_budgets_hold_through_a_live_server_behind_a_proxy(proxied_server: str) -> None:
    with httpx.Client(base_url=proxied_server, timeout=10) as http:

        def post(path: str, ip: str, **body: str) -> int:
            return http.post(path, json=body, headers={"X-Forwarded-For": ip}).status_code

        account = {"name": "Owner", "email": OWNER, "password": PASSWORD}
        assert post("/auth/register", "192.0.2.1", **account) == 201
        # 12 wrong passwords from one address: that address is stopped, the owner is not.
        spent = [
            post("/auth/login", "198.51.100.1", email=OWNER, password=WRONG) for _ in range(12)
        ]
        assert spent == [401] * 10 + [429] * 2
        assert post("/auth/login", "192.0.2.2", email=OWNER, password=PASSWORD) == 200
        # Register guesses from many addresses spend the same account's budget (100 failures).
        guesses = [
            post("/auth/register", f"203.0.113.{i}", **{**account, "password": f"guess number {i}"})
            for i in range(1, 92)
        ]
        assert guesses == [409] * 90 + [429]
        assert post("/auth/login", "192.0.2.3", email=OWNER, password=PASSWORD) == 429
        # Every address of one IPv6 /64 is one client: 100 attempts, then 429.
        tries = [
            post("/auth/login", f"2001:db8:5:6::{i:x}", email=f"u{i}@example.com", password=WRONG)
            for i in range(1, 102)
        ]
        assert tries == [401] * 100 + [429]
