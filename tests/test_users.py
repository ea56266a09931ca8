"""Users over GraphQL: RBAC, version checks, pagination, soft delete, loaders and the cache."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from persistence import users as users_repo
from persistence.views import UserView
from resolvers.access import shown_to
from resolvers.deps import Caller, Principal
from tests.conftest import (
    PASSWORD,
    Accounts,
    GraphQLClient,
    error_codes,
    in_app_background,
    listen_to_sql,
)

USER_FIELDS = "id name email role isActive version etag createdAt updatedAt deletedAt"
USERS = (
    "query($page: Int, $perPage: Int, $sort: SortOrder, $sortBy: UserSortField, $filter: UserFilter)"
    " { users(page: $page, perPage: $perPage, sort: $sort, sortBy: $sortBy, filter: $filter)"
    " { items { id email name } pageInfo { page perPage total pages hasNextPage hasPreviousPage } } }"
)
UPDATE = (
    "mutation($id: ID!, $input: UpdateUserInput!, $ifMatch: String) "
    "{ updateUser(id: $id, input: $input, ifMatch: $ifMatch) { id name role version etag } }"
)
DELETE = "mutation($id: ID!, $ifMatch: String) { deleteUser(id: $id, ifMatch: $ifMatch) }"
GET = "query($id: ID!) { user(id: $id) { id email deletedAt } }"


@pytest.fixture
async def admin(accounts: Accounts) -> str:
    return await accounts.admin_token()


@contextmanager
def selects(accounts: Accounts) -> Iterator[list[str]]:
    """The SELECT statements the app's engine runs inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not in_app_background():
            statements.append(statement)

    stop = listen_to_sql(accounts.services.db, count)
    try:
        yield statements
    finally:
        stop()


async def test_rbac_matrix(gql: GraphQLClient, accounts: Accounts, admin: str) -> None:
    other = await accounts.user("other@example.com")
    user = await accounts.token_for("me@example.com")
    fields: dict[str, tuple[str, dict[str, Any]]] = {
        "user": (GET, {"id": str(other.id)}),
        "users": (USERS, {}),
        "createUser": (
            'mutation { createUser(input: {name: "N", email: "n@example.com", '
            'password: "long enough"}) { id } }',
            {},
        ),
        "updateUser": (UPDATE, {"id": str(other.id), "input": {"name": "X"}}),
        "deleteUser": (DELETE, {"id": str(other.id)}),
    }
    for name, (doc, variables) in fields.items():
        assert error_codes(await gql(doc, variables)) == ["MISSING_AUTH_HEADER"], name
        assert error_codes(await gql(doc, variables, token=user)) == ["FORBIDDEN"], name
        allowed = await gql(doc, variables, token=admin)
        assert "errors" not in allowed, (name, allowed)
    me = await gql("{ me { email } }", token=user)
    assert me["data"]["me"]["email"] == "me@example.com"


