"""The TOTP second factor over GraphQL and REST: enrollment, sign-in with a ticket, replay,
tickets and recovery codes used twice, budgets, disable, new recovery codes, an admin's reset."""

from __future__ import annotations

import asyncio
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from core import totp
from persistence.models import AuthSession, RecoveryCode, TotpFactor
from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes
from tests.mfa_helpers import (
    CONFIRM,
    DISABLE,
    ENROLL,
    LOGIN,
    ME,
    REGENERATE,
    RESET,
    Authenticator,
    StepClock,
    ok,
    ticket_for,
    verify,
    with_totp,
)
from tests.rest_helpers import conforms, data_of, document, error_of


@pytest.fixture
def clock(accounts: Accounts) -> StepClock:
    clock = StepClock()
    accounts.services.clock = clock
    return clock


@pytest.fixture
async def alice(accounts: Accounts, gql: GraphQLClient, clock: StepClock) -> Authenticator:
    return await with_totp(accounts, gql, clock, "alice@example.com")


async def live_sessions(accounts: Accounts, user_id: int) -> int:
    async with accounts.services.db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        )
    return int(count or 0)


# Enrollment


async def test_enrollment_gives_a_secret_and_its_uri_and_confirming_turns_the_factor_on(
    accounts: Accounts, gql: GraphQLClient, clock: StepClock
) -> None:
    token = await accounts.token_for("bob@example.com")
    enrollment = ok(await gql(ENROLL, {"p": PASSWORD}, token), "enrollTotp")
    uri = urlsplit(enrollment["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [enrollment["secret"]]
    assert parse_qs(uri.query)["issuer"] == ["accounts-graphql"]
    assert "bob%40example.com" in uri.path or "bob@example.com" in uri.path
    assert ok(await gql(ME, token=token), "me")["mfaEnabled"] is False  # pending

    wrong = await gql(CONFIRM, {"c": "000000"}, token)
    assert error_codes(wrong) == ["INVALID_MFA_CODE"]
    codes = ok(
        await gql(CONFIRM, {"c": totp.code_at(enrollment["secret"], clock.now())}, token),
        "confirmTotp",
    )["codes"]
    assert len(codes) == len(set(codes)) == 10
    assert ok(await gql(ME, token=token), "me")["mfaEnabled"] is True
    again = await gql(ENROLL, {"p": PASSWORD}, token)
    assert error_codes(again) == ["VALIDATION_ERROR"]  # on: disable it first


async def test_turning_the_factor_on_ends_the_sessions_opened_with_the_password_alone(
    accounts: Accounts, gql: GraphQLClient, clock: StepClock
) -> None:
    token = await accounts.token_for("bob@example.com")
    other = await accounts.login("bob@example.com")
    secret = ok(await gql(ENROLL, {"p": PASSWORD}, token), "enrollTotp")["secret"]
    ok(await gql(CONFIRM, {"c": totp.code_at(secret, clock.now())}, token), "confirmTotp")
    assert error_codes(await gql(ME, token=other["accessToken"])) == ["TOKEN_REVOKED"]
    refreshed = await gql(
        "mutation($r: String!) { refresh(refreshToken: $r) { accessToken } }",
        {"r": other["refreshToken"]},
    )
    assert error_codes(refreshed) == ["TOKEN_REVOKED"]
    assert ok(await gql(ME, token=token), "me")["mfaEnabled"] is True  # this one goes on


async def test_enrolling_checks_the_password_as_a_sign_in_does(
    accounts: Accounts, gql: GraphQLClient, clock: StepClock
) -> None:
    token = await accounts.token_for("bob@example.com")
    wrong = await gql(ENROLL, {"p": "not the password"}, token)
    assert error_codes(wrong) == ["INVALID_CREDENTIALS"]
    confirm = await gql(CONFIRM, {"c": "123456"}, token)
    assert error_codes(confirm) == ["VALIDATION_ERROR"]  # nothing pending
    assert error_codes(await gql(ENROLL, {"p": PASSWORD})) == ["MISSING_AUTH_HEADER"]


async def test_the_secret_and_recovery_codes_are_not_stored_in_clear(
    accounts: Accounts, alice: Authenticator
) -> None:
    async with accounts.services.db.transaction() as session:
        factor = await session.scalar(select(TotpFactor))
        stored = list(await session.scalars(select(RecoveryCode.code_hash)))
    assert factor is not None and alice.secret not in factor.secret_sealed
    assert len(stored) == 10
    for code in alice.recovery_codes:
        plain = code.replace("-", "")
        assert all(code not in h and plain not in h for h in stored)
        assert hashlib.sha256(plain.encode()).hexdigest() not in stored


# Signing in


async def test_login_of_an_mfa_user_without_the_code_opens_no_session_on_either_transport(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient, alice: Authenticator
) -> None:
    before = await live_sessions(accounts, alice.user_id)
    ticket = await ticket_for(gql, alice.email)
    rest = error_of(
        await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD}),
        401,
        "MFA_REQUIRED",
    )
    assert set(rest["details"]) == {"mfa_token"} and rest["details"]["mfa_token"] != ticket
    assert await live_sessions(accounts, alice.user_id) == before
    wrong_password = await gql(LOGIN, {"e": alice.email, "p": "not the password"})
    assert error_codes(wrong_password) == ["INVALID_CREDENTIALS"]  # no ticket without it


