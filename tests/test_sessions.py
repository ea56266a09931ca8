"""mySessions, revokeSession, userSessions, revokeUserSessions, lastUsedAt; restoreUser;
REFRESH_REUSE_LEEWAY."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.settings import Settings
from tests.conftest import Accounts, GraphQLClient, error_codes
from tests.test_passwords import Later

MINE = "{ mySessions { id createdAt lastUsedAt expiresAt ipAddress userAgent current } }"
THEIRS = "query($u: ID!) { userSessions(userId: $u) { id current } }"
REVOKE = "mutation($id: ID!) { revokeSession(id: $id) }"
REVOKE_ALL = "mutation($u: ID!) { revokeUserSessions(userId: $u) }"
RESTORE = "mutation($id: ID!) { restoreUser(id: $id) { id email deletedAt version } }"
REFRESH = "mutation($r: String!) { refresh(refreshToken: $r) { accessToken refreshToken } }"
ME = "{ me { id } }"


async def test_my_sessions_newest_first_with_the_current_one_marked(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    await accounts.user("user@example.com")
    first = (await accounts.login("user@example.com"))["accessToken"]
    second = (await accounts.login("user@example.com"))["accessToken"]
    listed = (await gql(MINE, token=first))["data"]["mySessions"]
    assert len(listed) == 2
    assert [s["current"] for s in listed] == [False, True]  # newest (second) first
    assert listed[0]["createdAt"] >= listed[1]["createdAt"]
    assert {s["ipAddress"] for s in listed} == {"203.0.113.7"}
    assert {s["userAgent"] for s in listed} == {"pytest-client"}
    assert (await gql(MINE, token=second))["data"]["mySessions"][0]["current"] is True


async def test_revoke_session_ends_one_of_mine_and_not_another_users(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    await accounts.user("user@example.com")
    mine = (await accounts.login("user@example.com"))["accessToken"]
    other_device = (await accounts.login("user@example.com"))["accessToken"]
    stranger = await accounts.token_for("stranger@example.com")
    [theirs] = (await gql(MINE, token=stranger))["data"]["mySessions"]
    assert error_codes(await gql(REVOKE, {"id": theirs["id"]}, token=mine)) == ["NOT_FOUND"]
    assert error_codes(await gql(REVOKE, {"id": "no-such-id"}, token=mine)) == ["NOT_FOUND"]
    assert "errors" not in await gql(ME, token=stranger)
    listed = (await gql(MINE, token=mine))["data"]["mySessions"]
    target = next(s["id"] for s in listed if not s["current"])
    assert (await gql(REVOKE, {"id": target}, token=mine))["data"] == {"revokeSession": True}
    assert error_codes(await gql(ME, token=other_device)) == ["TOKEN_REVOKED"]
    assert "errors" not in await gql(ME, token=mine)
    assert error_codes(await gql(REVOKE, {"id": target}, token=mine)) == ["NOT_FOUND"]


async def test_admins_list_and_end_a_users_sessions(accounts: Accounts, gql: GraphQLClient) -> None:
    admin = await accounts.admin_token()
    user = await accounts.user("user@example.com")
    token = (await accounts.login("user@example.com"))["accessToken"]
    listed = (await gql(THEIRS, {"u": str(user.id)}, token=admin))["data"]["userSessions"]
    assert [s["current"] for s in listed] == [False]
    assert error_codes(await gql(THEIRS, {"u": str(user.id)}, token=token)) == ["FORBIDDEN"]
    assert error_codes(await gql(REVOKE_ALL, {"u": str(user.id)}, token=token)) == ["FORBIDDEN"]
    ended = await gql(REVOKE_ALL, {"u": str(user.id)}, token=admin)
    assert ended == {"data": {"revokeUserSessions": True}}
    assert error_codes(await gql(ME, token=token)) == ["TOKEN_REVOKED"]
    assert (await gql(THEIRS, {"u": str(user.id)}, token=admin))["data"]["userSessions"] == []
    missing = await gql(REVOKE_ALL, {"u": "999999"}, token=admin)
    assert error_codes(missing) == ["USER_NOT_FOUND"]


async def test_last_used_at_moves_at_most_once_a_minute(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    token = await accounts.token_for("user@example.com")
    [before] = (await gql(MINE, token=token))["data"]["mySessions"]
    for _ in range(3):
        await gql(ME, token=token)
    [still] = (await gql(MINE, token=token))["data"]["mySessions"]
    assert still["lastUsedAt"] == before["lastUsedAt"]  # written at login, not on each request
    accounts.services.session_touches.clear()  # as if this process last wrote it long ago
    accounts.services.clock = Later(61)
    await gql(ME, token=token)
    [after] = (await gql(MINE, token=token))["data"]["mySessions"]
    assert after["lastUsedAt"] > before["lastUsedAt"]


async def test_restore_user_undoes_a_soft_delete(accounts: Accounts, gql: GraphQLClient) -> None:
    admin = await accounts.admin_token()
    user = await accounts.user("user@example.com")
    deleted = await gql("mutation($id: ID!) { deleteUser(id: $id) }", {"id": str(user.id)}, admin)
    assert deleted == {"data": {"deleteUser": True}}
    restored = (await gql(RESTORE, {"id": str(user.id)}, token=admin))["data"]["restoreUser"]
    assert restored["deletedAt"] is None and restored["email"] == "user@example.com"
    assert restored["version"] == 3
    await accounts.login("user@example.com")
    again = (await gql(RESTORE, {"id": str(user.id)}, token=admin))["data"]["restoreUser"]
    assert again["version"] == 3  # a live account is answered as it is
    assert error_codes(await gql(RESTORE, {"id": "999999"}, token=admin)) == ["USER_NOT_FOUND"]
    token = (await accounts.login("user@example.com"))["accessToken"]
    assert error_codes(await gql(RESTORE, {"id": str(user.id)}, token=token)) == ["FORBIDDEN"]


async def eight_refreshes(accounts: Accounts, gql: GraphQLClient) -> tuple[list[Any], str]:
    await accounts.user("user@example.com")
    pair = await accounts.login("user@example.com")
    answers = await asyncio.gather(*(gql(REFRESH, {"r": pair["refreshToken"]}) for _ in range(8)))
    won = [a["data"]["refresh"] for a in answers if a.get("data")]
    assert len(won) == 1
    assert sorted(c for a in answers for c in error_codes(a)) == ["TOKEN_REVOKED"] * 7
    return won, pair["refreshToken"]


async def test_without_leeway_a_concurrent_refresh_ends_the_session(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    won, _ = await eight_refreshes(accounts, gql)
    assert error_codes(await gql(ME, token=won[0]["accessToken"])) == ["TOKEN_REVOKED"]


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    return settings.with_(**getattr(request, "param", {}))


@pytest.mark.parametrize("settings", [{"refresh_reuse_leeway": 30}], indirect=True)
async def test_within_the_leeway_two_tabs_keep_the_session(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    won, used = await eight_refreshes(accounts, gql)
    assert "errors" not in await gql(ME, token=won[0]["accessToken"])
    accounts.services.clock = Later(31)
    assert error_codes(await gql(REFRESH, {"r": used})) == ["TOKEN_REVOKED"]
    assert error_codes(await gql(ME, token=won[0]["accessToken"])) == ["TOKEN_REVOKED"]
