"""The token lifecycle over GraphQL: register, login, me, refresh rotation, logout, limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.conftest import PASSWORD, TEST_SECRET, Accounts, GraphQLClient, error_codes

ME = "{ me { id email role name } }"
REGISTER = """mutation($input: RegisterInput!) { register(input: $input) { id email role } }"""
REFRESH = "mutation($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }"


def register_input(**changes: Any) -> dict[str, Any]:
    data = {"name": "Grace", "email": "grace@example.com", "password": PASSWORD}
    data.update(changes)
    return {"input": data}


async def test_register_login_and_me(gql: GraphQLClient, accounts: Accounts) -> None:
    created = await gql(REGISTER, register_input())
    assert created["data"]["register"]["role"] == "USER"
    pair = await accounts.login("grace@example.com")
    assert pair["tokenType"] == "bearer" and pair["expiresIn"] == 600
    me = await gql(ME, token=pair["accessToken"])
    assert me["data"]["me"]["email"] == "grace@example.com"


async def test_register_replays_for_same_password(gql: GraphQLClient) -> None:
    first = await gql(REGISTER, register_input())
    again = await gql(REGISTER, register_input(email="GRACE@example.com "))
    assert again["data"]["register"] == first["data"]["register"]


async def test_register_with_another_password_is_email_exists(gql: GraphQLClient) -> None:
    await gql(REGISTER, register_input())
    body = await gql(REGISTER, register_input(password="another password here"))
    assert error_codes(body) == ["EMAIL_EXISTS"]


async def test_public_register_cannot_ask_for_admin(gql: GraphQLClient, accounts: Accounts) -> None:
    body = await gql(REGISTER, register_input(role="ADMIN"))
    assert error_codes(body) == ["FORBIDDEN"]
    admin = await accounts.admin_token()
    made = await gql(REGISTER, register_input(role="ADMIN"), token=admin)
    assert made["data"]["register"]["role"] == "ADMIN"


async def test_register_lists_every_bad_field(gql: GraphQLClient) -> None:
    body = await gql(REGISTER, register_input(name=" ", email="not-an-email", password="short"))
    assert error_codes(body) == ["VALIDATION_ERROR"]
    details = body["errors"][0]["extensions"]["details"]
    assert set(details) == {"name", "email", "password"}


async def test_long_passwords_are_verified_whole(gql: GraphQLClient, accounts: Accounts) -> None:
    long_password = "p" * 100 + " with spaces  "
    await gql(REGISTER, register_input(password=long_password))
    assert (await accounts.login("grace@example.com", long_password))["accessToken"]
    for near in (long_password.strip(), long_password[:72], long_password + "x"):
        body = await gql(
            'mutation($p: String!) { login(email: "grace@example.com", password: $p)'
            " { accessToken } }",
            {"p": near},
        )
        assert error_codes(body) == ["INVALID_CREDENTIALS"]


async def test_wrong_password_and_unknown_email_look_the_same(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    await accounts.user("known@example.com")
    query = (
        'mutation($e: String!) { login(email: $e, password: "wrong password!") { accessToken } }'
    )
    wrong = await gql(query, {"e": "known@example.com"})
    unknown = await gql(query, {"e": "nobody@example.com"})
    assert error_codes(wrong) == error_codes(unknown) == ["INVALID_CREDENTIALS"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


def count_verifies(services: Any) -> list[str]:
    """The hashes `services` verifies passwords against from now on (the real hasher runs)."""
    calls: list[str] = []
    hasher = services.hasher
    original = type(hasher).verify

    class CountingHasher(type(hasher)):  # type: ignore[misc]
        def verify(self, password_hash: str, password: str) -> bool:
            calls.append(password_hash)
            return bool(original(self, password_hash, password))

    services.hasher = CountingHasher(hasher._argon, hasher.min_length)
    return calls


async def test_unknown_email_costs_one_verify(gql: GraphQLClient, accounts: Accounts) -> None:
    calls = count_verifies(accounts.services)
    await gql(
        'mutation { login(email: "nobody@example.com", password: "whatever1") { accessToken } }'
    )
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


async def test_me_without_token_is_missing_auth_header(gql: GraphQLClient) -> None:
    assert error_codes(await gql(ME)) == ["MISSING_AUTH_HEADER"]
    body = await gql(ME, headers={"Authorization": "Basic abc"})
    assert error_codes(body) == ["MISSING_AUTH_HEADER"]


def forged(claims: dict[str, Any], key: str = TEST_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


async def test_jwt_rejection_matrix(gql: GraphQLClient, accounts: Accounts) -> None:
    await accounts.user()
    pair = await accounts.login("user@example.com")
    good = jwt.decode(pair["accessToken"], options={"verify_signature": False})
    now = int(datetime.now(UTC).timestamp())
    no_key: Any = None  # the `none` algorithm signs with no key
    unsigned = jwt.encode(good, no_key, algorithm="none")
    cases = {
        "malformed": ("not.a.jwt", "TOKEN_INVALID"),
        "alg none": (unsigned, "TOKEN_INVALID"),
        "wrong secret": (forged(good, "another-secret-that-is-long-enough-xx"), "TOKEN_INVALID"),
        "HS512 swap": (forged(good, alg="HS512"), "TOKEN_INVALID"),
        "refresh as access": (pair["refreshToken"], "TOKEN_INVALID"),
        "wrong audience": (forged({**good, "aud": "someone-else"}), "TOKEN_INVALID"),
        "wrong issuer": (forged({**good, "iss": "evil"}), "TOKEN_INVALID"),
        "no jti": (forged({k: v for k, v in good.items() if k != "jti"}), "TOKEN_INVALID"),
        "expired": (forged({**good, "exp": now - 1}), "TOKEN_EXPIRED"),
        "unknown session": (forged({**good, "sid": "nope"}), "TOKEN_REVOKED"),
    }
    for name, (token, code) in cases.items():
        assert error_codes(await gql(ME, token=token)) == [code], name
    access_as_refresh = await gql(REFRESH, {"t": pair["accessToken"]})
    assert error_codes(access_as_refresh) == ["TOKEN_INVALID"]
    still = await gql(ME, token=pair["accessToken"])  # none of them revoked the real token
    assert "errors" not in still and still["data"]["me"]["email"] == "user@example.com"


async def test_refresh_rotates_only_that_session(gql: GraphQLClient, accounts: Accounts) -> None:
    await accounts.user()
    phone = await accounts.login("user@example.com")
    laptop = await accounts.login("user@example.com")
    rotated = (await gql(REFRESH, {"t": phone["refreshToken"]}))["data"]["refresh"]
    assert error_codes(await gql(ME, token=phone["accessToken"])) == ["TOKEN_REVOKED"]
    assert "errors" not in await gql(ME, token=rotated["accessToken"])
    assert "errors" not in await gql(ME, token=laptop["accessToken"])


async def test_reused_refresh_token_revokes_the_session(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    await accounts.user()
    pair = await accounts.login("user@example.com")
    rotated = (await gql(REFRESH, {"t": pair["refreshToken"]}))["data"]["refresh"]
    replay = await gql(REFRESH, {"t": pair["refreshToken"]})
    assert error_codes(replay) == ["TOKEN_REVOKED"]
    assert error_codes(await gql(ME, token=rotated["accessToken"])) == ["TOKEN_REVOKED"]
    assert error_codes(await gql(REFRESH, {"t": rotated["refreshToken"]})) == ["TOKEN_REVOKED"]


async def test_concurrent_refreshes_exactly_one_wins(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    await accounts.user()
    pair = await accounts.login("user@example.com")
    results = await asyncio.gather(*(gql(REFRESH, {"t": pair["refreshToken"]}) for _ in range(8)))
    winners = [r for r in results if "errors" not in r]
    assert len(winners) == 1
    assert all(error_codes(r) == ["TOKEN_REVOKED"] for r in results if "errors" in r)


async def test_logout_revokes_access_and_refresh(gql: GraphQLClient, accounts: Accounts) -> None:
    await accounts.user()
    pair = await accounts.login("user@example.com")
    other = await accounts.login("user@example.com")
    assert (await gql("mutation { logout }", token=pair["accessToken"]))["data"] == {"logout": True}
    assert error_codes(await gql(ME, token=pair["accessToken"])) == ["TOKEN_REVOKED"]
    assert error_codes(await gql(REFRESH, {"t": pair["refreshToken"]})) == ["TOKEN_REVOKED"]
    assert "errors" not in await gql(ME, token=other["accessToken"])


async def test_logout_all_revokes_every_session(gql: GraphQLClient, accounts: Accounts) -> None:
    await accounts.user()
    sessions = [await accounts.login("user@example.com") for _ in range(3)]
    await gql("mutation { logoutAll }", token=sessions[0]["accessToken"])
    for pair in sessions:
        assert error_codes(await gql(ME, token=pair["accessToken"])) == ["TOKEN_REVOKED"]
        assert error_codes(await gql(REFRESH, {"t": pair["refreshToken"]})) == ["TOKEN_REVOKED"]
    assert (await accounts.login("user@example.com"))["accessToken"]


async def test_revocation_survives_a_restart(
    settings: Any, accounts: Accounts, gql: GraphQLClient
) -> None:
    import httpx

    from server.app import create_app
    from tests.conftest import GraphQLClient as Client

    await accounts.user()
    pair = await accounts.login("user@example.com")
    await gql("mutation { logout }", token=pair["accessToken"])
    restarted = create_app(settings)
    async with restarted.router.lifespan_context(restarted):
        transport = httpx.ASGITransport(app=restarted, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"User-Agent": "pytest-client"}
        ) as http:
            assert error_codes(await Client(http)(ME, token=pair["accessToken"])) == [
                "TOKEN_REVOKED"
            ]


async def test_token_from_another_user_agent_is_refused(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    await accounts.user()
    pair = await accounts.login("user@example.com")
    body = await gql(ME, token=pair["accessToken"], headers={"User-Agent": "stolen-laptop"})
    assert error_codes(body) == ["TOKEN_CONTEXT_MISMATCH"]
    stolen = await gql(REFRESH, {"t": pair["refreshToken"]}, headers={"User-Agent": "thief"})
    assert error_codes(stolen) == ["TOKEN_CONTEXT_MISMATCH"]


async def test_expired_access_token_then_refresh(gql: GraphQLClient, accounts: Accounts) -> None:
    await accounts.user()
    pair = await accounts.login("user@example.com")
    later = datetime.now(UTC) + timedelta(seconds=601)
    accounts.services.clock = type("Later", (), {"now": staticmethod(lambda: later)})()
    assert error_codes(await gql(ME, token=pair["accessToken"])) == ["TOKEN_EXPIRED"]
    fresh = (await gql(REFRESH, {"t": pair["refreshToken"]}))["data"]["refresh"]
    assert "errors" not in await gql(ME, token=fresh["accessToken"])


async def test_session_has_an_absolute_lifetime(gql: GraphQLClient, accounts: Accounts) -> None:
    await accounts.user()
    pair = await accounts.login("user@example.com")
    later = datetime.now(UTC) + timedelta(seconds=2_592_001)
    accounts.services.clock = type("Later", (), {"now": staticmethod(lambda: later)})()
    assert error_codes(await gql(REFRESH, {"t": pair["refreshToken"]})) == ["TOKEN_EXPIRED"]


async def test_aliased_logins_are_refused_before_running(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    await accounts.user()
    doc = (
        'mutation { a: login(email: "user@example.com", password: "x1234567") { accessToken }'
        ' b: login(email: "user@example.com", password: "y1234567") { accessToken } }'
    )
    body = await gql(doc)
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"] and body.get("data") is None
    via_fragments = """mutation { ...A ...B }
      fragment A on Mutation { login(email: "u@x.io", password: "x1234567") { accessToken } }
      fragment B on Mutation { refresh(refreshToken: "r") { accessToken } }"""
    assert error_codes(await gql(via_fragments)) == ["QUERY_TOO_COMPLEX"]


@pytest.mark.parametrize("limit_setting", ["login_rate_limit_account"])
async def test_login_is_limited_per_account_before_hashing(
    settings: Any, limit_setting: str
) -> None:
    import httpx

    from server.app import create_app
    from tests.conftest import Accounts as Factory
    from tests.conftest import GraphQLClient as Client

    app = create_app(settings.with_(**{limit_setting: "3/minute"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            client = Client(http)
            await Factory(app, client).user()
            verified = count_verifies(app.state.services)
            doc = 'mutation { login(email: "user@example.com", password: "wrong one!") { accessToken } }'
            codes = [error_codes(await client(doc))[0] for _ in range(4)]
            assert codes == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"]
            assert len(verified) == 3  # the limited attempt hashed nothing
            limited = await client(doc)
            assert limited["errors"][0]["extensions"]["details"]["retryAfter"] > 0
            # The right password is refused too while the account is limited.
            right = await client(
                f'mutation {{ login(email: "user@example.com", password: "{PASSWORD}") '
                "{ accessToken } }"
            )
            assert error_codes(right) == ["RATE_LIMITED"]
            assert len(verified) == 3


@pytest.mark.mysql_only
async def test_login_limit_is_shared_by_two_instances(settings: Any, backend: str) -> None:
    """Two app instances (two workers) count against one Redis budget."""
    import httpx

    from server.app import create_app
    from tests.conftest import GraphQLClient as Client

    limited = settings.with_(login_rate_limit_ip="4/minute")
    apps = [create_app(limited), create_app(limited)]
    doc = 'mutation { login(email: "x@example.com", password: "wrong one!") { accessToken } }'
    codes: list[str] = []
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=a, client=("198.51.100.4", 1)),
                base_url="http://t",
            )
            for a in apps
        ]
        for i in range(6):
            codes.append(error_codes(await Client(clients[i % 2])(doc))[0])
        for http in clients:
            await http.aclose()
    assert codes == ["INVALID_CREDENTIALS"] * 4 + ["RATE_LIMITED"] * 2


async def test_login_limits_hold_when_redis_is_down(settings: Any) -> None:
    """A dead Redis degrades limits to per-process counting; it never switches them off."""
    import httpx

    from server.app import create_app
    from tests.conftest import GraphQLClient as Client

    broken = settings.with_(redis_url="redis://127.0.0.1:1/0", login_rate_limit_ip="2/minute")
    app = create_app(broken)
    doc = 'mutation { login(email: "x@example.com", password: "wrong one!") { accessToken } }'
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("198.51.100.5", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            codes = [error_codes(await Client(http)(doc))[0] for _ in range(3)]
    assert codes == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "RATE_LIMITED"]


async def test_login_rehashes_when_parameters_change(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    from core.passwords import PasswordHasher
    from persistence import users as users_repo

    services = accounts.services
    old = await accounts.user()
    services.hasher = PasswordHasher.for_profile(
        "owasp"
    )  # stronger parameters than the stored hash
    await accounts.login("user@example.com")
    async with services.db.transaction() as session:
        stored = await users_repo.get(session, old.id)
    assert stored is not None and stored.password_hash != old.password_hash
    assert "m=19456,t=2,p=1" in stored.password_hash
    assert services.hasher.verify(stored.password_hash, PASSWORD)


async def test_admin_registration_with_an_expired_token_says_expired(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    admin = await accounts.admin_token()
    later = datetime.now(UTC) + timedelta(seconds=601)
    accounts.services.clock = type("Later", (), {"now": staticmethod(lambda: later)})()
    body = await gql(REGISTER, register_input(role="ADMIN"), token=admin)
    assert error_codes(body) == ["TOKEN_EXPIRED"]
    plain = await gql(REGISTER, register_input(email="plain@example.com"), token=admin)
    assert plain["data"]["register"]["role"] == "USER"  # public sign-up ignores a stale token


async def test_forwarded_for_is_believed_only_from_trusted_proxies(settings: Any) -> None:
    """Behind a trusted proxy the token binds to the client's address; elsewhere the header is
    ignored, so a client cannot spoof its address (and its rate-limit bucket)."""
    import httpx

    from server.app import create_app
    from tests.conftest import Accounts as Factory
    from tests.conftest import GraphQLClient as Client

    app = create_app(settings.with_(trusted_proxies=("10.0.0.0/8",)))
    async with app.router.lifespan_context(app):
        proxy = httpx.ASGITransport(app=app, client=("10.1.2.3", 1))
        direct = httpx.ASGITransport(app=app, client=("203.0.113.50", 1))
        async with (
            httpx.AsyncClient(
                transport=proxy, base_url="http://t", headers={"User-Agent": "ua"}
            ) as via_proxy,
            httpx.AsyncClient(
                transport=direct, base_url="http://t", headers={"User-Agent": "ua"}
            ) as spoofer,
        ):
            behind = Client(via_proxy)
            await Factory(app, behind).user()
            pair = await Factory(app, behind).login(
                "user@example.com", headers={"X-Forwarded-For": "198.51.100.1"}
            )
            same = await behind(
                ME, token=pair["accessToken"], headers={"X-Forwarded-For": "198.51.100.1"}
            )
            moved = await behind(
                ME, token=pair["accessToken"], headers={"X-Forwarded-For": "198.51.100.2"}
            )
            assert "errors" not in same
            assert error_codes(moved) == ["TOKEN_CONTEXT_MISMATCH"]
            own = await Factory(app, Client(spoofer)).login("user@example.com")
            spoofed = await Client(spoofer)(
                ME, token=own["accessToken"], headers={"X-Forwarded-For": "198.51.100.9"}
            )
            assert "errors" not in spoofed  # the header changed nothing: still 203.0.113.50