async def test_a_ticket_and_a_code_open_a_session(
    gql: GraphQLClient, alice: Authenticator, accounts: Accounts
) -> None:
    before = await live_sessions(accounts, alice.user_id)
    pair = ok(await verify(gql, await ticket_for(gql, alice.email), alice.code()), "verifyMfa")
    assert pair["tokenType"] == "bearer"
    assert ok(await gql(ME, token=pair["accessToken"]), "me")["email"] == alice.email
    assert await live_sessions(accounts, alice.user_id) == before + 1


@pytest.mark.parametrize("steps", [-1, 1])
async def test_one_step_of_clock_drift_is_accepted_and_two_are_not(
    gql: GraphQLClient, alice: Authenticator, steps: int
) -> None:
    alice.clock.advance(3 * totp.STEP_SECONDS)  # two steps back is newer than enrolling spent
    far = await verify(gql, await ticket_for(gql, alice.email), alice.code(2 * steps))
    assert error_codes(far) == ["INVALID_MFA_CODE"]
    ok(await verify(gql, await ticket_for(gql, alice.email), alice.code(steps)), "verifyMfa")


async def test_a_totp_code_is_accepted_once_per_step(
    gql: GraphQLClient, alice: Authenticator
) -> None:
    code = alice.code()
    ok(await verify(gql, await ticket_for(gql, alice.email), code), "verifyMfa")
    replay = await verify(gql, await ticket_for(gql, alice.email), code)
    assert error_codes(replay) == ["INVALID_MFA_CODE"]
    older = await verify(gql, await ticket_for(gql, alice.email), alice.code(-1))
    assert error_codes(older) == ["INVALID_MFA_CODE"]  # a step before the used one
    alice.clock.advance()
    ok(await verify(gql, await ticket_for(gql, alice.email), alice.code()), "verifyMfa")


async def test_a_replayed_code_is_refused_across_processes(
    gql: GraphQLClient, alice: Authenticator, accounts: Accounts
) -> None:
    """The used step lives in the database, not in a process: a second app on the same
    database (another worker) refuses the code too."""
    from server.app import create_app

    code = alice.code()
    ok(await verify(gql, await ticket_for(gql, alice.email), code), "verifyMfa")
    other = create_app(accounts.services.settings)
    async with other.router.lifespan_context(other):
        other.state.services.clock = alice.clock
        transport = httpx.ASGITransport(app=other, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"User-Agent": "pytest-client"}
        ) as http:
            worker = GraphQLClient(http)
            replay = await verify(worker, await ticket_for(worker, alice.email), code)
    assert error_codes(replay) == ["INVALID_MFA_CODE"]


