"""Reads of one statement run in autocommit on MySQL: no transaction to end, no ROLLBACK."""

from __future__ import annotations

import pytest

from tests.conftest import Accounts, GraphQLClient


@pytest.mark.mysql_only
async def test_the_token_check_leaves_no_transaction_to_end(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    """Every authenticated request checks its token with one SELECT; on a pooled transactional
    connection MariaDB would count a ROLLBACK for each when the connection goes back."""

    async def rollbacks() -> int:
        async with accounts.services.db.reading_now() as connection:
            status = await connection.exec_driver_sql("SHOW GLOBAL STATUS LIKE 'Com_rollback'")
            return int(status.one()[1])

    admin = await accounts.admin_token()
    assert (await gql("{ me { id } }", token=admin))["data"]["me"]
    before = await rollbacks()
    for _ in range(30):
        assert (await gql("{ me { email } }", token=admin))["data"]["me"]["email"]
    assert await rollbacks() - before < 10  # the app's own sweeps may end a few meanwhile


async def test_a_revocation_is_seen_by_the_next_token_check(
    gql: GraphQLClient, accounts: Accounts
) -> None:
    admin = await accounts.admin_token()
    assert (await gql("{ me { id } }", token=admin))["data"]["me"]
    assert "errors" not in await gql("mutation { logoutAll }", token=admin)
    body = await gql("{ me { id } }", token=admin)
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_REVOKED"
