"""The audit log as written: every action of the contract records its event in the transaction of
the change (GraphQL and REST alike), a rolled-back change leaves none, and no event holds a secret."""

from __future__ import annotations

import re

import httpx
import pytest

from core.audit import ACTIONS, AuditAction, details_json
from core.settings import Settings
from tests.audit_helpers import actions, details, stored_events
from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes, leaks_a_secret
from tests.mail_helpers import (
    SMTPServer,
    next_mail,
    smtp_server,  # noqa: F401 (the `smtp` fixture)
    token_in,
)
from tests.rest_helpers import bearer, data_of, error_of

NEW_PASSWORD = "a brand new passphrase"
CONTRACT_ACTIONS = (
    "login.succeeded", "login.failed", "token.reuse_detected", "logout", "logout_all",
    "session.revoked", "password.changed", "password.reset_requested", "password.reset",
    "email.verification_sent", "email.verified", "email.changed", "mfa.enabled", "mfa.disabled",
    "mfa.reset", "apikey.created", "apikey.revoked", "user.created", "user.updated",
    "user.role_changed", "user.deleted", "user.restored", "export.requested", "export.downloaded",
)  # fmt: skip

LOGIN = (
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
    "{ accessToken refreshToken } }"
)
REFRESH = "mutation($r: String!) { refresh(refreshToken: $r) { accessToken refreshToken } }"
UPDATE = (
    "mutation($id: ID!, $i: UpdateUserInput!, $m: String) "
    "{ updateUser(id: $id, input: $i, ifMatch: $m) { id etag role } }"
)
DELETE = "mutation($id: ID!, $m: String) { deleteUser(id: $id, ifMatch: $m) }"
RESTORE = "mutation($id: ID!) { restoreUser(id: $id) { id } }"
CREATE = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
SESSIONS = "{ mySessions { id current } }"


@pytest.fixture
def settings(settings: Settings, smtp: SMTPServer) -> Settings:
    return settings.with_(smtp_url=smtp.url)


def test_the_actions_are_the_contracts() -> None:
    assert sorted(ACTIONS) == sorted(CONTRACT_ACTIONS)


def test_details_naming_a_secret_are_refused() -> None:
    for bad in (
        {"password": "x"},
        {"new_password_hash": "x"},
        {"outer": {"refreshToken": "x"}},
        {"items": [{"recovery_codes": ["1"]}]},
        {"apiKeySecret": "x"},
    ):
        with pytest.raises(ValueError, match="may not carry"):
            details_json(bad)
    assert details_json({"fields": ["password"], "door": "login"}) == (
        '{"door":"login","fields":["password"]}'
    )
    assert details_json(None) is None and details_json({}) is None


async def test_sign_in_events_name_who_from_where(gql: GraphQLClient, accounts: Accounts) -> None:
    user = await accounts.user("user@example.com")
    services = accounts.services
    pair = await accounts.login("user@example.com")
    wrong = await gql(LOGIN, {"e": "user@example.com", "p": "not the password"})
    unknown = await gql(LOGIN, {"e": "nobody@example.com", "p": PASSWORD})
    assert error_codes(wrong) == error_codes(unknown) == ["INVALID_CREDENTIALS"]
    rotated = (await gql(REFRESH, {"r": pair["refreshToken"]}))["data"]["refresh"]
    replay = await gql(REFRESH, {"r": pair["refreshToken"]})  # the old one again: reuse
    assert error_codes(replay) == ["TOKEN_REVOKED"]
    second = await accounts.login("user@example.com")
    assert (await gql("mutation { logout }", token=second["accessToken"]))["data"]
    third = await accounts.login("user@example.com")
    assert (await gql("mutation { logoutAll }", token=third["accessToken"]))["data"]
    assert rotated is not None

    assert await actions(services) == [
        "user.created",
        "login.succeeded",
        "login.failed",
        "login.failed",
        "token.reuse_detected",
        "login.succeeded",
        "logout",
        "login.succeeded",
        "logout_all",
    ]
    created, ok, failed, failed_unknown, reuse, _, logout, _, logout_all = await stored_events(
        services
    )
    assert (created.actor_id, created.subject_id, details(created)) == (
        None,
        user.id,
        {"role": "user"},
    )
    assert (ok.actor_id, ok.subject_id) == (user.id, user.id)
    assert (ok.ip_address, ok.user_agent) == ("203.0.113.7", "pytest-client")
    assert ok.request_id and set(details(ok)) == {"session_id"}
    assert (failed.actor_id, failed.subject_id) == (None, user.id)
    assert details(failed) == {"door": "login", "reason": "invalid_credentials"}
    assert failed_unknown.subject_id is None
    assert (reuse.actor_id, reuse.subject_id) == (None, user.id)
    assert details(reuse) == details(ok)  # the session whose refresh token was replayed
    assert (logout.actor_id, logout.subject_id) == (user.id, user.id)
    assert logout_all.subject_id == user.id
    assert created.request_id is None and created.ip_address is None  # the system (no request)
    for event in (await stored_events(services))[1:]:
        assert event.at.utcoffset() is not None and event.request_id