async def test_a_ticket_works_once(gql: GraphQLClient, alice: Authenticator) -> None:
    ticket = await ticket_for(gql, alice.email)
    ok(await verify(gql, ticket, alice.code()), "verifyMfa")
    alice.clock.advance()
    again = await verify(gql, ticket, alice.code())
    assert error_codes(again) == ["INVALID_MFA_CODE"]
    recovery = await verify(gql, ticket, alice.recovery_codes[0])
    assert error_codes(recovery) == ["INVALID_MFA_CODE"]


async def test_concurrent_uses_of_one_ticket_have_exactly_one_winner(
    gql: GraphQLClient, alice: Authenticator
) -> None:
    ticket = await ticket_for(gql, alice.email)
    codes = [alice.code(), alice.recovery_codes[0], alice.recovery_codes[1]]
    answers = await asyncio.gather(*(verify(gql, ticket, code) for code in codes))
    assert sorted(error_codes(a)[:1] or ["ok"] for a in answers) == [
        ["INVALID_MFA_CODE"],
        ["INVALID_MFA_CODE"],
        ["ok"],
    ]


async def test_a_ticket_expires_after_five_minutes(
    gql: GraphQLClient, alice: Authenticator
) -> None:
    ticket = await ticket_for(gql, alice.email)
    alice.clock.advance(5 * 60 + 1)
    late = await verify(gql, ticket, alice.code())
    assert error_codes(late) == ["INVALID_MFA_CODE"]
    ok(await verify(gql, await ticket_for(gql, alice.email), alice.code()), "verifyMfa")


async def test_the_sweep_deletes_expired_tickets_only(
    accounts: Accounts, gql: GraphQLClient, alice: Authenticator
) -> None:
    from persistence.models import MfaTicket
    from resolvers.retention import purge_ended_tickets

    await ticket_for(gql, alice.email)
    alice.clock.advance(5 * 60 + 1)
    assert await purge_ended_tickets(accounts.services) == 1
    live = await ticket_for(gql, alice.email)
    assert await purge_ended_tickets(accounts.services) == 0
    async with accounts.services.db.transaction() as session:
        assert len(list(await session.scalars(select(MfaTicket)))) == 1
    ok(await verify(gql, live, alice.code()), "verifyMfa")


async def test_a_ticket_signs_in_only_its_own_account(
    accounts: Accounts, gql: GraphQLClient, clock: StepClock, alice: Authenticator
) -> None:
    bob = await with_totp(accounts, gql, clock, "bob@example.com")
    alices_ticket = await ticket_for(gql, alice.email)
    with_bobs_code = await verify(gql, alices_ticket, bob.code())
    assert error_codes(with_bobs_code) == ["INVALID_MFA_CODE"]
    with_bobs_recovery = await verify(gql, alices_ticket, bob.recovery_codes[0])
    assert error_codes(with_bobs_recovery) == ["INVALID_MFA_CODE"]
    pair = ok(await verify(gql, alices_ticket, alice.code()), "verifyMfa")
    assert ok(await gql(ME, token=pair["accessToken"]), "me")["email"] == alice.email


async def test_a_ticket_is_bound_to_the_client_that_passed_the_password(
    gql: GraphQLClient, alice: Authenticator
) -> None:
    ticket = await ticket_for(gql, alice.email)
    elsewhere = await gql.http.post(
        "/graphql",
        json={"query": VERIFY_DOC, "variables": {"t": ticket, "c": alice.code()}},
        headers={"User-Agent": "another-browser"},
    )
    assert error_codes(elsewhere.json()) == ["INVALID_MFA_CODE"]
    ok(await verify(gql, ticket, alice.code()), "verifyMfa")


async def test_a_ticket_dies_with_a_sign_out_everywhere(
    gql: GraphQLClient, alice: Authenticator
) -> None:
    ticket = await ticket_for(gql, alice.email)
    assert ok(await gql("mutation { logoutAll }", token=alice.token), "logoutAll") is True
    stale = await verify(gql, ticket, alice.code())
    assert error_codes(stale) == ["INVALID_MFA_CODE"]


