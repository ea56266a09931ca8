"""The token check reads its user as one packed column: the same view as the plain columns."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from persistence import users as users_repo
from persistence.models import User
from persistence.views import packed_view, unpacked_view
from tests.conftest import Accounts, GraphQLClient

# Written past the name rules: what JSON must escape (quotes, backslash, a tab), and beyond ASCII.
AWKWARD_NAME = 'Zoë "Q" O\'Brien \\ \U0001f98a \uff46ull\ttab'


async def test_a_packed_row_reads_as_the_plain_columns(accounts: Accounts) -> None:
    creator = await accounts.user("creator@example.com")
    user = await accounts.user("zoe@example.com", created_by=creator.id)
    services = accounts.services
    async with services.db.transaction() as session:
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(
                name=AWKWARD_NAME,
                email_verified=True,
                last_login_at=datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC),
                updated_at=datetime(2026, 12, 2, 0, 0, 0, tzinfo=UTC),  # no microseconds
            )
        )
    for user_id in (creator.id, user.id):
        async with services.db.reading() as connection:
            packed = await connection.scalar(select(packed_view()).where(User.id == user_id))
            plain = await users_repo.get_view(connection, user_id)
        assert plain is not None
        assert unpacked_view(packed) == plain
    assert plain is not None
    assert plain.name == AWKWARD_NAME
    assert plain.email_verified is True


async def test_me_answers_every_field_from_the_token_check(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    token = await accounts.token_for("me@example.com")
    body = await gql(
        "{ me { id name email role isActive version emailVerified lastLoginAt createdAt "
        "updatedAt } }",
        token=token,
    )
    me = body["data"]["me"]
    async with accounts.services.db.reading() as connection:
        view = await users_repo.get_view(connection, int(me["id"]))
    assert view is not None
    assert (me["name"], me["email"], me["role"], me["isActive"], me["version"]) == (
        view.name,
        view.email,
        "USER",
        True,
        view.version,
    )
    assert me["emailVerified"] is False
    assert view.last_login_at is not None and view.created_at is not None
    assert datetime.fromisoformat(me["lastLoginAt"]) == view.last_login_at
    assert datetime.fromisoformat(me["createdAt"]) == view.created_at
