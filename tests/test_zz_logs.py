"""Runs last (by name): the logs of the whole run never contain a secret the tests used."""

from __future__ import annotations

import logging
import re

import httpx
import orjson

from server.logging_setup import JSONFormatter
from tests.conftest import PASSWORD, TEST_SECRET, Accounts, GraphQLClient

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.")


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


def test_no_secret_reached_any_log_line(every_log_line: list[str]) -> None:
    assert every_log_line, "the run logged nothing: the capture is broken"
    leaks = [
        line
        for line in every_log_line
        if TEST_SECRET in line or PASSWORD in line or JWT.search(line) or "$argon2" in line
    ]
    assert leaks == []
