"""graphql-core's execution semantics, held on the compiled executor (STYLE.md 13, after
graphql-jit's nonnull and lists tests): a small schema built to fail in every way a value can
(nulls in non-null fields, errors in list items, failing async resolvers at several depths,
values of the wrong Python type) runs each document through both executors; data and errors
(message, locations, path, extensions) must be equal."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError

from core.errors import AppError, ErrorCode
from schema.compiled import PlannedExecutor


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leafy:
    name: str
    maybe: str | None
    count: int
    flag: bool
    colour: Colour
    at: datetime
    ident: strawberry.ID

    @strawberry.field
    async def later(self) -> str | None:
        if self.name == "fails":
            raise AppError(ErrorCode.NOT_FOUND, "no later here")
        return self.name.upper()

    @strawberry.field
    async def must(self) -> str:
        if self.name == "fails":
            raise ValueError("a bug")  # unexpected: graphql-core's message, no code
        return self.name

    @strawberry.field
    def child(self) -> Leafy | None:
        return good("child of " + self.name)


def good(name: Any = "ok", **changes: Any) -> Leafy:
    values: dict[str, Any] = {
        "name": name,
        "maybe": None,
        "count": 7,
        "flag": True,
        "colour": Colour.RED,
        "at": datetime(2026, 12, 1, 12, 30, tzinfo=UTC),
        "ident": strawberry.ID("42"),
    }
    values.update(changes)
    return Leafy(**values)


@strawberry.type
class Holder:
    items: list[Leafy]
    strict_items: list[Leafy | None]
    nested: list[list[int]]
    one: Leafy
    optional: Leafy | None


async def _later(value: Leafy) -> Leafy:
    return value


def holder(**changes: Any) -> Holder:
    values: dict[str, Any] = {
        "items": [good("a"), good("b")],
        "strict_items": [good("c"), None],
        "nested": [[1, 2], [3]],
        "one": good("one"),
        "optional": good("optional"),
    }
    values.update(changes)
    return Holder(**values)


BROKEN: dict[str, Callable[[], Holder]] = {  # made anew for each run: generators are spent
    "fine": lambda: holder(),
    "null in a non-null leaf": lambda: holder(one=good(name=None)),
    "null in a non-null list item": lambda: holder(items=[good("a"), None, good("c")]),
    "failing resolvers in list items": lambda: holder(items=[good("a"), good("fails"), good("b")]),
    "a tuple for a list": lambda: holder(items=(good("a"), good("b"))),
    "a generator for a list": lambda: holder(nested=[(n for n in range(2))]),
    "a string in an int": lambda: holder(one=good(count="7")),
    "an int out of range": lambda: holder(one=good(count=2**40)),
    "a float in an int": lambda: holder(one=good(count=7.0)),
    "an int in an ID": lambda: holder(one=good(ident=42)),
    "a bad enum value": lambda: holder(one=good(colour="green")),
    "an enum's raw value": lambda: holder(one=good(colour="red")),
    "a string in a bool": lambda: holder(one=good(flag="yes")),
    "a naive datetime": lambda: holder(one=good(at=datetime(2026, 12, 1))),
    "null in a non-null object": lambda: holder(one=None),
    "a non-list for a list": lambda: holder(items=good("x")),
    "an exception as a value": lambda: holder(one=good(name=ValueError("boom"))),
    "an exception as a list item": lambda: holder(items=[good("a"), RuntimeError("item")]),
    "an exception as an object": lambda: holder(optional=LookupError("gone")),
    "an awaitable list item": lambda: holder(items=[good("a"), _later(good("b"))]),
    "an awaitable attribute": lambda: holder(optional=_later(good("x"))),
}


@strawberry.type
class Query:
    @strawberry.field
    async def holder(self, case: str) -> Holder:
        return BROKEN[case]()

    @strawberry.field
    def maybe_holder(self, case: str) -> Holder | None:
        return BROKEN[case]()

    @strawberry.field
    def raises(self) -> Holder | None:
        raise AppError(ErrorCode.FORBIDDEN, "not yours")


DOCUMENTS = {
    "every field": (
        "query($c: String!) { holder(case: $c) { items { name maybe count flag colour at ident "
        "later must child { name later } } strictItems { name later } nested "
        "one { name count flag colour at ident } optional { name must } } }"
    ),
    "through a nullable root": (
        "query($c: String!) { maybeHolder(case: $c) { items { name must } one { name count } "
        "strictItems { must } } }"
    ),
    "aliases, fragments, typename": (
        "fragment F on Leafy { n: name name later } query($c: String!) { a: maybeHolder(case: $c) "
        "{ __typename items { ...F ... on Leafy { name count } __typename } } b: raises { one "
        "{ name } } }"
    ),
}


def schema(compiled: bool) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, execution_context_class=PlannedExecutor if compiled else None
    )


COMPILED, STANDARD = schema(True), schema(False)


def answer(result: Any) -> tuple[Any, list[Any]]:
    errors: list[GraphQLError] = result.errors or []
    return result.data, [error.formatted for error in errors]


@pytest.mark.parametrize("document", DOCUMENTS, ids=list(DOCUMENTS))
@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
async def test_every_failure_answers_as_graphql_core_does(document: str, case: str) -> None:
    query = DOCUMENTS[document]
    standard = await STANDARD.execute(query, variable_values={"c": case})
    compiled = await COMPILED.execute(query, variable_values={"c": case})
    assert answer(compiled) == answer(standard)


async def test_the_plan_shapes_the_values() -> None:
    """The compiled executor does shape values itself (not graphql-core under another name)."""
    shaped: list[str] = []
    original = PlannedExecutor._object

    def spy(self: PlannedExecutor, shape: Any, *args: Any) -> Any:
        shaped.append(shape.type.name)
        return original(self, shape, *args)

    PlannedExecutor._object = spy  # type: ignore[method-assign,assignment]
    try:
        result = await COMPILED.execute(DOCUMENTS["every field"], variable_values={"c": "fine"})
    finally:
        PlannedExecutor._object = original  # type: ignore[method-assign]
    assert result.errors is None
    assert shaped.count("Leafy") >= 4 and "Holder" in shaped