async def test_a_recovery_code_works_once(gql: GraphQLClient, alice: Authenticator) -> None:
    code = alice.recovery_codes[3]
    typed = " " + code.upper().replace("-", " - ") + " "  # spaces, dashes and case do not matter
    ok(await verify(gql, await ticket_for(gql, alice.email), typed), "verifyMfa")
    reused = await verify(gql, await ticket_for(gql, alice.email), code)
    assert error_codes(reused) == ["INVALID_MFA_CODE"]
    ok(await verify(gql, await ticket_for(gql, alice.email), alice.recovery_codes[4]), "verifyMfa")


async def test_wrong_codes_spend_the_tickets_budget_then_the_accounts(
    gql: GraphQLClient, alice: Authenticator
) -> None:
    ticket = await ticket_for(gql, alice.email)
    for _ in range(5):  # MFA_RATE_LIMIT_TICKET: 5/5minutes
        assert error_codes(await verify(gql, ticket, "000000")) == ["INVALID_MFA_CODE"]
    exhausted = await verify(gql, ticket, alice.code())  # even the right code
    assert error_codes(exhausted) == ["RATE_LIMITED"]
    assert exhausted["errors"][0]["extensions"]["details"]["retryAfter"] > 0

    second = await ticket_for(gql, alice.email)
    for _ in range(5):  # MFA_RATE_LIMIT_ACCOUNT: 10/hour, over every ticket
        assert error_codes(await verify(gql, second, "aaaaa-aaaaa")) == ["INVALID_MFA_CODE"]
    fresh = await ticket_for(gql, alice.email)
    assert error_codes(await verify(gql, fresh, alice.code())) == ["RATE_LIMITED"]


async def test_right_codes_spend_no_budget(gql: GraphQLClient, alice: Authenticator) -> None:
    for _ in range(12):
        ok(await verify(gql, await ticket_for(gql, alice.email), alice.code()), "verifyMfa")
        alice.clock.advance()


async def test_the_password_steps_budgets_still_apply(
    accounts: Accounts, gql: GraphQLClient, alice: Authenticator
) -> None:
    services = accounts.services
    services.settings = services.settings.with_(login_rate_limit_account="2/minute")
    for _ in range(2):
        wrong = await gql(LOGIN, {"e": alice.email, "p": "not the password"})
        assert error_codes(wrong) == ["INVALID_CREDENTIALS"]
    limited = await gql(LOGIN, {"e": alice.email, "p": PASSWORD})
    assert error_codes(limited) == ["RATE_LIMITED"]  # no ticket either


# REST


async def test_rest_login_answers_a_ticket_that_post_auth_mfa_verify_redeems(
    client: httpx.AsyncClient, alice: Authenticator
) -> None:
    login = await client.post("/auth/login", json={"email": alice.email, "password": PASSWORD})
    ticket = error_of(login, 401, "MFA_REQUIRED")["details"]["mfa_token"]
    doc = await document(client)
    answer = await client.post("/auth/mfa/verify", json={"mfa_token": ticket, "code": "000000"})
    error_of(answer, 401, "INVALID_MFA_CODE")
    answer = await client.post("/auth/mfa/verify", json={"mfa_token": ticket, "code": alice.code()})
    pair = data_of(answer)
    conforms(doc, "/auth/mfa/verify", "post", 200, answer.json())
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert data_of(me)["email"] == alice.email
    twice = await client.post("/auth/mfa/verify", json={"mfa_token": ticket, "code": alice.code()})
    error_of(twice, 401, "INVALID_MFA_CODE")
    missing = await client.post("/auth/mfa/verify", json={"mfa_token": ticket})
    assert error_of(missing, 400, "VALIDATION_ERROR")["details"] == {
        "code": ["Missing data for required field"]
    }


# Turning it off, new recovery codes, an admin's reset


