"""Reads hand out frozen `UserView`s redacted for the caller, one rule for both transports:
`deletedAt` to admins only, `createdBy` to admins and to the account's creator."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from core import rbac
from persistence.views import UserView
from resolvers import users
from resolvers.deps import Caller, Principal
from resolvers.loaders import Loaders
from resolvers.user_inputs import UserChanges
from tests.conftest import PASSWORD, Accounts, GraphQLClient
from tests.rest_helpers import bearer, data_of

ME = "{ me { id deletedAt createdBy { id } } }"
USER = "query($id: ID!) { user(id: $id) { deletedAt createdBy { id } } }"


async def _made_by_admin(accounts: Accounts) -> tuple[int, str, int, str]:
    boss = await accounts.user("boss@example.com", role="admin")
    made = await accounts.user("made@example.com", created_by=boss.id)
    admin = (await accounts.login("boss@example.com"))["accessToken"]
    user = (await accounts.login("made@example.com"))["accessToken"]
    return boss.id, admin, made.id, user


async def test_created_by_is_hidden_from_the_account_itself_on_both_transports(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    boss_id, admin, made_id, user = await _made_by_admin(accounts)
    mine = await gql(ME, token=user)
    assert mine["data"]["me"] == {"id": str(made_id), "deletedAt": None, "createdBy": None}
    for path in ("/auth/me", "/users/me"):
        shown = data_of(await client.get(path, headers=bearer(user)))
        assert shown["created_by"] is None and "deleted_at" not in shown, path
    seen = await gql(USER, {"id": str(made_id)}, token=admin)
    assert seen["data"]["user"] == {"deletedAt": None, "createdBy": {"id": str(boss_id)}}
    listed = data_of(await client.get(f"/users/{made_id}", headers=bearer(admin)))
    assert listed["created_by"] == boss_id and listed["deleted_at"] is None


async def test_the_creator_sees_created_by_on_both_transports(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    """A signed-in user who registers somebody is that account's creator, and sees so."""
    maker = await accounts.user("maker@example.com")
    token = (await accounts.login("maker@example.com"))["accessToken"]
    body = {"name": "New", "email": "new@example.com", "password": PASSWORD}
    made = data_of(await client.post("/auth/register", json=body, headers=bearer(token)), 201)
    assert made["created_by"] == maker.id and "deleted_at" not in made
    answer = await gql(
        "mutation($i: RegisterInput!) { register(input: $i) { createdBy { id } deletedAt } }",
        {"i": {"name": "Other", "email": "other@example.com", "password": PASSWORD}},
        token=token,
    )
    assert answer["data"]["register"] == {"createdBy": {"id": str(maker.id)}, "deletedAt": None}


async def test_every_read_is_a_frozen_view_without_the_password_hash(
    accounts: Accounts,
) -> None:
    boss = await accounts.user("boss@example.com", role="admin")
    made = await accounts.user("made@example.com", created_by=boss.id)
    services = accounts.services
    admin = Caller("r", principal=Principal(boss.id, "admin", "s"))
    signed_in = Caller("r", principal=Principal(made.id, "user", "s"))
    page = await users.list_users(services, admin, per_page=5)
    again = await users.list_users(services, admin, per_page=5)  # from the cache when it is on
    loaded = await Loaders.for_request(services, admin).user_by_id.load(boss.id)
    reads = [
        await users.get_me(services, signed_in),
        await users.get_user(services, admin, user_id=made.id),
        *page.items,
        *again.items,
        loaded,
        await users.update_user(
            services, admin, user_id=made.id, changes=UserChanges(name="Renamed")
        ),
    ]
    for read in reads:
        assert type(read) is UserView
        assert not hasattr(read, "password_hash") and not hasattr(read, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            read.name = "changed"  # type: ignore[misc]
    assert {u.email for u in again.items} == {u.email for u in page.items}


def test_is_admin_follows_the_role_table() -> None:
    """`Principal.is_admin` is the role table's "admin" grant, not a second spelling of it."""
    for role in [*rbac.GRANTS, "nobody"]:
        principal = Principal(user_id=1, role=role, session_id="s")
        assert principal.is_admin == rbac.has_role(role, "admin"), role
