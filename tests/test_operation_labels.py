"""The `operation_name` metrics label: known operation names as themselves, anything a client
makes up (or too long a name) as `other`, so no client can grow the metrics without bound."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from graphql import OperationDefinitionNode
from prometheus_client import REGISTRY

from schema import build_schema
from schema.observability import (
    SDK_OPERATIONS,
    known_operations,
    logged_operation,
    operation_label,
)
from tests.conftest import GraphQLClient

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "client") not in sys.path:
    sys.path.insert(0, str(ROOT / "client"))

from client import operations  # noqa: E402 - the SDK from the checkout

KNOWN = known_operations(build_schema()._schema)


def count(name: str) -> float:
    labels = {"operation_name": name, "operation_type": "query"}
    return REGISTRY.get_sample_value("graphql_operation_duration_seconds_count", labels) or 0.0


def test_every_operation_the_sdk_sends_is_known() -> None:
    sent = {
        definition.name.value
        for request in operations.ALL
        for definition in request.document.definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    }
    assert sent == SDK_OPERATIONS
    assert {operation_label(name, KNOWN) for name in sent} == sent


def test_made_up_and_over_long_names_are_other() -> None:
    assert operation_label(None, KNOWN) == "anonymous"
    assert operation_label("Users", KNOWN) == "Users"  # a root field's name in PascalCase
    assert operation_label("IntrospectionQuery", KNOWN) == "IntrospectionQuery"
    made_up = [f"Junk{n}" for n in range(300)] + ["users", "Me" * 40, "Me\u200b"]
    assert {operation_label(name, KNOWN) for name in made_up} == {"other"}


def test_the_access_log_keeps_well_formed_names() -> None:
    """A log line is no label: a client's own name is worth reading there, junk is not."""
    assert logged_operation("PickedByTheClient") == "PickedByTheClient"
    assert logged_operation(None) == "anonymous"
    for junk in ("Me" * 40, "Me\u200b", "Zoë", "a b", "1st"):
        assert logged_operation(junk) == "other", junk


async def test_the_label_on_metrics(client: httpx.AsyncClient, gql: GraphQLClient) -> None:
    before = {name: count(name) for name in ("Health", "other", "PickedByTheClient")}
    await gql("query Health { health { status } }")
    for n in range(3):
        await gql(f"query PickedByTheClient{'x' * n} {{ health {{ status }} }}")
    assert count("Health") == before["Health"] + 1
    assert count("other") == before["other"] + 3
    assert count("PickedByTheClient") == 0
    assert "PickedByTheClient" not in (await client.get("/metrics")).text
