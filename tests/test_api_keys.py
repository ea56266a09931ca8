"""API keys: made and listed from a session, sent as `Authorization: Bearer agk_...`, acting with
the owner's role from anywhere, stopping when revoked, expired or the owner is gone, and refused
on every operation that manages credentials (both transports)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select, text
from starlette.applications import Starlette

from core import api_keys
from persistence.models import ApiKey
from tests.conftest import Accounts, GraphQLClient, error_codes, listen_to_sql
from tests.rest_helpers import bearer, data_of, error_of
from tests.test_passwords import Later

CREATE = (
    "mutation($n: String!, $d: Int) { createApiKey(name: $n, expiresInDays: $d) "
    "{ secret apiKey { id name prefix createdAt lastUsedAt expiresAt } } }"
)
MINE = "{ myApiKeys { id name prefix createdAt lastUsedAt expiresAt } }"
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) }"
ME = "{ me { id email role } }"
SECRET = re.compile(r"agk_[A-Za-z0-9_-]{43}")


async def new_key(
    gql: GraphQLClient, token: str, name: str = "ci", days: int | None = None
) -> dict[str, Any]:
    body = await gql(CREATE, {"n": name, "d": days}, token=token)
    assert "errors" not in body, body
    made: dict[str, Any] = body["data"]["createApiKey"]
    return made


async def test_a_key_is_shown_once_stored_hashed_and_signs_in_as_its_owner(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    token = await accounts.token_for("user@example.com")
    made = await new_key(gql, token, name="  nightly backup  ", days=30)
    secret, key = made["secret"], made["apiKey"]
    assert SECRET.fullmatch(secret)  # `agk_` and 256 random bits
    assert key["prefix"] == secret[:12] and key["name"] == "nightly backup"
    assert key["lastUsedAt"] is None and key["expiresAt"] > key["createdAt"]
    assert (await gql(MINE, token=token))["data"]["myApiKeys"] == [key]  # never the secret
    async with accounts.services.db.transaction() as session:
        stored = (await session.scalars(select(ApiKey))).one()
    assert secret not in (stored.secret_hash, stored.prefix) and len(stored.secret_hash) == 64
    me = (await gql(ME, token=secret))["data"]["me"]
    assert me["email"] == "user@example.com" and me["role"] == "USER"
    rest = data_of(await client.get("/auth/me", headers=bearer(secret)))
    assert rest["email"] == "user@example.com"


async def test_a_key_acts_with_its_owners_role_as_it_is_now(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    admin = await accounts.admin_token()
    other_admin = await accounts.admin_token("second@example.com")
    secret = (await new_key(gql, admin))["secret"]
    listed = data_of(await client.get("/users", headers=bearer(secret)))
    assert listed["meta"]["total"] == 2
    me = (await gql(ME, token=admin))["data"]["me"]
    demote = "mutation($id: ID!) { updateUser(id: $id, input: {role: USER}) { role } }"
    assert "errors" not in await gql(demote, {"id": me["id"]}, token=other_admin)
    assert error_codes(await gql("{ users { items { id } } }", token=secret)) == ["FORBIDDEN"]
    error_of(await client.get("/users", headers=bearer(secret)), 403, "FORBIDDEN")


async def test_a_key_is_not_bound_to_the_client_that_made_it(
    accounts: Accounts, gql: GraphQLClient, app: Starlette
) -> None:
    token = await accounts.token_for("user@example.com")
    secret = (await new_key(gql, token))["secret"]
    elsewhere = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
        headers = {**bearer(secret), "User-Agent": "cron/1.0"}
        assert data_of(await other.get("/auth/me", headers=headers))["email"] == "user@example.com"
        error_of(
            await other.get("/auth/me", headers={**bearer(token), "User-Agent": "cron/1.0"}),
            401,
            "TOKEN_CONTEXT_MISMATCH",  # the session token stays bound, the key is not
        )


async def test_an_expired_key_is_refused(accounts: Accounts, gql: GraphQLClient) -> None:
    token = await accounts.token_for("user@example.com")
    secret = (await new_key(gql, token, days=1))["secret"]
    accounts.services.clock = Later(23 * 3600)
    assert "errors" not in await gql(ME, token=secret)
    accounts.services.clock = Later(24 * 3600 + 1)
    assert error_codes(await gql(ME, token=secret)) == ["TOKEN_EXPIRED"]


async def test_a_revoked_key_stops_at_once_and_leaves_the_list(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    token = await accounts.token_for("user@example.com")
    kept, revoked = await new_key(gql, token, "kept"), await new_key(gql, token, "revoked")
    assert "errors" not in await gql(ME, token=revoked["secret"])
    answer = await gql(REVOKE, {"id": revoked["apiKey"]["id"]}, token=token)
    assert answer == {"data": {"revokeApiKey": True}}
    assert error_codes(await gql(ME, token=revoked["secret"])) == ["TOKEN_REVOKED"]
    error_of(await client.get("/auth/me", headers=bearer(revoked["secret"])), 401, "TOKEN_REVOKED")
    assert [k["name"] for k in (await gql(MINE, token=token))["data"]["myApiKeys"]] == ["kept"]
    assert "errors" not in await gql(ME, token=kept["secret"])
    again = await gql(REVOKE, {"id": revoked["apiKey"]["id"]}, token=token)
    assert error_codes(again) == ["NOT_FOUND"]


async def test_another_users_key_id_is_not_found_except_to_an_admin(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    mine = await accounts.token_for("user@example.com")
    theirs = await accounts.token_for("stranger@example.com")
    admin = await accounts.admin_token()
    their_key = await new_key(gql, theirs)
    for bad_id in (their_key["apiKey"]["id"], "999999", "not-an-id", "-1", "9" * 40):
        assert error_codes(await gql(REVOKE, {"id": bad_id}, token=mine)) == ["NOT_FOUND"]
    assert "errors" not in await gql(ME, token=their_key["secret"])
    assert (await gql(MINE, token=mine))["data"]["myApiKeys"] == []
    answer = await gql(REVOKE, {"id": their_key["apiKey"]["id"]}, token=admin)
    assert answer == {"data": {"revokeApiKey": True}}
    assert error_codes(await gql(ME, token=their_key["secret"])) == ["TOKEN_REVOKED"]


async def test_a_deactivated_or_deleted_owners_keys_stop_at_once(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    admin = await accounts.admin_token()
    owner = await accounts.token_for("user@example.com")
    user_id = (await gql(ME, token=owner))["data"]["me"]["id"]
    secret = (await new_key(gql, owner))["secret"]
    assert "errors" not in await gql(ME, token=secret)  # and now remembered as touched
    active = (
        "mutation($id: ID!, $a: Boolean!) { updateUser(id: $id, input: {isActive: $a}) { id } }"
    )
    assert "errors" not in await gql(active, {"id": user_id, "a": False}, token=admin)
    assert error_codes(await gql(ME, token=secret)) == ["TOKEN_REVOKED"]
    error_of(await client.get("/auth/me", headers=bearer(secret)), 401, "TOKEN_REVOKED")
    # Reactivating the account brings back the keys neither revoked nor expired.
    assert "errors" not in await gql(active, {"id": user_id, "a": True}, token=admin)
    assert "errors" not in await gql(ME, token=secret)
    data_of(await client.delete(f"/users/{user_id}", headers=bearer(admin)))
    assert error_codes(await gql(ME, token=secret)) == ["TOKEN_REVOKED"]


async def test_wrong_keys_are_token_invalid_never_a_crash(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    await accounts.token_for("user@example.com")
    guesses = [
        api_keys.new_secret(),  # well formed, not ours
        "agk_",
        "agk_short",
        "agk_" + "A" * 44,
        "agk_" + "A" * 10_000,
        "agk_" + "é" * 43,
        "agk_" + "A" * 42 + "%",
        "AGK_" + "A" * 43,  # not a key, and not a JWT either
    ]
    for guess in guesses:
        header = {b"Authorization": f"Bearer {guess}".encode()}  # UTF-8, sent raw
        answer = await client.post("/graphql", json={"query": ME}, headers=header)
        assert error_codes(answer.json()) == ["TOKEN_INVALID"], guess
        error_of(await client.get("/auth/me", headers=header), 401, "TOKEN_INVALID")


async def test_names_and_lifetimes_are_checked(accounts: Accounts, gql: GraphQLClient) -> None:
    token = await accounts.token_for("user@example.com")
    for name, days, field in (
        ("   ", None, "name"),
        ("x" * 101, None, "name"),
        ("ci", 0, "expiresInDays"),
        ("ci", -5, "expiresInDays"),
        ("ci", 3651, "expiresInDays"),
    ):
        body = await gql(CREATE, {"n": name, "d": days}, token=token)
        assert error_codes(body) == ["VALIDATION_ERROR"], (name, days)
        assert field in body["errors"][0]["extensions"]["details"]
    forever = await new_key(gql, token, days=None)
    assert forever["apiKey"]["expiresAt"] is None
    assert (await new_key(gql, token, days=3650))["apiKey"]["expiresAt"] is not None


def statements_of(accounts: Accounts) -> tuple[list[str], Callable[[], None]]:
    """Every SQL statement the app runs until the returned stop() is called."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    return seen, listen_to_sql(accounts.services.db, record)