async def test_account_lifecycle_events_and_no_secret_in_any(
    gql: GraphQLClient, accounts: Accounts, smtp: SMTPServer, client: httpx.AsyncClient
) -> None:
    services = accounts.services
    registered = await gql(
        'mutation($p: String!) { register(input: {name: "Ada", email: "ada@example.com", '
        "password: $p}) { id } }",
        {"p": PASSWORD},
    )
    user_id = int(registered["data"]["register"]["id"])
    verify_token = token_in(await next_mail(services, smtp.inbox))
    verify = "mutation($t: String!) { verifyEmail(token: $t) { email } }"
    assert (await gql(verify, {"t": verify_token}))["data"]
    pair = await accounts.login("ada@example.com")
    token = pair["accessToken"]
    other = await accounts.login("ada@example.com")
    other_id = next(
        s["id"]
        for s in (await gql(SESSIONS, token=other["accessToken"]))["data"]["mySessions"]
        if s["current"]
    )
    assert await gql("mutation($id: ID!) { revokeSession(id: $id) }", {"id": other_id}, token)
    change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
    refused = await gql(change, {"c": "wrong password!", "n": NEW_PASSWORD}, token)
    assert error_codes(refused) == ["INVALID_CREDENTIALS"]
    assert (await gql(change, {"c": PASSWORD, "n": NEW_PASSWORD}, token))["data"]
    email_change = "mutation($p: String!, $e: String!) { changeEmail(password: $p, newEmail: $e) }"
    assert (await gql(email_change, {"p": NEW_PASSWORD, "e": "ada2@example.com"}, token))["data"]
    change_token = token_in(await next_mail(services, smtp.inbox))
    assert (await gql(verify, {"t": change_token}))["data"]["verifyEmail"]
    await next_mail(services, smtp.inbox)  # the notice to the old address
    # REST too: the same resolvers write the same events.
    reset = await client.post(
        "/graphql",
        json={
            "query": "mutation($e: String!) { requestPasswordReset(email: $e) }",
            "variables": {"e": "ada2@example.com"},
        },
    )
    assert reset.status_code == 200
    reset_token = token_in(await next_mail(services, smtp.inbox))
    done = await gql(
        "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }",
        {"t": reset_token, "p": PASSWORD},
    )
    assert done["data"]["resetPassword"] is True

    assert await actions(services) == [
        "user.created",
        "email.verification_sent",
        "email.verified",
        "login.succeeded",
        "login.succeeded",
        "session.revoked",
        "login.failed",
        "password.changed",
        "email.verification_sent",
        "email.changed",
        "password.reset_requested",
        "password.reset",
    ]
    events = {event.action: event for event in await stored_events(services)}
    assert details(events["session.revoked"]) == {"session_id": other_id}
    assert details(events["login.failed"])["door"] == "change-password"
    assert events["login.failed"].actor_id == user_id  # a signed-in caller guessed
    assert details(events["email.verification_sent"]) == {"email": "ada2@example.com"}
    assert details(events["email.changed"]) == {
        "from_email": "ada@example.com",
        "email": "ada2@example.com",
    }
    assert events["password.reset_requested"].subject_id is None  # says nothing of the account
    assert (events["password.reset"].actor_id, events["password.reset"].subject_id) == (
        user_id,
        user_id,
    )
    secrets = (
        PASSWORD, NEW_PASSWORD, verify_token, change_token, reset_token,
        pair["accessToken"], pair["refreshToken"], other["refreshToken"],
    )  # fmt: skip
    for event in await stored_events(services):
        text = " ".join(str(v) for v in (event.details, event.user_agent, event.request_id))
        assert not leaks_a_secret(text) and not any(s in text for s in secrets), text
        assert not re.search(r"\$argon2|token_hash|[0-9a-f]{64}", text), text


