"""The live users count (migration 0011): exact under concurrent writes, rollbacks and raw SQL,
and the unfiltered total of every listing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from persistence.models import LiveUserCount, User
from resolvers.deps import Caller, Principal
from resolvers.restore import restore_user
from resolvers.users import delete_user
from tests.conftest import Accounts, GraphQLClient, in_app_background, listen_to_sql

TOTAL = "query($f: UserFilter) { users(filter: $f) { pageInfo { total pages } } }"


async def counted(accounts: Accounts) -> tuple[int, int]:
    """The counter rows' sum and a count of the live rows, read in one snapshot."""
    async with accounts.services.db.reading() as connection:
        kept = await connection.scalar(select(func.sum(LiveUserCount.live)))
        rows = await connection.scalar(select(func.count(User.id)).where(User.deleted_at.is_(None)))
    return int(kept or 0), int(rows or 0)


async def assert_exact(accounts: Accounts, expected: int) -> None:
    assert await counted(accounts) == (expected, expected)


@pytest.fixture
async def admin(accounts: Accounts) -> Caller:
    user = await accounts.user("admin@example.com", role="admin")
    return Caller(
        request_id="-",
        ip="127.0.0.1",
        user_agent="tests",
        principal=Principal(user_id=user.id, role="admin", session_id="s"),
    )


async def test_concurrent_sign_ups_deletes_and_restores_keep_it_exact(
    accounts: Accounts, admin: Caller
) -> None:
    await assert_exact(accounts, 1)
    users = await asyncio.gather(*(accounts.user(f"u{n}@example.com") for n in range(12)))
    await assert_exact(accounts, 13)

    services = accounts.services
    # Each user deleted twice at once: one delete writes, the other finds nothing to delete.
    doomed = [user.id for user in users[:6]] * 2
    outcomes = await asyncio.gather(
        *(delete_user(services, admin, user_id=user_id) for user_id in doomed),
        return_exceptions=True,
    )
    assert sum(outcome is True for outcome in outcomes) == 6
    await assert_exact(accounts, 7)

    back = [user.id for user in users[:3]] * 2
    await asyncio.gather(*(restore_user(services, admin, user_id=user_id) for user_id in back))
    await assert_exact(accounts, 10)


async def test_a_rolled_back_write_counts_nothing(accounts: Accounts, admin: Caller) -> None:
    user = await accounts.user()
    services = accounts.services

    async def write_then_fail() -> None:
        async with services.db.transaction() as session:
            now = datetime.now(UTC)
            session.add(
                User(
                    name="Gone",
                    email="gone@example.com",
                    password_hash="x",
                    role="user",
                    is_active=True,
                    token_version=0,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.flush()
            await session.execute(
                text("UPDATE users SET deleted_at = :now WHERE id = :id"),
                {"now": now.replace(tzinfo=None), "id": user.id},
            )
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    await assert_exact(accounts, 2)


async def test_raw_sql_and_other_updates_are_counted_as_they_change_liveness(
    accounts: Accounts, admin: Caller
) -> None:
    await accounts.user()
    async with accounts.services.db.transaction() as session:
        now = datetime.now(UTC).replace(tzinfo=None)
        insert = (
            "INSERT INTO users (name, email, password_hash, role, is_active, token_version, "
            "version, created_at, updated_at, deleted_at, email_verified) VALUES "
            "(:name, :email, 'x', 'user', 1, 0, 1, :now, :now, :deleted, 0)"
        )
        await session.execute(
            text(insert), {"name": "A", "email": "a@x.org", "now": now, "deleted": None}
        )
        await session.execute(
            text(insert), {"name": "D", "email": "d@x.org", "now": now, "deleted": now}
        )
        await session.execute(  # not a change of liveness: counted once, as before
            text("UPDATE users SET name = 'Renamed', deleted_at = deleted_at")
        )
        await session.execute(text("DELETE FROM users WHERE email = 'a@x.org'"))
        await session.execute(text("DELETE FROM users WHERE email = 'd@x.org'"))
    await assert_exact(accounts, 2)


async def test_listing_totals_come_from_the_count_or_a_filtered_count(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    token = await accounts.admin_token()
    for n in range(4):
        await accounts.user(f"u{n}@example.com", name=f"Name {n}")
    gone = await accounts.user("gone@example.com")
    deleted = await gql(
        "mutation($id: ID!) { deleteUser(id: $id) }", {"id": str(gone.id)}, token=token
    )
    assert deleted["data"] == {"deleteUser": True}

    cases = [
        (None, 5, 1),
        ({"includeDeleted": True}, 6, 1),
        ({"name": "name 1"}, 1, 1),
        ({"role": "ADMIN"}, 1, 1),
    ]
    for wanted, total, pages in cases:
        body = await gql(TOTAL, {"f": wanted}, token=token)
        assert body["data"]["users"]["pageInfo"] == {"total": total, "pages": pages}, wanted
    await assert_exact(accounts, 5)


async def test_a_filtered_total_is_counted_only_when_asked(
    gql: GraphQLClient, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    token = await accounts.admin_token()
    await accounts.user("u1@example.com", name="Name 1")
    counts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "count(" in statement.lower() and not in_app_background():
            counts.append(statement)

    stop = listen_to_sql(accounts.services.db, seen)
    try:
        items = "query($f: UserFilter) { users(filter: $f) { items { id } } }"
        body = await gql(items, {"f": {"name": "name"}}, token=token)
        assert len(body["data"]["users"]["items"]) == 1
        assert counts == []  # the page alone: nothing counted
        body = await gql(TOTAL, {"f": {"name": "name"}}, token=token)
        assert body["data"]["users"]["pageInfo"] == {"total": 1, "pages": 1}
        assert len(counts) == 1  # once for both fields
        await accounts.services.users.invalidate()  # the REST page is read, not cached
        response = await client.get(
            "/users", params={"name": "name"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.json()["data"]["meta"]["total"] == 1  # REST always carries its total
        assert len(counts) == 2
    finally:
        stop()