async def test_disabling_needs_the_password_and_a_code_and_ends_the_other_sessions(
    accounts: Accounts, gql: GraphQLClient, alice: Authenticator
) -> None:
    other = ok(await verify(gql, await ticket_for(gql, alice.email), alice.code()), "verifyMfa")
    alice.clock.advance()
    wrong_password = await gql(DISABLE, {"p": "not the password", "c": alice.code()}, alice.token)
    assert error_codes(wrong_password) == ["INVALID_CREDENTIALS"]
    wrong_code = await gql(DISABLE, {"p": PASSWORD, "c": "000000"}, alice.token)
    assert error_codes(wrong_code) == ["INVALID_MFA_CODE"]
    assert ok(await gql(DISABLE, {"p": PASSWORD, "c": alice.code()}, alice.token), "disableTotp")
    assert ok(await gql(ME, token=alice.token), "me")["mfaEnabled"] is False
    assert error_codes(await gql(ME, token=other["accessToken"])) == ["TOKEN_REVOKED"]
    ok(await gql(LOGIN, {"e": alice.email, "p": PASSWORD}), "login")  # no ticket now
    off = await gql(DISABLE, {"p": PASSWORD, "c": alice.code(1)}, alice.token)
    assert error_codes(off) == ["VALIDATION_ERROR"]


async def test_a_recovery_code_disables_the_factor(
    gql: GraphQLClient, alice: Authenticator
) -> None:
    code = alice.recovery_codes[0]
    assert ok(await gql(DISABLE, {"p": PASSWORD, "c": code}, alice.token), "disableTotp")


async def test_new_recovery_codes_replace_the_old_ones_and_end_the_other_sessions(
    gql: GraphQLClient, alice: Authenticator
) -> None:
    other = ok(await verify(gql, await ticket_for(gql, alice.email), alice.code()), "verifyMfa")
    alice.clock.advance()
    wrong = await gql(REGENERATE, {"p": "not the password", "c": alice.code()}, alice.token)
    assert error_codes(wrong) == ["INVALID_CREDENTIALS"]
    codes = ok(
        await gql(REGENERATE, {"p": PASSWORD, "c": alice.code()}, alice.token),
        "regenerateRecoveryCodes",
    )["codes"]
    assert len(codes) == 10 and not set(codes) & set(alice.recovery_codes)
    assert error_codes(await gql(ME, token=other["accessToken"])) == ["TOKEN_REVOKED"]
    old = await verify(gql, await ticket_for(gql, alice.email), alice.recovery_codes[1])
    assert error_codes(old) == ["INVALID_MFA_CODE"]
    ok(await verify(gql, await ticket_for(gql, alice.email), codes[0]), "verifyMfa")


async def test_an_admin_resets_a_users_factor_and_ends_all_their_sessions(
    accounts: Accounts, gql: GraphQLClient, alice: Authenticator
) -> None:
    admin = await accounts.admin_token()
    refused = await gql(RESET, {"u": str(alice.user_id)}, alice.token)
    assert error_codes(refused) == ["FORBIDDEN"]
    unknown = await gql(RESET, {"u": "999999"}, admin)
    assert error_codes(unknown) == ["USER_NOT_FOUND"]
    assert ok(await gql(RESET, {"u": str(alice.user_id)}, admin), "resetMfa") is True
    assert error_codes(await gql(ME, token=alice.token)) == ["TOKEN_REVOKED"]
    pair = ok(await gql(LOGIN, {"e": alice.email, "p": PASSWORD}), "login")
    assert ok(await gql(ME, token=pair["accessToken"]), "me")["mfaEnabled"] is False
    user = ok(
        await gql(
            "query($i: ID!) { user(id: $i) { mfaEnabled } }", {"i": str(alice.user_id)}, admin
        ),
        "user",
    )
    assert user == {"mfaEnabled": False}


async def test_a_sealed_secret_copied_to_another_account_does_not_open(
    accounts: Accounts, gql: GraphQLClient, clock: StepClock, alice: Authenticator
) -> None:
    bob = await with_totp(accounts, gql, clock, "bob@example.com")
    async with accounts.services.db.transaction() as session:
        alices = await session.scalar(
            select(TotpFactor.secret_sealed).where(TotpFactor.user_id == alice.user_id)
        )
        await session.execute(
            update(TotpFactor).where(TotpFactor.user_id == bob.user_id).values(secret_sealed=alices)
        )
    with_alices_code = await verify(gql, await ticket_for(gql, bob.email), alice.code())
    assert error_codes(with_alices_code) == ["INVALID_MFA_CODE"]


VERIFY_DOC = (
    "mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { accessToken } }"
)
