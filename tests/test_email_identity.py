# ruff: noqa: RUF001, RUF002  (look-alike characters are what these tests are about)
"""One identity per email (issue 15): emails are normalised once (trimmed, NFKC, case-folded),
stored and compared byte for byte; invisible and bidi characters are refused. MariaDB's
utf8mb4_unicode_ci compares `jürgen@`, `ｊurgen@` and `jurgen\u200b@` equal to `jurgen@`, so
these tests matter most on the MySQL backend."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from core.settings import Settings
from core.validation import normalise_email
from persistence.db import sync_url
from resolvers.accounts import create_account
from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes
from tests.rest_helpers import bearer, data_of, error_of
from tests.signin_helpers import door

JURGEN = "jurgen@example.com"
FULLWIDTH = "ｊurgen@example.com"  # U+FF4A FULLWIDTH LATIN SMALL LETTER J
SHOUTED = "  JURGEN@Example.COM "
ZERO_WIDTH = "jurgen\u200b@example.com"
UMLAUT = "jürgen@example.com"
INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "soft hyphen": "\u00ad",
    "word joiner": "\u2060",
    "BOM": "\ufeff",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "right-to-left mark": "\u200f",
    "arabic letter mark": "\u061c",
    "DEL": "\x7f",
    "C1 control": "\x85",
    "line separator": "\u2028",
}
CREATE = "mutation($input: CreateUserInput!) { createUser(input: $input) { id email name } }"
UPDATE = "mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id email name } }"
USERS = "query($f: UserFilter) { users(filter: $f) { items { id email } } }"


def test_normalisation_trims_folds_case_and_compatibility_forms() -> None:
    assert normalise_email(SHOUTED) == JURGEN
    assert normalise_email(FULLWIDTH) == JURGEN
    assert normalise_email("ＪＵＲＧＥＮ@ＥＸＡＭＰＬＥ.ＣＯＭ") == JURGEN
    assert normalise_email("Straße@example.de") == "strasse@example.de"
    assert normalise_email("ju\u0308rgen@example.com") == UMLAUT  # composed: one form stored
    assert normalise_email(UMLAUT) != JURGEN  # another address, not a look-alike of one
    assert normalise_email(ZERO_WIDTH) != JURGEN  # kept, so validation can refuse it


@given(st.text(max_size=30))
def test_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_email(raw)
    assert normalise_email(once) == once


async def test_look_alike_emails_share_the_accounts_budget(settings: Settings) -> None:
    """The attack: spend an account's budget, then sign in with a look-alike of its email."""
    async with door(settings) as d:
        await create_account(d.services, name="J", email=JURGEN, password=PASSWORD, role="user")
        ip = "198.51.100.7"
        spent = [await d.login(JURGEN, "wrong password", ip) for _ in range(11)]
        assert spent == ["INVALID_CREDENTIALS"] * 10 + ["RATE_LIMITED"]
        for same in (FULLWIDTH, SHOUTED, "ＪＵＲＧＥＮ@example.com"):
            assert await d.login(same, PASSWORD, ip) == "RATE_LIMITED", same
        for other in (UMLAUT, ZERO_WIDTH, "jurgen\u202e@example.com"):
            assert await d.login(other, PASSWORD, ip) == "INVALID_CREDENTIALS", other
        assert await d.login(FULLWIDTH, PASSWORD, "192.0.2.1") == "ok"  # the owner, elsewhere


async def test_look_alike_registrations_are_the_same_account_or_refused(settings: Settings) -> None:
    async with door(settings) as d:
        first = await create_account(
            d.services, name="J", email=JURGEN, password=PASSWORD, role="user"
        )
        replay = await d.gql(
            "mutation($input: RegisterInput!) { register(input: $input) { id email } }",
            {"input": {"name": "J", "email": "Ｊurgen@Example.com", "password": PASSWORD}},
            "198.51.100.1",
        )
        assert replay["data"]["register"] == {"id": str(first.id), "email": JURGEN}
        assert await d.register(FULLWIDTH, "another password", "198.51.100.1") == "EMAIL_EXISTS"
        assert await d.register(ZERO_WIDTH, PASSWORD, "198.51.100.2") == "VALIDATION_ERROR"
        assert await d.register(UMLAUT, PASSWORD, "198.51.100.3") == "ok"  # another address


@pytest.mark.parametrize("what", sorted(INVISIBLE))
async def test_invisible_and_bidi_characters_are_refused(
    gql: GraphQLClient, accounts: Accounts, what: str
) -> None:
    admin = await accounts.admin_token()
    mark = INVISIBLE[what]
    bad_email = {"name": "Mallory", "email": f"mal{mark}lory@example.com", "password": PASSWORD}
    bad_name = {"name": f"Mal{mark}lory", "email": "mallory@example.com", "password": PASSWORD}
    for data, field in ((bad_email, "email"), (bad_name, "name")):
        body = await gql(CREATE, {"input": data}, token=admin)
        assert error_codes(body) == ["VALIDATION_ERROR"], (what, field)
        assert field in body["errors"][0]["extensions"]["details"]
    user = await accounts.user("plain@example.com")
    for change in ({"email": bad_email["email"]}, {"name": bad_name["name"]}):
        body = await gql(UPDATE, {"id": str(user.id), "input": change}, token=admin)
        assert error_codes(body) == ["VALIDATION_ERROR"], (what, change)


