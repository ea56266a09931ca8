"""The schema as clients see it: the committed SDL is current, and every root field has a policy."""

from __future__ import annotations

from pathlib import Path

from graphql import ObjectTypeDefinitionNode, parse

from schema import build_schema

ROOT = Path(__file__).resolve().parent.parent
POLICIES = {"public", "signedIn", "hasRole"}


def root_fields_and_policies() -> dict[str, set[str]]:
    document = parse(build_schema().as_str())
    found: dict[str, set[str]] = {}
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value in (
            "Query",
            "Mutation",
        ):
            for field in definition.fields or ():
                key = f"{definition.name.value}.{field.name.value}"
                found[key] = {d.name.value for d in field.directives or ()} & POLICIES
    return found


def test_schema_graphql_is_up_to_date() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == build_schema().as_str() + "\n", (
        "schema.graphql is stale: run `python manage.py export-schema`"
    )


def test_every_root_field_declares_exactly_one_policy() -> None:
    fields = root_fields_and_policies()
    assert "Query.me" in fields and "Mutation.login" in fields
    assert {name: policies for name, policies in fields.items() if len(policies) != 1} == {}


def test_policies_are_printed_in_the_sdl() -> None:
    fields = root_fields_and_policies()
    assert fields["Query.me"] == {"signedIn"}
    assert fields["Mutation.login"] == {"public"}
    assert fields["Mutation.logoutAll"] == {"signedIn"}