async def test_role_change_applies_immediately(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    promoted = await accounts.user("p@example.com")
    token = (await accounts.login("p@example.com"))["accessToken"]
    assert error_codes(await gql(USERS, token=token)) == ["FORBIDDEN"]
    await gql(UPDATE, {"id": str(promoted.id), "input": {"role": "ADMIN"}}, token=admin)
    # A role change revokes the old tokens; the next login carries the new role.
    assert error_codes(await gql(USERS, token=token)) == ["TOKEN_REVOKED"]
    fresh = (await accounts.login("p@example.com"))["accessToken"]
    assert "errors" not in await gql(USERS, token=fresh)


async def test_password_change_revokes_tokens(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    target = await accounts.user("t@example.com")
    token = (await accounts.login("t@example.com"))["accessToken"]
    await gql(UPDATE, {"id": str(target.id), "input": {"password": "a new password"}}, token=admin)
    assert error_codes(await gql("{ me { id } }", token=token)) == ["TOKEN_REVOKED"]
    assert await accounts.login("t@example.com", "a new password")


async def test_deleted_at_and_created_by_are_admin_only(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    admin_row = await accounts.user("boss@example.com", role="admin")
    admin = (await accounts.login("boss@example.com"))["accessToken"]
    await accounts.user("made@example.com", created_by=admin_row.id)
    user = (await accounts.login("made@example.com"))["accessToken"]
    mine = await gql("{ me { deletedAt createdBy { email } } }", token=user)
    assert mine["data"]["me"] == {"deletedAt": None, "createdBy": None}
    listed = await gql(
        '{ users(filter: {email: "made@"}) { items { createdBy { email } } } }', token=admin
    )
    assert listed["data"]["users"]["items"] == [{"createdBy": {"email": "boss@example.com"}}]
    # deletedAt: no query lets a non-admin reach a deleted row, so the field itself is asked,
    # on a deleted row, once for each kind of caller; admins also read it over the API.
    gone = await accounts.user("gone@example.com")
    assert "errors" not in await gql(DELETE, {"id": str(gone.id)}, token=admin)
    deleted = await gql(
        '{ users(filter: {email: "gone@", includeDeleted: true}) { items { deletedAt } } }',
        token=admin,
    )
    assert deleted["data"]["users"]["items"][0]["deletedAt"] is not None
    async with accounts.services.db.transaction() as session:
        row = await users_repo.get(session, gone.id, include_deleted=True)
    assert row is not None and row.deleted_at is not None
    for role, expected in (("admin", row.deleted_at), ("user", None)):
        caller = Caller("req", principal=Principal(user_id=1, role=role, session_id="s"))
        assert shown_to(caller, UserView.of(row)).deleted_at == expected, role


async def test_version_bumps_and_stale_if_match_writes_nothing(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    target = await accounts.user("v@example.com", name="Before")
    first = await gql(UPDATE, {"id": str(target.id), "input": {"name": "One"}}, token=admin)
    first_user = first["data"]["updateUser"]
    assert first_user["version"] == target.version + 1
    assert first_user["etag"] != target.etag
    stale = await gql(
        UPDATE,
        {"id": str(target.id), "input": {"name": "Two"}, "ifMatch": target.etag},
        token=admin,
    )
    assert error_codes(stale) == ["VERSION_CONFLICT"]
    assert stale["errors"][0]["extensions"]["details"] == {"currentEtag": first_user["etag"]}
    current = await gql(
        "query($id: ID!) { user(id: $id) { name version } }", {"id": str(target.id)}, token=admin
    )
    assert current["data"]["user"] == {"name": "One", "version": first_user["version"]}
    fresh = await gql(
        UPDATE,
        {"id": str(target.id), "input": {"name": "Two"}, "ifMatch": first_user["etag"]},
        token=admin,
    )
    etag = fresh["data"]["updateUser"]["etag"]
    assert fresh["data"]["updateUser"]["name"] == "Two"
    for form, name in ((etag.strip('"'), "Three"), ("*", "Four")):  # the bare and wildcard forms
        ok = await gql(
            UPDATE, {"id": str(target.id), "input": {"name": name}, "ifMatch": form}, token=admin
        )
        assert ok["data"]["updateUser"]["name"] == name, (form, ok)
    stale_bare = await gql(
        UPDATE,
        {"id": str(target.id), "input": {"name": "Five"}, "ifMatch": etag.strip('"')},
        token=admin,
    )
    assert error_codes(stale_bare) == ["VERSION_CONFLICT"]  # a bare tag is still checked


async def test_concurrent_writers_one_wins(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    target = await accounts.user("race@example.com")
    names = [f"Writer {i}" for i in range(6)]
    results = await asyncio.gather(
        *(
            gql(
                UPDATE,
                {"id": str(target.id), "input": {"name": name}, "ifMatch": target.etag},
                token=admin,
            )
            for name in names
        )
    )
    winners = [r["data"]["updateUser"]["name"] for r in results if "errors" not in r]
    assert len(winners) == 1
    assert all(error_codes(r) == ["VERSION_CONFLICT"] for r in results if "errors" in r)
    row = await gql(
        "query($id: ID!) { user(id: $id) { name version } }", {"id": str(target.id)}, token=admin
    )
    assert row["data"]["user"] == {"name": winners[0], "version": target.version + 1}


async def test_forbidden_and_invalid_updates(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    target = await accounts.user("f@example.com")
    await accounts.user("taken@example.com")
    bad = await gql(
        UPDATE,
        {"id": str(target.id), "input": {"name": "", "email": "nope", "password": "short"}},
        token=admin,
    )
    assert error_codes(bad) == ["VALIDATION_ERROR"]
    assert set(bad["errors"][0]["extensions"]["details"]) == {"name", "email", "password"}
    taken = await gql(
        UPDATE, {"id": str(target.id), "input": {"email": "taken@example.com"}}, token=admin
    )
    assert error_codes(taken) == ["EMAIL_EXISTS"]
    unknown_field = await gql(UPDATE, {"id": str(target.id), "input": {"version": 99}}, token=admin)
    assert error_codes(unknown_field) == ["VALIDATION_ERROR"]
    missing = await gql(UPDATE, {"id": "999999", "input": {"name": "X"}}, token=admin)
    assert error_codes(missing) == ["USER_NOT_FOUND"]
    not_an_id = await gql(GET, {"id": "abc"}, token=admin)
    assert error_codes(not_an_id) == ["VALIDATION_ERROR"]


async def test_pagination_bounds(gql: GraphQLClient, admin: str) -> None:
    for variables, field in (
        ({"page": 0}, "page"),
        ({"perPage": 0}, "perPage"),
        ({"perPage": 101}, "perPage"),
    ):
        body = await gql(USERS, variables, token=admin)
        assert error_codes(body) == ["VALIDATION_ERROR"]
        assert field in body["errors"][0]["extensions"]["details"]


async def test_pagination_order_and_filters(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    for i, name in enumerate(["Carol", "alice", "Bob", "dave", "Eve"]):
        await accounts.user(f"{name.lower()}{i}@Example.org", name=name)
    by_name = await gql(
        USERS,
        {"sortBy": "NAME", "sort": "ASC", "perPage": 2, "filter": {"email": "EXAMPLE.ORG"}},
        token=admin,
    )
    page = by_name["data"]["users"]
    assert [u["name"] for u in page["items"]] == ["alice", "Bob"]  # case-insensitive order
    assert page["pageInfo"] == {
        "page": 1,
        "perPage": 2,
        "total": 5,
        "pages": 3,
        "hasNextPage": True,
        "hasPreviousPage": False,
    }
    last = await gql(
        USERS,
        {
            "sortBy": "ID",
            "sort": "DESC",
            "page": 3,
            "perPage": 2,
            "filter": {"email": "example.org"},
        },
        token=admin,
    )
    assert len(last["data"]["users"]["items"]) == 1
    assert last["data"]["users"]["pageInfo"]["hasNextPage"] is False
    name_filter = await gql(USERS, {"filter": {"name": "AL"}}, token=admin)
    assert [u["name"] for u in name_filter["data"]["users"]["items"]] == ["alice"]
    wildcard = await gql(USERS, {"filter": {"name": "%"}}, token=admin)
    assert wildcard["data"]["users"]["items"] == []
    admins = await gql(USERS, {"filter": {"role": "ADMIN"}}, token=admin)
    assert [u["email"] for u in admins["data"]["users"]["items"]] == ["admin@example.com"]


async def test_soft_delete(gql: GraphQLClient, accounts: Accounts, admin: str) -> None:
    gone = await accounts.user("gone@example.com")
    token = (await accounts.login("gone@example.com"))["accessToken"]
    assert (await gql(DELETE, {"id": str(gone.id)}, token=admin))["data"] == {"deleteUser": True}
    assert (await gql(GET, {"id": str(gone.id)}, token=admin))["data"] == {"user": None}
    listed = await gql(USERS, {"filter": {"email": "gone@"}}, token=admin)
    assert listed["data"]["users"]["items"] == []
    with_deleted = await gql(
        '{ users(filter: {email: "gone@", includeDeleted: true}) { items { email deletedAt } } }',
        token=admin,
    )
    items = with_deleted["data"]["users"]["items"]
    assert items[0]["email"] == "gone@example.com"
    assert items[0]["deletedAt"] is not None
    assert error_codes(await gql("{ me { id } }", token=token)) == ["TOKEN_REVOKED"]
    login = await gql(
        f'mutation {{ login(email: "gone@example.com", password: "{PASSWORD}") {{ accessToken }} }}'
    )
    assert error_codes(login) == ["INVALID_CREDENTIALS"]
    again = await gql(
        "mutation($i: RegisterInput!) { register(input: $i) { id } }",
        {"i": {"name": "G", "email": "gone@example.com", "password": PASSWORD}},
    )
    assert error_codes(again) == ["EMAIL_EXISTS"]
    assert error_codes(await gql(DELETE, {"id": str(gone.id)}, token=admin)) == ["USER_NOT_FOUND"]


async def test_nested_created_by_costs_constant_statements(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    root = await accounts.user("root@example.com", role="admin")
    middle = [await accounts.user(f"m{i}@example.com", created_by=root.id) for i in range(3)]
    for i in range(30):
        await accounts.user(f"leaf{i}@example.com", created_by=middle[i % 3].id)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not in_app_background():
            statements.append(statement)

    doc = "{ users(perPage: 100) { items { id createdBy { id createdBy { id createdBy { id } } } } } }"
    stop = listen_to_sql(accounts.services.db, count)
    try:
        small = await gql(doc.replace("100", "5"), token=admin)
        small_count = len(statements)
        statements.clear()
        big = await gql(doc + " ", token=admin)  # not served from the list cache
    finally:
        stop()
    assert "errors" not in small and "errors" not in big
    assert len(big["data"]["users"]["items"]) == 35  # admin, root, 3 middle, 30 leaves
    # count + page + one batched SELECT per createdBy level (3), whatever the page size
    assert len(statements) <= 5
    assert small_count <= 5


async def test_cache_is_invalidated_by_every_write(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    async def emails() -> list[str]:
        body = await gql(USERS, {"sortBy": "EMAIL", "sort": "ASC"}, token=admin)
        return [u["email"] for u in body["data"]["users"]["items"]]

    assert await emails() == ["admin@example.com"]
    await gql(
        'mutation { register(input: {name: "R", email: "r@example.com", '
        'password: "long enough"}) { id } }'
    )
    assert await emails() == ["admin@example.com", "r@example.com"]
    created = await gql(
        'mutation { createUser(input: {name: "C", email: "c@example.com", '
        'password: "long enough"}) { id } }',
        token=admin,
    )
    assert await emails() == ["admin@example.com", "c@example.com", "r@example.com"]
    cid = created["data"]["createUser"]["id"]
    before = await gql(GET, {"id": cid}, token=admin)
    await gql(UPDATE, {"id": cid, "input": {"email": "c2@example.com"}}, token=admin)
    assert (await gql(GET, {"id": cid}, token=admin))["data"]["user"]["email"] == "c2@example.com"
    assert before["data"]["user"]["email"] == "c@example.com"
    assert await emails() == ["admin@example.com", "c2@example.com", "r@example.com"]
    await gql(DELETE, {"id": cid}, token=admin)
    assert (await gql(GET, {"id": cid}, token=admin))["data"]["user"] is None
    assert await emails() == ["admin@example.com", "r@example.com"]


async def test_cache_failure_degrades_to_the_database(settings: Any) -> None:
    import httpx

    from server.app import create_app
    from tests.conftest import Accounts as Factory
    from tests.conftest import GraphQLClient as Client

    app = create_app(settings.with_(redis_url="redis://127.0.0.1:1/0"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"User-Agent": "ua"}
        ) as http:
            client = Client(http)
            token = await Factory(app, client).admin_token()
            body = await client(USERS, token=token)
    assert body["data"]["users"]["pageInfo"]["total"] == 1


CURSOR_PAGE = (
    "query($after: String, $page: Int, $perPage: Int, $sort: SortOrder, $sortBy: UserSortField,"
    " $filter: UserFilter) { users(after: $after, page: $page, perPage: $perPage, sort: $sort,"
    " sortBy: $sortBy, filter: $filter) { items { id } pageInfo { page total hasNextPage"
    " hasPreviousPage endCursor } } }"
)


@pytest.mark.parametrize("sort", ["ASC", "DESC"])
@pytest.mark.parametrize("sort_by", ["CREATED_AT", "NAME", "EMAIL", "ID"])
async def test_cursor_pages_walk_the_same_order_as_page_numbers(
    gql: GraphQLClient, accounts: Accounts, admin: str, sort: str, sort_by: str
) -> None:
    """Following endCursor visits every user once, in the order page numbers give, ties on the
    sort value included; each cursor page knows its number and whether others follow."""
    for i, name in enumerate(["Bea", "al", "Bea", "Cy", "al", "Bea", "Dee"]):
        await accounts.user(f"u{i}@cursor.example", name=name)
    order = {"sort": sort, "sortBy": sort_by, "perPage": 3, "filter": {"email": "@cursor."}}
    by_number: list[str] = []
    for number in (1, 2, 3):
        body = await gql(CURSOR_PAGE, {**order, "page": number}, token=admin)
        by_number += [item["id"] for item in body["data"]["users"]["items"]]
    assert len(by_number) == len(set(by_number)) == 7
    by_cursor: list[str] = []
    after, infos = None, []
    while True:
        body = await gql(CURSOR_PAGE, {**order, "after": after}, token=admin)
        page = body["data"]["users"]
        by_cursor += [item["id"] for item in page["items"]]
        infos.append({k: v for k, v in page["pageInfo"].items() if k != "endCursor"})
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert by_cursor == by_number
    assert infos == [
        {"page": n, "total": 7, "hasNextPage": n < 3, "hasPreviousPage": n > 1} for n in (1, 2, 3)
    ]
    past_the_end = await gql(CURSOR_PAGE, {**order, "after": after}, token=admin)
    assert past_the_end["data"]["users"]["items"] == []
    assert past_the_end["data"]["users"]["pageInfo"]["endCursor"] is None


async def test_a_cursor_survives_writes_around_it(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    """Unlike a page number, a cursor does not shift when rows before it come or go."""
    for i in range(4):
        await accounts.user(f"w{i}@shift.example")
    order = {"sortBy": "ID", "sort": "ASC", "perPage": 2, "filter": {"email": "@shift."}}
    first = (await gql(CURSOR_PAGE, order, token=admin))["data"]["users"]
    await accounts.user("w-late@shift.example")  # sorts last: the next page still has w2, w3
    first_id = first["items"][0]["id"]
    deleted = await gql("mutation($id: ID!) { deleteUser(id: $id) }", {"id": first_id}, token=admin)
    assert deleted["data"] == {"deleteUser": True}
    after = first["pageInfo"]["endCursor"]
    second = (await gql(CURSOR_PAGE, {**order, "after": after}, token=admin))["data"]["users"]
    emails = await gql(
        "query($id: ID!) { user(id: $id) { email } }",
        {"id": second["items"][0]["id"]},
        token=admin,
    )
    assert emails["data"]["user"]["email"] == "w2@shift.example"
    assert len(second["items"]) == 2 and second["pageInfo"]["hasNextPage"] is True


async def test_a_cursor_pages_number_is_counted_once(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    """`page` and `hasPreviousPage` on a cursor page need the rows before the cursor counted:
    once, however many of them are asked for (besides the count behind `total`)."""
    for i in range(3):
        await accounts.user(f"c{i}@once.example")
    order = {"perPage": 2, "filter": {"email": "@once."}}
    first = await gql(CURSOR_PAGE, order, token=admin)
    after = first["data"]["users"]["pageInfo"]["endCursor"]
    with selects(accounts) as statements:
        body = await gql(CURSOR_PAGE, {**order, "after": after}, token=admin)
    info = body["data"]["users"]["pageInfo"]
    assert (info["page"], info["hasPreviousPage"]) == (2, True)
    counts = [s for s in statements if "count(" in s.lower()]
    # The rows up to the cursor; the listing's total was counted (and cached) with the first page.
    assert len(counts) == 1, counts


async def test_bad_cursors_are_validation_errors(gql: GraphQLClient, admin: str) -> None:
    first = await gql(CURSOR_PAGE, {"perPage": 1, "sortBy": "NAME"}, token=admin)
    name_cursor = first["data"]["users"]["pageInfo"]["endCursor"]
    import base64

    def forged(payload: str) -> str:
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    for variables, field in (
        ({"after": "not a cursor"}, "after"),
        ({"after": "x" * 5000}, "after"),
        ({"after": forged('["created_at", true, "2020-01-01T00:00:00", 1]')}, "after"),  # naive
        ({"after": forged('["created_at", true, 12, 1]')}, "after"),
        ({"after": forged('["id", true, 5, -1]')}, "after"),
        ({"after": forged('["id", true, 5]')}, "after"),
        ({"after": forged('{"a": 1}')}, "after"),
        ({"after": name_cursor}, "after"),  # made for another order
        ({"after": name_cursor, "sortBy": "NAME", "page": 2}, "page"),
    ):
        body = await gql(CURSOR_PAGE, variables, token=admin)
        assert error_codes(body) == ["VALIDATION_ERROR"], (variables, body)
        assert field in body["errors"][0]["extensions"]["details"], (variables, body)
    same_order = await gql(CURSOR_PAGE, {"after": name_cursor, "sortBy": "NAME"}, token=admin)
    assert "errors" not in same_order


async def _seed_5000_users(db: Any) -> None:
    """5,000 live users one second apart (MariaDB's sequence engine), statistics refreshed."""
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (name, email, password_hash, role, is_active, token_version, "
                "version, created_at, updated_at) SELECT CONCAT('n', seq), CONCAT('e', seq, '@x.io'),"
                " 'x', 'user', 1, 0, 1, NOW(6) - INTERVAL seq SECOND, NOW(6) FROM seq_1_to_5000"
            )
        )
        await conn.execute(text("ANALYZE TABLE users"))


@pytest.mark.mysql_only
async def test_default_page_uses_the_sort_index(accounts: Accounts, backend: str) -> None:
    """EXPLAIN of the default page: the page's ids come in order from one index alone (no
    filesort over the table, no row read while skipping); only the page's rows are read."""
    from persistence.user_listing import UserQuery, page_query

    db = accounts.services.db
    await _seed_5000_users(db)
    query = page_query(UserQuery(), offset=0, limit=20)
    sql = str(query.compile(db.engine.sync_engine, compile_kwargs={"literal_binds": True}))
    async with db.engine.connect() as conn:
        plan = (await conn.execute(text("EXPLAIN " + sql))).mappings().all()
    ids = [row for row in plan if row["select_type"] == "DERIVED"]
    assert len(ids) == 1 and ids[0]["key"] == "ix_users_deleted_at_created_at_id", plan
    assert "Using index" in ids[0]["Extra"] and "filesort" not in ids[0]["Extra"], plan
    rows = [row for row in plan if row["table"] == "users" and row["select_type"] == "PRIMARY"]
    assert len(rows) == 1 and rows[0]["type"] == "eq_ref", plan  # by primary key, page rows only


@pytest.mark.mysql_only
async def test_a_cursor_page_seeks_the_sort_index(accounts: Accounts) -> None:
    """EXPLAIN of a page after a cursor: a range on the order's index, read in order (no
    filesort, no OFFSET to walk), so its cost does not grow with the depth."""
    from datetime import UTC, datetime

    from persistence.user_listing import Position, UserQuery, page_query

    db = accounts.services.db
    await _seed_5000_users(db)
    for wanted, index in (
        (UserQuery(), "ix_users_deleted_at_created_at_id"),
        (UserQuery(sort_by="name", descending=False), "ix_users_name_id"),
    ):
        value: object = datetime(2000, 1, 1, tzinfo=UTC) if wanted.sort_by == "created_at" else "n5"
        query = page_query(wanted, offset=0, limit=21, after=Position(value, 2500))
        sql = str(query.compile(db.engine.sync_engine, compile_kwargs={"literal_binds": True}))
        async with db.engine.connect() as conn:
            plan = (await conn.execute(text("EXPLAIN " + sql))).mappings().all()
        ids = [row for row in plan if row["select_type"] == "DERIVED"]
        assert len(ids) == 1 and ids[0]["key"] == index, plan
        assert ids[0]["type"] == "range" and "filesort" not in ids[0]["Extra"], plan


async def test_an_etag_of_another_user_never_matches(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    target = await accounts.user("target@example.com", name="Target")
    other = await accounts.user("other@example.com")
    assert target.version == other.version  # same version, different resource
    body = await gql(
        UPDATE,
        {"id": str(target.id), "input": {"name": "Hijacked"}, "ifMatch": other.etag},
        token=admin,
    )
    assert error_codes(body) == ["VERSION_CONFLICT"]
    current = await gql(
        "query($id: ID!) { user(id: $id) { name } }", {"id": str(target.id)}, token=admin
    )
    assert current["data"]["user"]["name"] == "Target"


async def test_an_empty_update_writes_nothing(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    target = await accounts.user("same@example.com")
    body = await gql(
        UPDATE, {"id": str(target.id), "input": {}, "ifMatch": target.etag}, token=admin
    )
    assert body["data"]["updateUser"]["version"] == target.version
    stale = await gql(
        UPDATE, {"id": str(target.id), "input": {}, "ifMatch": '"1-999"'}, token=admin
    )
    assert error_codes(stale) == ["VERSION_CONFLICT"]


async def test_cache_ttl_zero_turns_the_cache_off(settings: Any) -> None:
    """What several workers without Redis run with: every read comes from the database."""
    from persistence.cache import USERS_NAMESPACE as CACHE_NAMESPACE
    from persistence.cache import MemoryCache
    from persistence.user_listing import UserQuery
    from persistence.users_cache import list_key
    from resolvers.accounts import create_account
    from resolvers.deps import Caller, Principal
    from resolvers.users import list_users
    from server.app import create_app

    app = create_app(settings.with_(cache_ttl=0))
    async with app.router.lifespan_context(app):
        services = app.state.services
        admin = await create_account(
            services, name="A", email="a@example.com", password=PASSWORD, role="admin"
        )
        caller = Caller(request_id="t", principal=Principal(admin.id, "admin", "s"))
        await list_users(services, caller)
        if isinstance(services.cache, MemoryCache):
            assert services.cache._entries == {}
        else:
            assert await services.redis.keys("cache:users:*") == []
        # What a cached worker sharing this Redis could have stored is never read either.
        generation = await services.cache.generation(CACHE_NAMESPACE)
        key = list_key(1, 20, None, UserQuery())
        stale = {"items": [], "total": 99, "more": False}
        await services.cache.set(f"{CACHE_NAMESPACE}:{generation}:{key}", stale, 60)
        assert (await list_users(services, caller)).total == 1


async def test_several_workers_cache_only_through_redis(settings: Any, backend: str) -> None:
    """Without Redis each of several workers would cache in its own memory, where another
    worker's write cannot reach: `serve --workers 2` caches only through a shared Redis."""
    from persistence.cache import MemoryCache
    from resolvers.accounts import create_account
    from resolvers.deps import Caller, Principal
    from resolvers.users import list_users
    from server.app import create_app

    app = create_app(settings.with_(workers=2))
    async with app.router.lifespan_context(app):
        services = app.state.services
        admin = await create_account(
            services, name="A", email="a@example.com", password=PASSWORD, role="admin"
        )
        await list_users(
            services, Caller(request_id="t", principal=Principal(admin.id, "admin", "s"))
        )
        if isinstance(services.cache, MemoryCache):
            assert backend == "embedded"
            assert services.cache._entries == {}
        else:
            assert await services.redis.keys("cache:users:*") != []


async def test_me_costs_only_the_session_check(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    """`me` answers from the users row the authentication SELECT read: no second query."""
    with selects(accounts) as statements:
        body = await gql("{ me { id email role } }", token=admin)
    assert body["data"]["me"]["email"] == "admin@example.com"
    assert len(statements) == 1, statements  # the session and its user, in one SELECT


async def test_created_by_comes_from_the_cache_once_read(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    """The `createdBy` users of a page are read once, then served from the cache until a write."""
    root = await accounts.user("root@example.com", role="admin")
    for i in range(3):
        await accounts.user(f"child{i}@example.com", created_by=root.id)
    doc = "{ users(perPage: 10) { items { email createdBy { email } } } }"
    first = await gql(doc, token=admin)
    with selects(accounts) as statements:
        again = await gql(doc, token=admin)
    assert again == first
    creators = {u["createdBy"]["email"] for u in again["data"]["users"]["items"] if u["createdBy"]}
    assert creators == {"root@example.com"}
    assert len(statements) == 1, statements  # the session check; the page and creators are cached
    await gql(UPDATE, {"id": str(root.id), "input": {"name": "Renamed"}}, token=admin)
    renamed = await gql("{ users(perPage: 10) { items { createdBy { name } } } }", token=admin)
    names = {u["createdBy"]["name"] for u in renamed["data"]["users"]["items"] if u["createdBy"]}
    assert names == {"Renamed"}


async def test_update_user_answers_the_row_it_committed(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    """A full form sends the current email back: the answer is still the committed row, and
    its etag is the next ifMatch (SQLAlchemy would hand back the copy the email check loaded)."""
    target = await accounts.user("form@example.com", name="Before")
    etag = target.etag
    for version, name in ((2, "After"), (3, "After")):  # a change, then the same form again
        form = {"name": name, "email": "form@example.com", "role": "USER", "isActive": True}
        body = await gql(
            UPDATE, {"id": str(target.id), "input": form, "ifMatch": etag}, token=admin
        )
        written = body["data"]["updateUser"]
        assert (written["name"], written["version"]) == (name, version)
        assert written["etag"] == f'"{target.id}-{version}"'
        etag = written["etag"]
        read = await gql(
            "query($id: ID!) { user(id: $id) { name version etag } }",
            {"id": str(target.id)},
            token=admin,
        )
        assert read["data"]["user"] == {"name": name, "version": version, "etag": etag}


async def test_default_and_desc_orders_are_the_items_returned(
    gql: GraphQLClient, accounts: Accounts, admin: str
) -> None:
    for name in ("Carol", "alice", "Bob"):
        await accounts.user(f"{name.lower()}@example.org", name=name)
    default = await gql(USERS, {}, token=admin)  # sort: DESC, sortBy: CREATED_AT
    assert [u["name"] for u in default["data"]["users"]["items"]] == [
        "Bob",
        "alice",
        "Carol",
        "Ada User",  # the admin, made first
    ]
    by_name = await gql(USERS, {"sort": "DESC", "sortBy": "NAME"}, token=admin)
    assert [u["name"] for u in by_name["data"]["users"]["items"]] == [
        "Carol",
        "Bob",
        "alice",
        "Ada User",
    ]
