"""Page bounds, defaults and their violations: declared once (`core.paging`), held by both
transports and the GraphQL cost rule, and copied into the SDK, which cannot import them."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from graphql import FieldNode, OperationDefinitionNode, parse

from core import etags, paging
from schema.limits import _page_size
from tests.conftest import Accounts, GraphQLClient
from tests.rest_helpers import bearer, error_of

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "client") not in sys.path:  # the SDK from this checkout, as tests/test_client.py
    sys.path.insert(0, str(ROOT / "client"))

from client import calls as sdk  # noqa: E402

USERS = (
    "query($page: Int, $perPage: Int) { users(page: $page, perPage: $perPage) { items { id } } }"
)


def test_the_sdk_copy_equals_the_server_declaration() -> None:
    assert (sdk.FIRST_PAGE, sdk.DEFAULT_PER_PAGE, sdk.MAX_PER_PAGE) == (
        paging.FIRST_PAGE,
        paging.DEFAULT_PER_PAGE,
        paging.MAX_PER_PAGE,
    )
    assert (sdk.DEFAULT_SORT, sdk.DEFAULT_SORT_BY) == (paging.DEFAULT_SORT, paging.DEFAULT_SORT_BY)


@pytest.mark.parametrize(
    ("page", "per_page", "field", "message"),
    [
        (0, paging.DEFAULT_PER_PAGE, "page", f"Must be {paging.FIRST_PAGE} or more"),
        (1, paging.MAX_PER_PAGE + 1, "per_page", f"Must be {paging.MAX_PER_PAGE} or less"),
        (1, paging.MIN_PER_PAGE - 1, "per_page", f"Must be {paging.MIN_PER_PAGE} or more"),
    ],
)
async def test_both_transports_refuse_a_page_out_of_bounds_with_one_message(
    accounts: Accounts,
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    page: int,
    per_page: int,
    field: str,
    message: str,
) -> None:
    token = await accounts.admin_token()
    answer = await gql(USERS, {"page": page, "perPage": per_page}, token=token)
    graphql_field = "perPage" if field == "per_page" else field
    assert answer["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert answer["errors"][0]["extensions"]["details"][graphql_field] == [message]
    reply = await client.get(f"/users?page={page}&per_page={per_page}", headers=bearer(token))
    assert error_of(reply, 400, "VALIDATION_ERROR")["details"][field] == [message]


async def test_the_largest_page_is_allowed_and_costed_as_such(
    accounts: Accounts, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    token = await accounts.admin_token()
    answer = await gql(USERS, {"page": 1, "perPage": paging.MAX_PER_PAGE}, token=token)
    assert "errors" not in answer, answer
    reply = await client.get(f"/users?per_page={paging.MAX_PER_PAGE}", headers=bearer(token))
    assert reply.status_code == 200
    operation = parse("{ users(perPage: 1000) { total } }").definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    field = operation.selection_set.selections[0]
    assert isinstance(field, FieldNode)
    assert _page_size(field) == paging.MAX_PER_PAGE


@pytest.mark.parametrize("tag", ['"7-3"', "7-3", 'W/"7-3"', ' "7-3" '])
def test_if_match_and_if_none_match_read_an_etag_alike(tag: str) -> None:
    """GraphQL's `ifMatch` and REST's `If-Match` / `If-None-Match` go through one parser."""
    assert etags.version_named(tag, 7) == 3
    assert etags.etag_listed(tag, etags.etag_of(7, 3))
    assert etags.etag_listed(f'"1-1", {tag}', etags.etag_of(7, 3))
    assert etags.version_named(tag, 8) == etags.STALE
    assert not etags.etag_listed(tag, etags.etag_of(7, 4))


@pytest.mark.parametrize("tag", ["nope", '"7-x"', '"7-3", "7-4"', ""])
def test_a_malformed_if_match_is_refused(tag: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        etags.version_named(tag, 7)
