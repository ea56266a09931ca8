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


def test_the_contract_surface_is_served_exactly() -> None:
    """Every type, field, argument, default and enum value of the contract (section 1, and the
    parts of section 6 served so far), with its nullability; arguments we add are optional."""
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLObjectType,
    )
    from graphql import (
        build_schema as from_sdl,
    )

    contract = from_sdl(
        (ROOT / "tests" / "contract.graphql").read_text()
        + (ROOT / "tests" / "contract_lifecycle.graphql").read_text()
    )
    ours = from_sdl((ROOT / "schema.graphql").read_text())
    problems: list[str] = []
    for name, wanted in contract.type_map.items():
        if name.startswith("__"):
            continue
        served = ours.type_map.get(name)
        if served is None:
            problems.append(f"missing type {name}")
        elif isinstance(wanted, GraphQLEnumType):
            assert isinstance(served, GraphQLEnumType)
            if set(wanted.values) != set(served.values):
                problems.append(f"enum {name} values differ")
        elif isinstance(wanted, GraphQLObjectType | GraphQLInputObjectType):
            assert isinstance(served, GraphQLObjectType | GraphQLInputObjectType)
            for field_name, field in wanted.fields.items():
                got = served.fields.get(field_name)
                if got is None or str(got.type) != str(field.type):
                    problems.append(f"{name}.{field_name}")
                    continue
                if isinstance(wanted, GraphQLInputObjectType):
                    if field.default_value != got.default_value:
                        problems.append(f"{name}.{field_name} default")
                    continue
                wanted_args = {a: (str(v.type), v.default_value) for a, v in field.args.items()}
                served_args = {a: (str(v.type), v.default_value) for a, v in got.args.items()}
                # Additions (`users(after:)`) must be optional: a contract query stays valid.
                added = {a: v for a, v in served_args.items() if a not in wanted_args}
                if {a: served_args.get(a) for a in wanted_args} != wanted_args or any(
                    type_.endswith("!") for type_, _ in added.values()
                ):
                    problems.append(f"{name}.{field_name} arguments")
    assert problems == []