async def test_create_and_update_store_the_normalised_email(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    admin = await accounts.admin_token()
    made = await gql(
        CREATE,
        {"input": {"name": "J", "email": "  Ｊu\u0308rgen@EXAMPLE.com", "password": PASSWORD}},
        token=admin,
    )
    assert made["data"]["createUser"]["email"] == UMLAUT
    again = await gql(
        CREATE,
        {"input": {"name": "J", "email": "JÜRGEN@example.com", "password": PASSWORD}},
        token=admin,
    )
    assert error_codes(again) == ["EMAIL_EXISTS"]
    other = await accounts.user(JURGEN)
    taken = await gql(
        UPDATE, {"id": str(other.id), "input": {"email": "JÜRGEN@ＥＸＡＭＰＬＥ.com"}}, token=admin
    )
    assert error_codes(taken) == ["EMAIL_EXISTS"]
    moved = await gql(
        UPDATE,
        {"id": str(other.id), "input": {"email": " ＪＵＲＧＥＮ.2@Example.com"}},
        token=admin,
    )
    assert moved["data"]["updateUser"]["email"] == "jurgen.2@example.com"


async def test_rest_routes_use_the_same_identity(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    admin = await accounts.admin_token()
    await accounts.user(JURGEN)
    body = {"name": "J", "email": FULLWIDTH, "password": "another password"}
    error_of(await client.post("/auth/register", json=body), 409, "EMAIL_EXISTS")
    error_of(await client.post("/users", json=body, headers=bearer(admin)), 409, "EMAIL_EXISTS")
    zero = {**body, "email": ZERO_WIDTH}
    error_of(await client.post("/users", json=zero, headers=bearer(admin)), 400, "VALIDATION_ERROR")
    pair = data_of(await client.post("/auth/login", json={"email": SHOUTED, "password": PASSWORD}))
    assert pair["access_token"]
    found = data_of(
        await client.get("/users", params={"email": "ＪＵＲＧＥＮ"}, headers=bearer(admin))
    )
    assert [item["email"] for item in found["items"]] == [JURGEN]


async def test_the_email_filter_matches_normalised_needles(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    admin = await accounts.admin_token()
    await accounts.user("strasse@example.de")
    await accounts.user(UMLAUT)
    for needle, expected in (("STRAẞE", ["strasse@example.de"]), ("ＪÜＲ", [UMLAUT]), ("jur", [])):
        body = await gql(USERS, {"f": {"email": needle}}, token=admin)
        assert [item["email"] for item in body["data"]["users"]["items"]] == expected, needle


def email_column(settings: Settings) -> dict[str, Any]:
    """How the database compares users.email: its collation, and that of its unique key."""
    engine = create_engine(sync_url(settings.database_url))
    with engine.connect() as conn:
        if engine.dialect.name == "mysql":
            collation = conn.scalar(
                text(
                    "SELECT collation_name FROM information_schema.columns WHERE "
                    "table_schema = DATABASE() AND table_name = 'users' AND column_name = 'email'"
                )
            )
            found = {"collation": collation}
        else:
            table_sql = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'users'"))
            keys = [
                row[1]
                for row in conn.execute(text("PRAGMA index_list(users)"))
                if row[2] == 1  # unique
            ]
            index_collations = {
                info[4]
                for name in keys
                for info in conn.execute(text(f"PRAGMA index_xinfo('{name}')"))
                if info[2] == "email"
            }
            line = next(part for part in table_sql.split("\n") if "email" in part)
            found = {"column": line, "unique_key": index_collations}
    engine.dispose()
    return found


async def test_emails_are_compared_byte_for_byte(settings: Settings, app: Any) -> None:
    found = email_column(settings)
    if "collation" in found:
        assert found["collation"] == "utf8mb4_bin"
    else:
        assert "NOCASE" not in found["column"].upper()
        assert found["unique_key"] == {"BINARY"}
    await create_account(app.state.services, name="J", email=JURGEN, password=PASSWORD, role="user")
    engine = create_engine(sync_url(settings.database_url))
    count = text("SELECT COUNT(*) FROM users WHERE email = :e")
    with engine.connect() as conn:
        for look_alike in (FULLWIDTH, ZERO_WIDTH, UMLAUT, "JURGEN@example.com"):
            assert conn.scalar(count, {"e": look_alike}) == 0, look_alike
        assert conn.scalar(count, {"e": JURGEN}) == 1
    engine.dispose()
