"""The last active admin cannot be demoted, deactivated or deleted: LAST_ADMIN (409), over
GraphQL and REST, and two admins demoting each other at once leave one of them admin."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from core.errors import AppError
from persistence.models import User
from resolvers import users
from resolvers.deps import Caller, Principal
from resolvers.user_inputs import UserChanges
from tests.conftest import Accounts, GraphQLClient, error_codes
from tests.rest_helpers import bearer, data_of, error_of

UPDATE = (
    "mutation($id: ID!, $input: UpdateUserInput!) "
    "{ updateUser(id: $id, input: $input) { id role isActive } }"
)
DELETE = "mutation($id: ID!) { deleteUser(id: $id) }"
ROLE = "query($id: ID!) { user(id: $id) { role isActive deletedAt } }"
REMOVALS: dict[str, dict[str, Any]] = {
    "demoted": {"role": "USER"},
    "deactivated": {"isActive": False},
}


async def active_admins(accounts: Accounts) -> list[int]:
    async with accounts.services.db.transaction() as session:
        rows = await session.scalars(
            select(User.id).where(
                User.role == "admin", User.is_active.is_(True), User.deleted_at.is_(None)
            )
        )
        return sorted(rows.all())


@pytest.mark.parametrize("removal", REMOVALS)
async def test_the_only_admin_cannot_remove_themselves(
    gql: GraphQLClient, accounts: Accounts, removal: str
) -> None:
    token = await accounts.admin_token()
    me = (await gql("{ me { id } }", token=token))["data"]["me"]["id"]
    refused = await gql(UPDATE, {"id": me, "input": REMOVALS[removal]}, token=token)
    assert error_codes(refused) == ["LAST_ADMIN"]
    assert refused["errors"][0]["message"] == "The change would leave no active admin"
    deleted = await gql(DELETE, {"id": me}, token=token)
    assert error_codes(deleted) == ["LAST_ADMIN"]
    after = await gql(ROLE, {"id": me}, token=token)  # nothing written, the token still works
    assert after["data"]["user"] == {"role": "ADMIN", "isActive": True, "deletedAt": None}


async def test_an_admin_may_go_while_another_stays(gql: GraphQLClient, accounts: Accounts) -> None:
    token = await accounts.admin_token()
    second = await accounts.user("second@example.com", role="admin")
    third = await accounts.user("third@example.com", role="admin")
    inactive = await accounts.user("inactive@example.com", role="admin")
    off = await gql(UPDATE, {"id": str(inactive.id), "input": {"isActive": False}}, token=token)
    assert off["data"]["updateUser"]["isActive"] is False
    demoted = await gql(UPDATE, {"id": str(second.id), "input": {"role": "USER"}}, token=token)
    assert demoted["data"]["updateUser"]["role"] == "USER"
    assert (await gql(DELETE, {"id": str(third.id)}, token=token))["data"] == {"deleteUser": True}
    # An inactive admin is no admin to keep: the caller is the last active one now.
    me = (await gql("{ me { id } }", token=token))["data"]["me"]["id"]
    last = await gql(UPDATE, {"id": me, "input": {"role": "USER"}}, token=token)
    assert error_codes(last) == ["LAST_ADMIN"]
    # Changes that keep an admin an admin are not refused; a plain user's never are.
    kept = {"name": "Still", "isActive": True}
    renamed = await gql(UPDATE, {"id": me, "input": kept}, token=token)
    assert renamed["data"]["updateUser"] == {"id": me, "role": "ADMIN", "isActive": True}
    again = await gql(UPDATE, {"id": str(second.id), "input": {"isActive": False}}, token=token)
    assert again["data"]["updateUser"]["isActive"] is False
    assert await active_admins(accounts) == [int(me)]


async def test_rest_put_patch_and_delete_refuse_the_last_admin(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    admin = bearer(await accounts.admin_token())
    me = data_of(await client.get("/users/me", headers=admin))["id"]
    put = await client.put(
        f"/users/{me}",
        json={"name": "Ada", "email": "admin@example.com", "role": "user"},
        headers=admin,
    )
    assert error_of(put, 409, "LAST_ADMIN")["message"] == "The change would leave no active admin"
    patch = await client.patch(f"/users/{me}", json={"is_active": False}, headers=admin)
    error_of(patch, 409, "LAST_ADMIN")
    error_of(await client.delete(f"/users/{me}", headers=admin), 409, "LAST_ADMIN")
    assert data_of(await client.get(f"/users/{me}", headers=admin))["role"] == "admin"


async def test_two_admins_demoting_each_other_at_once_leave_one(accounts: Accounts) -> None:
    """Each round both demotions start together, so each reads the admins before the other's
    write commits; a check that counted without serialising would let both through."""
    first = await accounts.user("first@example.com", role="admin")
    second = await accounts.user("second@example.com", role="admin")
    services = accounts.services

    async def demote(actor: User, target: User) -> str:
        caller = Caller("race", principal=Principal(actor.id, "admin", "session"))
        changes = UserChanges(role="user")
        try:
            await users.update_user(services, caller, user_id=target.id, changes=changes)
        except AppError as error:
            return error.code.value
        return "OK"

    for _ in range(5):
        outcomes = await asyncio.gather(demote(first, second), demote(second, first))
        assert sorted(outcomes) == ["LAST_ADMIN", "OK"]
        assert len(await active_admins(accounts)) == 1
        async with services.db.transaction() as session:
            await session.execute(
                update(User).where(User.id.in_([first.id, second.id])).values(role="admin")
            )
