"""changePassword, requestPasswordReset and resetPassword, with mail read from a real SMTP server."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.settings import Settings
from persistence.models import OutgoingMail, User
from tests.conftest import (
    PASSWORD,
    Accounts,
    GraphQLClient,
    error_codes,
    in_app_background,
    listen_to_sql,
)
from tests.mail_helpers import (
    SMTPServer,
    body,
    next_mail,
    run_due_mail,
    smtp_server,  # noqa: F401 (the `smtp` fixture)
    token_in,
)

NEW_PASSWORD = "a brand new passphrase"
RESET_URL = "https://app.example.com/reset?token={token}"

REQUEST = "mutation($e: String!) { requestPasswordReset(email: $e) }"
RESET = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }"
CHANGE = (
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
)
ME = "{ me { id email } }"


@pytest.fixture
def settings(settings: Settings, smtp: SMTPServer) -> Settings:
    return settings.with_(
        smtp_url=smtp.url, mail_from="accounts@example.com", password_reset_url=RESET_URL
    )


class Later:
    def __init__(self, seconds: float) -> None:
        self.offset = timedelta(seconds=seconds)

    def now(self) -> Any:
        from core.clock import SystemClock

        return SystemClock().now() + self.offset


async def reset_token(accounts: Accounts, smtp: SMTPServer, email: str) -> str:
    body_ = await accounts.gql(REQUEST, {"e": email})
    assert body_ == {"data": {"requestPasswordReset": True}}
    return token_in(await next_mail(accounts.services, smtp.inbox))


async def test_the_mailed_link_resets_the_password_and_ends_every_session(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    await accounts.user("user@example.com")
    old = (await accounts.login("user@example.com"))["accessToken"]
    await gql(REQUEST, {"e": "User@Example.com"})
    mail = await next_mail(accounts.services, smtp.inbox)
    assert mail["To"] == "user@example.com" and mail["From"] == "accounts@example.com"
    token = token_in(mail)
    assert len(token) >= 22  # at least 128 bits, base64url
    assert f"https://app.example.com/reset?token={token}" in body(mail, "plain")
    assert f'href="https://app.example.com/reset?token={token}"' in body(mail, "html")
    assert await gql(RESET, {"t": token, "p": NEW_PASSWORD}) == {"data": {"resetPassword": True}}
    assert error_codes(await gql(ME, token=old)) == ["TOKEN_REVOKED"]
    await accounts.login("user@example.com", NEW_PASSWORD)
    refused = await gql(
        'mutation($p: String!) { login(email: "user@example.com", password: $p) { accessToken } }',
        {"p": PASSWORD},
    )
    assert error_codes(refused) == ["INVALID_CREDENTIALS"]


async def test_a_reset_token_works_once(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    await accounts.user("user@example.com")
    token = await reset_token(accounts, smtp, "user@example.com")
    assert (await gql(RESET, {"t": token, "p": NEW_PASSWORD}))["data"] == {"resetPassword": True}
    replay = await gql(RESET, {"t": token, "p": "yet another passphrase"})
    assert error_codes(replay) == ["TOKEN_INVALID"]
    await accounts.login("user@example.com", NEW_PASSWORD)


async def test_a_reset_token_expires_after_30_minutes(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    await accounts.user("user@example.com")
    token = await reset_token(accounts, smtp, "user@example.com")
    accounts.services.clock = Later(31 * 60)
    assert error_codes(await gql(RESET, {"t": token, "p": NEW_PASSWORD})) == ["TOKEN_INVALID"]
    accounts.services.clock = Later(0)
    await accounts.login("user@example.com")  # the password did not change


async def test_a_bad_token_is_invalid(accounts: Accounts, gql: GraphQLClient) -> None:
    for token in ("nonsense", "x" * 5000, ""):
        assert error_codes(await gql(RESET, {"t": token, "p": NEW_PASSWORD})) == ["TOKEN_INVALID"]


async def test_a_newer_request_voids_the_older_token(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    await accounts.user("user@example.com")
    first = await reset_token(accounts, smtp, "user@example.com")
    second = await reset_token(accounts, smtp, "user@example.com")
    assert error_codes(await gql(RESET, {"t": first, "p": NEW_PASSWORD})) == ["TOKEN_INVALID"]
    assert (await gql(RESET, {"t": second, "p": NEW_PASSWORD}))["data"] == {"resetPassword": True}


def count_writes(accounts: Accounts) -> tuple[list[str], Any]:
    writes: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if in_app_background():
            return  # the in-process sender or the app's sweep at work, not the request
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    return writes, listen_to_sql(accounts.services.db, seen)


async def test_an_unknown_address_gets_the_same_answer_and_the_same_writes(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    await accounts.user("user@example.com")
    answers, counts = [], []
    for email in ("user@example.com", "nobody@example.com"):
        writes, stop = count_writes(accounts)
        started = time.perf_counter()
        answers.append(await gql(REQUEST, {"e": email}))
        counts.append((len(writes), time.perf_counter() - started))
        stop()
    assert answers[0] == answers[1] == {"data": {"requestPasswordReset": True}}
    assert counts[0][0] == counts[1][0] == 2  # the outgoing mail and its audit event
    await next_mail(accounts.services, smtp.inbox)  # the known address's
    await run_due_mail(accounts.services)
    await asyncio.sleep(0.1)
    assert smtp.inbox.messages == []  # nothing for the unknown one


@pytest.mark.parametrize("change", ["deactivated", "deleted"])
async def test_a_deactivated_or_deleted_account_gets_no_mail_and_no_reset(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer, change: str
) -> None:
    user = await accounts.user("user@example.com")
    token = await reset_token(accounts, smtp, "user@example.com")
    values: dict[str, Any] = (
        {"is_active": False} if change == "deactivated" else {"deleted_at": Later(0).now()}
    )
    async with accounts.services.db.transaction() as session:
        await session.execute(update(User).where(User.id == user.id).values(**values))
    assert error_codes(await gql(RESET, {"t": token, "p": NEW_PASSWORD})) == ["TOKEN_INVALID"]
    await gql(REQUEST, {"e": "user@example.com"})
    await run_due_mail(accounts.services)
    await asyncio.sleep(0.1)
    assert smtp.inbox.messages == []


async def test_concurrent_resets_with_one_token_have_exactly_one_winner(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    await accounts.user("user@example.com")
    token = await reset_token(accounts, smtp, "user@example.com")
    answers = await asyncio.gather(
        *(gql(RESET, {"t": token, "p": f"{NEW_PASSWORD} {n}"}) for n in range(8))
    )
    won = [a for a in answers if a.get("data") == {"resetPassword": True}]
    assert len(won) == 1
    assert sorted(code for a in answers for code in error_codes(a)) == ["TOKEN_INVALID"] * 7


async def test_reset_requests_are_limited_per_address(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    for _ in range(3):
        assert (await gql(REQUEST, {"e": "nobody@example.com"}))["data"] is not None
    limited = await gql(REQUEST, {"e": "nobody@example.com"})
    assert error_codes(limited) == ["RATE_LIMITED"]
    assert (await gql(REQUEST, {"e": "other@example.com"}))["data"] is not None


async def test_a_mail_server_that_is_down_delays_the_mail_and_loses_nothing(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    await accounts.user("user@example.com")
    smtp.stop()
    started = time.perf_counter()
    assert (await gql(REQUEST, {"e": "user@example.com"}))["data"] == {"requestPasswordReset": True}
    assert time.perf_counter() - started < 2.0  # the request never waits for SMTP
    row = await first_failure(accounts)
    assert row.sent_at is None and row.not_before is not None
    assert row.not_before > Later(20).now() and row.error == "ConnectionRefusedError"
    smtp.start()
    accounts.services.clock = Later(3600)  # past the backoff
    token = token_in(await next_mail(accounts.services, smtp.inbox))
    assert (await gql(RESET, {"t": token, "p": NEW_PASSWORD}))["data"] == {"resetPassword": True}


async def first_failure(accounts: Accounts) -> OutgoingMail:
    """The queued mail once a sender has tried it and failed (in process, the background
    sender may be the one)."""
    for _ in range(250):
        await run_due_mail(accounts.services)
        async with accounts.services.db.transaction() as session:
            row: OutgoingMail = (await session.scalars(select(OutgoingMail))).one()
        if row.attempts >= 1:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError("the mail was never tried")


async def test_change_password_keeps_this_session_and_ends_the_others(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    await accounts.user("user@example.com")
    this = (await accounts.login("user@example.com"))["accessToken"]
    other = (await accounts.login("user@example.com"))["accessToken"]
    changed = await gql(CHANGE, {"c": PASSWORD, "n": NEW_PASSWORD}, token=this)
    assert changed == {"data": {"changePassword": True}}
    assert (await gql(ME, token=this))["data"]["me"]["email"] == "user@example.com"
    assert error_codes(await gql(ME, token=other)) == ["TOKEN_REVOKED"]
    await accounts.login("user@example.com", NEW_PASSWORD)


async def test_change_password_checks_the_current_one_against_the_sign_in_budget(
    settings: Settings, accounts: Accounts, gql: GraphQLClient
) -> None:
    token = await accounts.token_for("user@example.com")
    codes = [
        error_codes(await gql(CHANGE, {"c": "wrong password!", "n": NEW_PASSWORD}, token=token))
        for _ in range(11)
    ]
    assert codes[:10] == [["INVALID_CREDENTIALS"]] * 10  # LOGIN_RATE_LIMIT_ACCOUNT: 10/minute
    assert codes[10] == ["RATE_LIMITED"]
    services = accounts.services
    async with services.db.transaction() as session:
        user = (await session.scalars(select(User))).one()
    assert services.hasher.verify(user.password_hash, PASSWORD)  # unchanged


async def test_change_password_applies_the_policy(accounts: Accounts, gql: GraphQLClient) -> None:
    token = await accounts.token_for("user@example.com")
    answer = await gql(CHANGE, {"c": PASSWORD, "n": "short"}, token=token)
    assert error_codes(answer) == ["VALIDATION_ERROR"]
    assert "newPassword" in answer["errors"][0]["extensions"]["details"]


async def test_change_password_needs_a_session(gql: GraphQLClient) -> None:
    answer = await gql(CHANGE, {"c": PASSWORD, "n": NEW_PASSWORD})
    assert error_codes(answer) == ["MISSING_AUTH_HEADER"]


@pytest.mark.mysql_only
async def test_with_redis_a_real_rq_worker_sends_the_mail(
    settings: Settings, accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    from tests.jobs_helpers import rq_worker

    await accounts.user("user@example.com")
    await gql(REQUEST, {"e": "user@example.com"})
    worker = rq_worker(settings, extra_env={"SMTP_URL": smtp.url, "PASSWORD_RESET_URL": RESET_URL})
    out, _ = await asyncio.to_thread(worker.communicate, timeout=60)
    assert worker.returncode == 0, out.decode()
    [mail] = smtp.inbox.messages
    token = token_in(mail)
    assert (await gql(RESET, {"t": token, "p": NEW_PASSWORD}))["data"] == {"resetPassword": True}


async def test_a_mail_whose_queue_entry_was_lost_is_queued_again_by_the_sweep(
    accounts: Accounts, smtp: SMTPServer
) -> None:
    from resolvers.mail import queue_mail, sweep_mail

    services = accounts.services
    user = await accounts.user("user@example.com")
    async with services.db.transaction() as session:  # asked for, never handed to a queue
        await queue_mail(services, session, kind="password_reset", address=user.email, user_id=None)
    assert await sweep_mail(services) == 0  # a queue entry may still be waiting for a worker
    services.clock = Later(301)
    assert await sweep_mail(services) == 1
    assert await sweep_mail(services) == 0  # handed over once, not every sweep
    assert token_in(await next_mail(services, smtp.inbox))
