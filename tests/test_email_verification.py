"""emailVerified, verifyEmail, requestEmailVerification, REQUIRE_VERIFIED_EMAIL, changeEmail."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes, every_log_line
from tests.mail_helpers import (
    SMTPServer,
    next_mail,
    run_due_mail,
    smtp_server,  # noqa: F401 (the `smtp` fixture)
    token_in,
)
from tests.test_passwords import Later

VERIFY_URL = "https://app.example.com/verify?token={token}"
REGISTER = (
    'mutation($e: String!) { register(input: {name: "Ada", email: $e, password: "'
    + PASSWORD
    + '"}) { id emailVerified } }'
)
VERIFY = "mutation($t: String!) { verifyEmail(token: $t) { id email emailVerified version } }"
RESEND = "mutation { requestEmailVerification }"
CHANGE = "mutation($p: String!, $e: String!) { changeEmail(password: $p, newEmail: $e) }"
ME = "{ me { email emailVerified lastLoginAt } }"


@pytest.fixture
def settings(settings: Settings, smtp: SMTPServer, request: pytest.FixtureRequest) -> Settings:
    changes: dict[str, Any] = {"smtp_url": smtp.url, "email_verify_url": VERIFY_URL}
    changes.update(getattr(request, "param", {}))
    return settings.with_(**changes)


async def registered(gql: GraphQLClient, accounts: Accounts, smtp: SMTPServer) -> str:
    created = await gql(REGISTER, {"e": "new@example.com"})
    assert created["data"]["register"]["emailVerified"] is False
    mail = await next_mail(accounts.services, smtp.inbox)
    assert mail["To"] == "new@example.com"
    return token_in(mail)


async def test_registration_mails_a_link_that_verifies_once(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    token = await registered(gql, accounts, smtp)
    verified = (await gql(VERIFY, {"t": token}))["data"]["verifyEmail"]
    assert verified["emailVerified"] is True and verified["version"] == 2
    assert error_codes(await gql(VERIFY, {"t": token})) == ["TOKEN_INVALID"]


async def test_a_verification_link_expires_after_24_hours(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    token = await registered(gql, accounts, smtp)
    accounts.services.clock = Later(24 * 3600 + 60)
    assert error_codes(await gql(VERIFY, {"t": token})) == ["TOKEN_INVALID"]


async def test_a_new_verification_mail_voids_the_older(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    first = await registered(gql, accounts, smtp)
    token = (await accounts.login("new@example.com"))["accessToken"]
    assert (await gql(RESEND, token=token))["data"] == {"requestEmailVerification": True}
    second = token_in(await next_mail(accounts.services, smtp.inbox))
    assert error_codes(await gql(VERIFY, {"t": first})) == ["TOKEN_INVALID"]
    assert (await gql(VERIFY, {"t": second}))["data"]["verifyEmail"]["emailVerified"] is True


async def test_verification_mails_are_rate_limited(accounts: Accounts, gql: GraphQLClient) -> None:
    token = await accounts.token_for("user@example.com")
    codes = [error_codes(await gql(RESEND, token=token)) for _ in range(4)]
    assert codes == [[], [], [], ["RATE_LIMITED"]]  # MAIL_RATE_LIMIT_ADDRESS: 3/hour


async def test_create_user_mails_unless_the_admin_says_otherwise(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    admin = await accounts.admin_token()
    create = (
        'mutation($e: String!, $s: Boolean!, $p: String!) { createUser(input: {name: "N", '
        "email: $e, password: $p, sendVerificationEmail: $s}) { id } }"
    )
    quiet = {"e": "quiet@example.com", "s": False, "p": PASSWORD}
    assert "errors" not in await gql(create, quiet, token=admin)
    told = {"e": "told@example.com", "s": True, "p": PASSWORD}
    assert "errors" not in await gql(create, told, token=admin)
    assert (await next_mail(accounts.services, smtp.inbox))["To"] == "told@example.com"
    await run_due_mail(accounts.services)
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("settings", [{"require_verified_email": True}], indirect=True)
async def test_required_verification_refuses_unverified_logins(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    token = await registered(gql, accounts, smtp)
    login = 'mutation { login(email: "new@example.com", password: "%s") { accessToken } }'
    refused = await gql(login % PASSWORD)
    assert error_codes(refused) == ["EMAIL_NOT_VERIFIED"]
    wrong = await gql(login % "not the password at all")
    assert error_codes(wrong) == ["INVALID_CREDENTIALS"]  # the password is checked first
    await gql(VERIFY, {"t": token})
    me = await gql(ME, token=(await accounts.login("new@example.com"))["accessToken"])
    assert me["data"]["me"]["emailVerified"] is True
    assert me["data"]["me"]["lastLoginAt"] is not None


async def test_logins_of_unverified_accounts_work_by_default(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    token = await accounts.token_for("user@example.com")
    assert (await gql(ME, token=token))["data"]["me"]["emailVerified"] is False


async def test_change_email_takes_effect_once_verified_and_tells_the_old_address(
    accounts: Accounts, gql: GraphQLClient, smtp: SMTPServer
) -> None:
    token = await accounts.token_for("user@example.com")
    asked = await gql(CHANGE, {"p": PASSWORD, "e": "New.Address@example.com"}, token=token)
    assert asked == {"data": {"changeEmail": True}}
    assert (await gql(ME, token=token))["data"]["me"]["email"] == "user@example.com"
    mail = await next_mail(accounts.services, smtp.inbox)
    assert mail["To"] == "new.address@example.com"
    changed = (await gql(VERIFY, {"t": token_in(mail)}))["data"]["verifyEmail"]
    assert changed["email"] == "new.address@example.com" and changed["emailVerified"] is True
    notice = await next_mail(accounts.services, smtp.inbox)
    assert notice["To"] == "user@example.com" and "new.address@example.com" in str(notice)
    await accounts.login("new.address@example.com")


async def test_change_email_checks_the_password_and_the_address(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    await accounts.user("taken@example.com")
    token = await accounts.token_for("user@example.com")
    wrong = await gql(CHANGE, {"p": "not my password!", "e": "a@example.com"}, token=token)
    assert error_codes(wrong) == ["INVALID_CREDENTIALS"]
    taken = await gql(CHANGE, {"p": PASSWORD, "e": "Taken@example.com"}, token=token)
    assert error_codes(taken) == ["EMAIL_EXISTS"]


@pytest.mark.parametrize("settings", [{"smtp_url": None}], indirect=True)
async def test_without_smtp_mails_go_to_the_outbox_and_the_link_is_logged(
    settings: Settings, accounts: Accounts, gql: GraphQLClient, tmp_path: Path
) -> None:
    await gql(REGISTER, {"e": "new@example.com"})
    outbox = Path(settings.mail_outbox_dir)

    def link_logged() -> bool:
        return any("https://app.example.com/verify?token=" in line for line in every_log_line())

    for _ in range(250):  # the sender writes the file, then logs its link
        await run_due_mail(accounts.services)
        if outbox.exists() and list(outbox.glob("*.eml")) and link_logged():
            break
        await asyncio.sleep(0.02)
    [eml] = list(outbox.glob("*.eml"))
    assert "new@example.com" in eml.read_text()
    assert link_logged()