async def test_a_key_is_checked_in_one_select_and_last_used_at_moves_once_a_minute(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    token = await accounts.token_for("user@example.com")
    secret = (await new_key(gql, token))["secret"]
    first, stop = statements_of(accounts)
    await gql(ME, token=secret)
    stop()
    assert first == ["SELECT", "UPDATE"]  # the key and its owner; lastUsedAt
    [used] = (await gql(MINE, token=token))["data"]["myApiKeys"]
    assert used["lastUsedAt"] is not None
    later, stop = statements_of(accounts)
    for _ in range(3):
        assert "errors" not in await gql(ME, token=secret)
    stop()
    assert later == ["SELECT"] * 3  # `me` answers from the row authentication read
    [still] = (await gql(MINE, token=token))["data"]["myApiKeys"]
    assert still["lastUsedAt"] == used["lastUsedAt"]
    accounts.services.api_key_touches.clear()  # another process, which never wrote it
    await gql(ME, token=secret)
    [same_minute] = (await gql(MINE, token=token))["data"]["myApiKeys"]
    assert same_minute["lastUsedAt"] == used["lastUsedAt"]  # the UPDATE's own condition
    accounts.services.api_key_touches.clear()
    accounts.services.clock = Later(61)
    await gql(ME, token=secret)
    [moved] = (await gql(MINE, token=token))["data"]["myApiKeys"]
    assert moved["lastUsedAt"] > used["lastUsedAt"]


async def test_a_users_live_keys_are_bounded(accounts: Accounts, gql: GraphQLClient) -> None:
    from resolvers.api_keys import MAX_LIVE_KEYS

    token = await accounts.token_for("user@example.com")
    user_id = int((await gql(ME, token=token))["data"]["me"]["id"])
    async with accounts.services.db.transaction() as session:
        now = accounts.services.clock.now()
        session.add_all(
            ApiKey(
                user_id=user_id, name=f"k{n}", secret_hash=f"{n:064x}", prefix="agk_x",
                created_at=now,
            )
            for n in range(MAX_LIVE_KEYS)
        )  # fmt: skip
    assert error_codes(await gql(CREATE, {"n": "one more"}, token=token)) == ["VALIDATION_ERROR"]
    async with accounts.services.db.transaction() as session:
        await session.execute(text("UPDATE api_keys SET revoked_at = created_at WHERE name = 'k0'"))
    assert SECRET.fullmatch((await new_key(gql, token))["secret"])


async def test_creating_and_revoking_a_key_are_audited_without_the_secret(
    accounts: Accounts, gql: GraphQLClient
) -> None:
    admin = await accounts.admin_token()
    token = await accounts.token_for("user@example.com")
    made = await new_key(gql, token, name="cron")
    assert (await gql(REVOKE, {"id": made["apiKey"]["id"]}, token=token))["data"]
    page = await gql(
        '{ auditEvents(filter: {action: "apikey.created"}) { items { action details '
        "subject { email } } } } ",
        token=admin,
    )
    revoked = await gql(
        '{ auditEvents(filter: {action: "apikey.revoked"}) { items { details subject { email } } } }',
        token=admin,
    )
    [created] = page["data"]["auditEvents"]["items"]
    [gone] = revoked["data"]["auditEvents"]["items"]
    assert created["subject"] == gone["subject"] == {"email": "user@example.com"}
    assert created["details"]["name"] == "cron"
    assert created["details"]["key_id"] == gone["details"]["key_id"] == int(made["apiKey"]["id"])
    assert made["secret"] not in str(page) and made["secret"][:12] not in str(page)
