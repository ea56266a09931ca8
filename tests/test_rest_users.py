"""The legacy `/users*` routes, black-box over HTTP: CRUD, RBAC, ETags, pagination, soft delete."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Accounts
from tests.rest_helpers import USER_KEYS, bearer, data_of, error_of


@pytest.fixture
async def admin(accounts: Accounts) -> dict[str, str]:
    return bearer(await accounts.admin_token())


async def new_user(
    client: httpx.AsyncClient, admin: dict[str, str], email: str = "ada@example.com", **extra: Any
) -> dict[str, Any]:
    body = {"name": "Ada", "email": email, "password": PASSWORD, **extra}
    user: dict[str, Any] = data_of(await client.post("/users", json=body, headers=admin), 201)
    return user


async def test_admin_creates_a_user(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(
        "/users",
        json={"name": "Ada", "email": "ada@example.com", "password": PASSWORD, "role": "admin"},
        headers=admin,
    )
    user = data_of(response, 201)
    assert set(user) == USER_KEYS | {"deleted_at"}  # admins see deleted_at
    assert user["role"] == "admin" and user["deleted_at"] is None
    assert isinstance(user["created_by"], int)
    assert response.headers["ETag"] == f'"{user["id"]}-1"'
    again = await client.post(
        "/users",
        json={"name": "A", "email": "ada@example.com", "password": PASSWORD},
        headers=admin,
    )
    error_of(again, 409, "EMAIL_EXISTS")


async def test_users_routes_are_for_admins(
    client: httpx.AsyncClient, accounts: Accounts, admin: dict[str, str]
) -> None:
    target = await new_user(client, admin)
    user = bearer(await accounts.token_for("plain@example.com"))
    one = f"/users/{target['id']}"
    attempts = [
        client.get("/users", headers=user),
        client.post(
            "/users", json={"name": "x", "email": "x@y.io", "password": PASSWORD}, headers=user
        ),
        client.get(one, headers=user),
        client.patch(one, json={"name": "Evil"}, headers=user),
        client.put(one, json={"name": "Evil", "email": "e@y.io"}, headers=user),
        client.delete(one, headers=user),
    ]
    for attempt in attempts:
        error_of(await attempt, 403, "FORBIDDEN")
    error_of(await client.get("/users"), 401, "MISSING_AUTH_HEADER")
    assert data_of(await client.get(one, headers=admin))["name"] == "Ada"


async def test_users_me_is_not_captured_by_the_id_route(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    token = await accounts.token_for("plain@example.com")
    response = await client.get("/users/me", headers=bearer(token))
    me = data_of(response)
    assert set(me) == USER_KEYS and me["email"] == "plain@example.com" and me["role"] == "user"
    assert response.headers["ETag"] == f'"{me["id"]}-1"'


async def test_list_users_pages_sorts_and_filters(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for name in ("Carol", "alice", "Bob"):
        await new_user(client, admin, f"{name.lower()}@corp.example", name=name)
    page = data_of(
        await client.get(
            "/users", params={"per_page": 2, "sort": "asc", "sort_by": "name"}, headers=admin
        )
    )
    assert [u["name"] for u in page["items"]] == ["Ada User", "alice"]  # case-insensitive
    next_cursor = page["meta"].pop("next_cursor")
    assert page["meta"] == {
        "page": 1,
        "per_page": 2,
        "total": 4,
        "pages": 2,
        "sort": "asc",
        "sort_by": "name",
    }
    by_cursor = data_of(
        await client.get(
            "/users",
            params={"per_page": 2, "sort": "asc", "sort_by": "name", "after": next_cursor},
            headers=admin,
        )
    )
    assert [u["name"] for u in by_cursor["items"]] == ["Bob", "Carol"]
    assert (by_cursor["meta"]["page"], by_cursor["meta"]["next_cursor"]) == (None, None)
    filtered = await client.get(
        "/users", params={"email": "CORP.example", "name": "o"}, headers=admin
    )
    assert sorted(u["name"] for u in data_of(filtered)["items"]) == ["Bob", "Carol"]
    admins = await client.get("/users", params={"role": "admin"}, headers=admin)
    assert [u["role"] for u in data_of(admins)["items"]] == ["admin"]
    default = data_of(await client.get("/users", headers=admin))["meta"]
    assert (default["page"], default["per_page"], default["sort"], default["sort_by"]) == (
        1,
        20,
        "desc",
        "created_at",
    )


async def test_default_and_desc_orders_are_the_items_returned(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for name in ("Carol", "alice", "Bob"):
        await new_user(client, admin, f"{name.lower()}@corp.example", name=name)
    newest_first = data_of(await client.get("/users", headers=admin))["items"]  # desc, created_at
    assert [u["name"] for u in newest_first] == ["Bob", "alice", "Carol", "Ada User"]
    by_name = await client.get("/users", params={"sort": "desc", "sort_by": "name"}, headers=admin)
    assert [u["name"] for u in data_of(by_name)["items"]] == ["Carol", "Bob", "alice", "Ada User"]
    by_id = await client.get("/users", params={"sort": "desc", "sort_by": "id"}, headers=admin)
    ids = [u["id"] for u in data_of(by_id)["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "2.5"}, "per_page"),
        ({"sort": "up"}, "sort"),
        ({"sort_by": "password_hash"}, "sort_by"),
        ({"role": "root"}, "role"),
        ({"include_deleted": "maybe"}, "include_deleted"),
        ({"per_pag": "5"}, "per_pag"),
        ([("page", "1"), ("page", "2")], "page"),
        ({"after": "garbled"}, "after"),
        ({"after": "WyJpZCIsIHRydWUsIDEsIDFd", "page": "2"}, "page"),
    ],
)
async def test_bad_list_parameters_are_refused(
    client: httpx.AsyncClient, admin: dict[str, str], params: Any, field: str
) -> None:
    response = await client.get("/users", params=params, headers=admin)
    assert set(error_of(response, 400, "VALIDATION_ERROR")["details"]) == {field}


async def test_get_user_etag_and_if_none_match(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await new_user(client, admin)
    response = await client.get(f"/users/{user['id']}", headers=admin)
    assert data_of(response) == user
    etag = response.headers["ETag"]
    for tag in (etag, etag.strip('"'), f'W/{etag}, "other"', "*"):
        cached = await client.get(f"/users/{user['id']}", headers={**admin, "If-None-Match": tag})
        assert cached.status_code == 304 and cached.content == b"", tag
        assert cached.headers["ETag"] == etag
    stale = await client.get(f"/users/{user['id']}", headers={**admin, "If-None-Match": '"1-99"'})
    assert data_of(stale) == user
    error_of(await client.get("/users/999999", headers=admin), 404, "USER_NOT_FOUND")
    assert (
        "id"
        in error_of(await client.get("/users/abc", headers=admin), 400, "VALIDATION_ERROR")[
            "details"
        ]
    )


@pytest.mark.parametrize("form", ["quoted", "bare", "star"])
async def test_patch_with_if_match(
    client: httpx.AsyncClient, admin: dict[str, str], form: str
) -> None:
    user = await new_user(client, admin)
    one = f"/users/{user['id']}"
    etag = (await client.get(one, headers=admin)).headers["ETag"]
    if_match = {"quoted": etag, "bare": etag.strip('"'), "star": "*"}[form]
    response = await client.patch(
        one, json={"name": "Ada L.", "is_active": False}, headers={**admin, "If-Match": if_match}
    )
    changed = data_of(response)
    assert (changed["name"], changed["is_active"], changed["version"]) == ("Ada L.", False, 2)
    assert changed["email"] == user["email"]
    assert response.headers["ETag"] == f'"{user["id"]}-2"' != etag


async def test_stale_if_match_is_a_conflict_and_writes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await new_user(client, admin)
    one = f"/users/{user['id']}"
    first = await client.patch(one, json={"name": "First"}, headers=admin)
    stale = f'"{user["id"]}-1"'
    for attempt in (
        client.patch(one, json={"name": "Second"}, headers={**admin, "If-Match": stale}),
        client.put(
            one,
            json={"name": "Second", "email": "s@example.com"},
            headers={**admin, "If-Match": stale},
        ),
        client.delete(one, headers={**admin, "If-Match": stale}),
    ):
        error = error_of(await attempt, 409, "VERSION_CONFLICT")
        assert error["details"]["current_etag"] == first.headers["ETag"]
    garbage = await client.patch(one, json={"name": "Third"}, headers={**admin, "If-Match": "x"})
    error_of(garbage, 400, "VALIDATION_ERROR")
    current = data_of(await client.get(one, headers=admin))
    assert (current["name"], current["email"], current["version"]) == ("First", user["email"], 2)


async def test_put_takes_the_fields_patch_takes(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """The legacy `UpdateUserSchema` required no field: PUT changes what it is given."""
    user = await new_user(client, admin)
    one = f"/users/{user['id']}"
    renamed = data_of(await client.put(one, json={"name": "Only a name"}, headers=admin))
    assert (renamed["name"], renamed["email"], renamed["version"]) == (
        "Only a name",
        user["email"],
        2,
    )
    replaced = data_of(
        await client.put(
            one,
            json={"name": "Ada B.", "email": "ADA.B@example.com", "role": "admin"},
            headers=admin,
        )
    )
    assert (replaced["name"], replaced["email"], replaced["role"]) == (
        "Ada B.",
        "ada.b@example.com",
        "admin",
    )
    assert replaced["is_active"] is True  # omitted optional fields stay as they are
    assert data_of(await client.put(one, json={}, headers=admin))["version"] == 3  # no change


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_a_write_answers_the_row_it_committed(
    client: httpx.AsyncClient, admin: dict[str, str], method: str
) -> None:
    """A full form sends the current email back: the answer is still the new row (SQLAlchemy
    would hand back the copy the email check loaded), and its ETag is the next If-Match."""
    user = await new_user(client, admin)
    one = f"/users/{user['id']}"
    etag = f'"{user["id"]}-1"'
    for version, name in ((2, "Ada L."), (3, "Ada L.")):  # a change, then no change at all
        body = {"name": name, "email": user["email"], "role": "user", "is_active": True}
        response = await client.request(method, one, json=body, headers={**admin, "If-Match": etag})
        written = data_of(response)
        etag = response.headers["ETag"]
        assert (written["name"], written["version"], etag) == (
            name,
            version,
            f'"{user["id"]}-{version}"',
        )
        assert written == data_of(await client.get(one, headers=admin))
    assert data_of(
        await client.patch(one, json={"name": "Next"}, headers={**admin, "If-Match": etag})
    )


async def test_update_refuses_unknown_and_read_only_fields(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await new_user(client, admin)
    one = f"/users/{user['id']}"
    body = {
        "name": "Ok",
        "version": 9,
        "deleted_at": None,
        "created_by": 1,
        "id": 5,
        "nickname": "x",
    }
    details = error_of(await client.patch(one, json=body, headers=admin), 400, "VALIDATION_ERROR")[
        "details"
    ]
    assert set(details) == {"version", "deleted_at", "created_by", "id", "nickname"}
    assert details["nickname"] == ["Unknown field"] and details["id"] == ["Read-only field"]
    typed = await client.patch(one, json={"is_active": "yes", "name": None}, headers=admin)
    assert error_of(typed, 400, "VALIDATION_ERROR")["details"] == {
        "is_active": ["Must be true or false"],
        "name": ["Must not be null"],
    }
    assert data_of(await client.get(one, headers=admin)) == user


async def test_update_to_a_taken_email_is_a_conflict(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await new_user(client, admin)
    await new_user(client, admin, "taken@example.com")
    taken = await client.patch(
        f"/users/{user['id']}", json={"email": "taken@example.com"}, headers=admin
    )
    error_of(taken, 409, "EMAIL_EXISTS")
    error_of(
        await client.patch("/users/999999", json={"name": "x"}, headers=admin),
        404,
        "USER_NOT_FOUND",
    )


async def test_soft_delete(
    client: httpx.AsyncClient, accounts: Accounts, admin: dict[str, str]
) -> None:
    await accounts.user("victim@example.com")
    victim_pair = await accounts.login("victim@example.com")
    victim = bearer(victim_pair["accessToken"])
    victim_id = data_of(await client.get("/users/me", headers=victim))["id"]
    one = f"/users/{victim_id}"
    etag = (await client.get(one, headers=admin)).headers["ETag"]
    assert data_of(await client.delete(one, headers={**admin, "If-Match": etag})) is None
    error_of(await client.get(one, headers=admin), 404, "USER_NOT_FOUND")
    error_of(await client.delete(one, headers=admin), 404, "USER_NOT_FOUND")
    error_of(await client.get("/users/me", headers=victim), 401, "TOKEN_REVOKED")
    listed = await client.get("/users", params={"include_deleted": "true"}, headers=admin)
    deleted = [u for u in data_of(listed)["items"] if u["id"] == victim_id]
    assert deleted and deleted[0]["deleted_at"] is not None