async def test_admin_changes_record_their_events_on_both_transports(
    gql: GraphQLClient, accounts: Accounts, client: httpx.AsyncClient
) -> None:
    services = accounts.services
    admin_token = await accounts.admin_token()
    admin_id = (await stored_events(services))[0].subject_id
    created = await gql(
        CREATE,
        {"i": {"name": "Bo", "email": "bo@example.com", "password": PASSWORD}},
        admin_token,
    )
    bo = created["data"]["createUser"]["id"]
    renamed = await gql(UPDATE, {"id": bo, "i": {"name": "Bob", "isActive": False}}, admin_token)
    assert "errors" not in renamed
    promoted = await gql(UPDATE, {"id": bo, "i": {"role": "ADMIN"}}, admin_token)
    assert promoted["data"]["updateUser"]["role"] == "ADMIN"
    data_of(
        await client.patch(
            f"/users/{bo}", json={"password": NEW_PASSWORD}, headers=bearer(admin_token)
        )
    )
    data_of(await client.delete(f"/users/{bo}", headers=bearer(admin_token)))
    assert (await gql(RESTORE, {"id": bo}, admin_token))["data"]["restoreUser"] == {"id": bo}

    events = [e for e in await stored_events(services) if e.subject_id == int(bo)]
    assert [e.action for e in events] == [
        "user.created",
        "email.verification_sent",
        "user.updated",
        "user.role_changed",
        "user.updated",
        "user.deleted",
        "user.restored",
    ]
    assert {e.actor_id for e in events} == {admin_id}
    assert details(events[2]) == {
        "fields": ["is_active", "name"],
        "is_active": False,
        "name": "Bob",
    }
    assert details(events[3]) == {"from_role": "user", "role": "admin"}
    assert details(events[4]) == {"fields": ["password"]}


async def test_a_rolled_back_change_leaves_no_event(
    gql: GraphQLClient, accounts: Accounts, client: httpx.AsyncClient
) -> None:
    services = accounts.services
    admin_token = await accounts.admin_token()
    admin_id = str((await stored_events(services))[0].subject_id)
    await accounts.user("taken@example.com")
    user = await accounts.user("user@example.com")
    etag = (await gql(UPDATE, {"id": str(user.id), "i": {"name": "Once"}}, admin_token))["data"][
        "updateUser"
    ]["etag"]
    before = await actions(services)
    old = f'"{user.id}-1"'

    stale = await gql(UPDATE, {"id": str(user.id), "i": {"name": "Twice"}, "m": old}, admin_token)
    assert error_codes(stale) == ["VERSION_CONFLICT"]
    stale_delete = await gql(DELETE, {"id": str(user.id), "m": old}, admin_token)
    assert error_codes(stale_delete) == ["VERSION_CONFLICT"]
    rest_stale = await client.put(
        f"/users/{user.id}",
        json={"name": "Thrice"},
        headers={**bearer(admin_token), "If-Match": old},
    )
    error_of(rest_stale, 409, "VERSION_CONFLICT")
    taken = await gql(
        UPDATE, {"id": str(user.id), "i": {"email": "taken@example.com"}}, admin_token
    )
    assert error_codes(taken) == ["EMAIL_EXISTS"]
    demoted = await gql(UPDATE, {"id": admin_id, "i": {"role": "USER"}}, admin_token)
    assert error_codes(demoted) == ["LAST_ADMIN"]
    error_of(
        await client.delete(f"/users/{admin_id}", headers=bearer(admin_token)), 409, "LAST_ADMIN"
    )
    assert await actions(services) == before  # nothing written, no event

    current = await gql(UPDATE, {"id": str(user.id), "i": {"name": "Now"}, "m": etag}, admin_token)
    assert "errors" not in current
    assert await actions(services) == [*before, "user.updated"]  # committed: its event


async def test_record_commits_and_rolls_back_with_its_transaction(accounts: Accounts) -> None:
    from resolvers.audit_log import record

    services = accounts.services

    async def failing_change() -> None:
        async with services.db.transaction() as session:
            await record(session, None, AuditAction.MFA_RESET, subject_id=1)
            raise RuntimeError("the change failed after the event was added")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await stored_events(services) == []
    async with services.db.transaction() as session:
        await record(session, None, AuditAction.APIKEY_CREATED, subject_id=1, details={"n": 1})
    (event,) = await stored_events(services)
    assert (event.action, event.actor_id, event.ip_address, details(event)) == (
        "apikey.created",
        None,
        None,
        {"n": 1},
    )
