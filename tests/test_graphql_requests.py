"""Requests to /graphql that are not well-formed, or are built to amplify errors, and the two
paths a request can take (the short path for one JSON operation, strawberry's full view)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from core.errors import ErrorCode
from schema.prepared import MAX_VALIDATION_ERRORS
from tests.conftest import PASSWORD, Accounts, GraphQLClient, error_codes

CODES = {code.value for code in ErrorCode}
HEALTH = "{ health { status } }"

MALFORMED = {
    "empty query": {"query": ""},
    "null query": {"query": None},
    "no query": {"variables": {}},
    "numeric query": {"query": 5},
    "list query": {"query": [HEALTH]},
    "list variables": {"query": HEALTH, "variables": [1]},
    "string variables": {"query": HEALTH, "variables": "{}"},
    "list extensions": {"query": HEALTH, "extensions": []},
    "numeric extensions": {"query": HEALTH, "extensions": 3},
    "unknown operationName": {"query": "query A " + HEALTH, "operationName": "B"},
    "numeric operationName": {"query": "query A " + HEALTH, "operationName": 1},
    "two operations, no name": {"query": f"query A {HEALTH} query B {HEALTH}"},
    "only a fragment": {"query": "fragment F on Query { health { status } }"},
}
RAW_MALFORMED = {"not JSON": "{not json", "a string": '"{ health }"', "null": "null", "list": "[]"}


async def post(client: httpx.AsyncClient, body: Any, token: str | None = None) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", content=content, headers=headers)


@pytest.mark.parametrize(
    "body", [*MALFORMED.values(), *RAW_MALFORMED.values()], ids=[*MALFORMED, *RAW_MALFORMED]
)
async def test_malformed_requests_are_client_errors(
    client: httpx.AsyncClient, body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A 4xx with a section 4 code, nothing executed, no traceback: never a 500."""
    with caplog.at_level(logging.ERROR):
        response = await post(client, body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert error_codes(answer) == ["VALIDATION_ERROR"]
    assert answer.get("data") is None and '"ok"' not in response.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_several_operations_run_the_one_named(client: httpx.AsyncClient) -> None:
    named = await post(
        client, {"query": f"query A {{ __typename }} query B {HEALTH}", "operationName": "B"}
    )
    assert named.json() == {"data": {"health": {"status": "ok"}}}


async def test_a_post_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    for headers in ({"Content-Type": "text/plain"}, {}):
        response = await client.post(
            "/graphql", content=json.dumps({"query": HEALTH}), headers=headers
        )
        assert response.status_code == 415
        assert error_codes(response.json()) == ["HTTP_ERROR"]


# --- error amplification (graphql-cop's "Directive Overloading") ----------------------------


async def test_directive_overloading_is_one_error(gql: GraphQLClient) -> None:
    body = await gql("query cop { __typename " + "@aa" * 10 + " }")
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_a_location_carries_at_most_three_directives(gql: GraphQLClient) -> None:
    three = "@skip(if: false) @include(if: true) @skip(if: false)"
    within = await gql("{ health { status " + "@include(if: true) @skip(if: false)" + " } }")
    assert within == {"data": {"health": {"status": "ok"}}}
    repeated = await gql("{ health { status " + three + " } }")  # skip is not repeatable
    assert error_codes(repeated) == ["VALIDATION_ERROR"]
    four = await gql("{ health { status " + three + " @include(if: true) } }")
    assert error_codes(four) == ["QUERY_TOO_COMPLEX"]
    spread = await gql("{ ...F @aa @aa @aa @aa } fragment F on Query { __typename }")
    assert error_codes(spread) == ["QUERY_TOO_COMPLEX"]


async def test_a_document_over_a_limit_gets_that_one_error_only(gql: GraphQLClient) -> None:
    """Over the depth limit and full of mistakes: one QUERY_TOO_COMPLEX, no validation noise."""
    deep = "{ me " + "{ createdBy " * 11 + "{ nope1 nope2 }" + " }" * 11 + " nope3 @aa }"
    body = await gql(deep)
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    roots = " ".join(f"a{i}: health {{ nope }}" for i in range(20))
    assert error_codes(await gql("{ " + roots + " }")) == ["QUERY_TOO_COMPLEX"]


async def test_validation_stops_after_a_handful_of_errors(gql: GraphQLClient) -> None:
    unknown = " ".join(f"nope{i}" for i in range(40))
    body = await gql("{ health { " + unknown + " } }")
    # graphql-core's max_errors, and its own last error saying validation stopped
    assert len(body["errors"]) == MAX_VALIDATION_ERRORS + 1
    assert "Validation aborted" in body["errors"][-1]["message"]
    assert set(error_codes(body)) == {"VALIDATION_ERROR"}


# --- the differential test: the short path and strawberry's full view --------------------------


@contextmanager
def full_view(app: Starlette) -> Iterator[None]:
    """Route /graphql requests through strawberry's full view for the duration."""
    route = next(r for r in app.routes if isinstance(r, Route) and r.path == "/graphql")
    view = route.app
    route.app = functools.partial(view.answer, short_path=False)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        route.app = view


SIGNED = "query Me { me { email role } }"
CORPUS: list[Any] = [
    # valid: variables, fragments, directives, aliases, null propagation, lists
    {"query": HEALTH},
    {"query": SIGNED, "operationName": "Me"},
    {
        "query": "query($s: Boolean!) { health { status @skip(if: $s) database } }",
        "variables": {"s": True},
    },
    {"query": "{ ...H } fragment H on Query { health { status } }"},
    {"query": "{ ... on Query { h: health { s: status } } }"},
    {"query": "{ users(perPage: 2) { items { email } pageInfo { total } } }"},
    {"query": "query($p: Int) { users(perPage: $p) { items { email } } }", "variables": {"p": "x"}},
    {"query": "query($id: ID!) { user(id: $id) { email } }", "variables": {}},
    {"query": "{ me { email } }", "variables": None, "operationName": None, "extensions": None},
    {"query": "{ __typename }", "extensions": {"unknown": True}},
    {
        "query": 'mutation { register(input: {name: "R", email: "r@example.com", password: "'
        + PASSWORD
        + '"}) { email role } }'
    },
    # GraphQL errors: syntax, unknown fields and directives, the wrong operation type
    {"query": "{"},
    {"query": "{ nope }"},
    {"query": "{ health { status @aa } }"},
    {"query": "subscription { health { status } }"},
    {"query": "{ health { status } } { health { status } }"},
    # hostile: over the limits
    {"query": "{ __typename " + "@aa" * 10 + " }"},
    {"query": "{ " + " ".join(f"a{i}: health {{ status }}" for i in range(16)) + " }"},
    {"query": "{ me " + "{ createdBy " * 11 + "{ id }" + " }" * 11 + " }"},
    {"query": "{ " + "__typename " * 3000 + "}"},
    {
        "query": 'mutation { a: login(email: "x@y.io", password: "whatever1") { accessToken } '
        'b: login(email: "x@y.io", password: "whatever2") { accessToken } }'
    },
    *MALFORMED.values(),
    *RAW_MALFORMED.values(),
    # persisted queries (server/persisted.py): an unknown hash, a lying one, malformed ones
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
    {"query": HEALTH, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
    {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}},
    {"extensions": {"persistedQuery": None}, "query": None},
]


def outcome(response: httpx.Response) -> tuple[int, Any, list[str]]:
    body = response.json()
    return response.status_code, body.get("data"), error_codes(body)


async def test_the_short_path_and_the_full_view_agree(
    app: Starlette, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    """Every body of the corpus gives the same status, `data` and error codes both ways."""
    token = await accounts.admin_token()
    for body in CORPUS:
        short = outcome(await post(client, body, token))
        with full_view(app):
            full = outcome(await post(client, body, token))
        assert short == full, body
        assert short[0] in (200, 400) and "INTERNAL_ERROR" not in short[2], (body, short)
        assert set(short[2]) <= CODES, body
