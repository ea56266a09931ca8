"""Access log lines. (That no log line of a run carries a secret is checked when the session
finishes, whatever tests ran: `pytest_sessionfinish` in conftest.py.)"""

from __future__ import annotations

import logging

import httpx
import orjson

from server.logging_setup import JSONFormatter
from tests.conftest import Accounts, GraphQLClient, every_log_line


async def test_access_lines_are_json_with_request_ids(
    client: httpx.AsyncClient, gql: GraphQLClient, accounts: Accounts
) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logging.getLogger("app.access").addHandler(keep)
    try:
        token = await accounts.token_for()
        await gql("query Who { me { id } }", token=token, headers={"X-Request-ID": "req-42"})
        await gql(
            'mutation { login(email: "user@example.com", password: "wrong password") '
            "{ accessToken } }"
        )
    finally:
        logging.getLogger("app.access").removeHandler(keep)
    lines = [orjson.loads(JSONFormatter().format(r)) for r in records]
    me = next(line for line in lines if line["request_id"] == "req-42")
    assert me["operation"] == "query Who"
    assert me["status"] == 200
    assert me["route"] == "/graphql"
    assert isinstance(me["principal_id"], int)
    assert me["duration_ms"] >= 0
    assert all(line["request_id"] for line in lines)
    # The session-wide capture that the secrets check reads saw these lines too.
    assert any('"request_id":"req-42"' in line for line in every_log_line())
