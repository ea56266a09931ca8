"""Pages by number and the createdBy batch, read as driver SQL compiled once: the same users as
the typed statements read, for every order and filter, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select, update

from persistence import driver_sql, user_listing
from persistence import users as users_repo
from persistence.models import User, UTCDateTime
from persistence.user_listing import UserQuery
from persistence.views import VIEW_COLUMNS, UserView
from tests.conftest import Accounts

QUERIES = [
    UserQuery(),
    *(UserQuery(sort_by=s, descending=d) for s in ("id", "name", "email") for d in (True, False)),
    UserQuery(name="a_%\\"),  # LIKE's wildcards and escape in the needle, taken literally
    UserQuery(name="ZO", role="user"),
    UserQuery(email="EX", include_deleted=True),
]


@pytest.fixture
async def people(accounts: Accounts) -> list[int]:
    creator = await accounts.user("creator@example.com", name="Creator")
    ids = [creator.id]
    for n, name in enumerate(('Zoë "Q" O\'Brien \\ \U0001f98a', "a_%\\ literal", "Ab", "ab")):
        made = await accounts.user(f"p{n}@example.com", name=name, created_by=creator.id)
        ids.append(made.id)
    async with accounts.services.db.transaction() as session:
        await session.execute(
            update(User)
            .where(User.id == ids[1])
            .values(
                email_verified=True,
                mfa_enabled=True,
                last_login_at=datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC),
                updated_at=datetime(2026, 12, 2, tzinfo=UTC),  # no microseconds
            )
        )
        await session.execute(
            update(User).where(User.id == ids[2]).values(deleted_at=datetime.now(UTC))
        )
    return ids


@pytest.mark.parametrize("wanted", QUERIES, ids=[str(i) for i in range(len(QUERIES))])
async def test_a_page_reads_as_the_typed_statement(
    accounts: Accounts, people: list[int], wanted: UserQuery
) -> None:
    read = []
    async with accounts.services.db.reading() as connection:
        for offset, limit in ((0, 100), (1, 2), (3, 3)):
            typed = await user_listing.page(connection, wanted, offset=offset, limit=limit)
            driver = await driver_sql.page(connection, wanted, offset=offset, limit=limit)
            assert driver == typed
            assert all(view.created_at.tzinfo is UTC for view in driver)
            read.append(driver)
    if wanted == UserQuery():  # every live user (the deleted one left out), then 2, then 1
        assert [len(views) for views in read] == [len(people) - 1, 2, 1]


async def test_the_created_by_batch_reads_as_the_typed_statement(
    accounts: Accounts, people: list[int]
) -> None:
    async with accounts.services.db.reading() as connection:
        for ids in (people, people[:1], [*people, 999_999]):
            rows = await connection.execute(select(*VIEW_COLUMNS).where(User.id.in_(ids)))
            typed = {view.id: view for view in (UserView(*row) for row in rows)}
            assert await users_repo.get_many(connection, ids) == typed
            assert len(typed) == len(set(ids) - {999_999})
    deleted = typed[people[2]]
    assert deleted.deleted_at is not None and deleted.is_active is True
    assert replace(typed[people[1]], name="").email_verified is True


CREATED_BEFORE = (
    select(User.id, User.created_at, User.is_active)
    .where(User.created_at < bindparam("at", type_=UTCDateTime()), User.is_active.is_(True))
    .order_by(User.id)
)


async def test_a_statement_run_as_driver_sql_binds_as_execute_does(
    accounts: Accounts, people: list[int]
) -> None:
    """Values pass through their types' bind processors (an aware datetime to the stored form
    on each backend), literals keep their values; the rows are the driver's, unprocessed."""
    async with accounts.services.db.reading() as connection:
        first = await connection.execute(select(User.created_at).where(User.id == people[0]))
        made = first.scalar_one()
        for at in (made, made + timedelta(microseconds=1), datetime.now(UTC) + timedelta(1)):
            typed = (await connection.execute(CREATED_BEFORE, {"at": at})).all()
            driver = (await driver_sql.run(connection, CREATED_BEFORE, {"at": at})).all()
            assert [row[0] for row in driver] == [row[0] for row in typed]
        assert len(typed) == len(people)  # the deleted one is active too
