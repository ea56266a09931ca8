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
from aiodataloader import DataLoader
from graphql import GraphQLError

from core.errors import AppError, ErrorCode
from schema.compiled import PlannedExecutor, cache, codegen, executor, planner
from schema.compiled.related import Related, loads_related


class Friends:
    """A request's loader of `friend`s, with every batch it ran."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.loader: DataLoader[str, Any] = DataLoader(self.load)

    async def load(self, keys: list[str]) -> list[Any]:
        self.batches.append(list(keys))
        if "batch-fails" in keys:
            raise RuntimeError("the database is gone")
        return [_friend_of(key) for key in keys]


def _friend_of(key: str) -> Any:
    if key == "missing":
        return None
    if key == "fails":
        return AppError(ErrorCode.NOT_FOUND, "no such friend")
    if key == "null-name":
        return good(None)
    return good(f"{key}'", friend_id=f"{key}'" if key.count("'") < 2 else None)


def _friends(context: Friends) -> DataLoader[str, Any]:
    return context.loader


FRIEND = Related(id_attr="friend_id", loader=_friends, build=lambda value: value)


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
    friend_id: strawberry.Private[str | None]

    @strawberry.field
    @loads_related(FRIEND)
    async def friend(self, info: strawberry.Info[Friends, None]) -> Leafy | None:
        if self.friend_id is None:
            return None
        value = await _friends(info.context).load(self.friend_id)
        return None if value is None else FRIEND.build(value)

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
        "friend_id": None,
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
    "related objects": lambda: holder(
        items=[
            good("a", friend_id="p"),
            good("b", friend_id="p"),
            good("c"),
            good("d", friend_id="missing"),
        ],
        strict_items=[good("s", friend_id="p"), None],
        one=good("one", friend_id="o"),
    ),
    "failing related loads": lambda: holder(
        items=[
            good("a", friend_id="fails"),
            good("b", friend_id="q"),
            good("c", friend_id="null-name"),
        ],
        strict_items=[good("s", friend_id="fails"), good("t", friend_id="r")],
    ),
    "a failing item beside related loads": lambda: holder(
        items=[good("a", friend_id="q"), good("fails", friend_id="fails"), good("b", friend_id="r")]
    ),
    "a failing related batch": lambda: holder(
        items=[good("a", friend_id="batch-fails"), good("b", friend_id="r")]
    ),
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
    "related objects": (
        "query($c: String!) { holder(case: $c) { items { name friend { name must "
        "friend { name later friend { name } } } } strictItems { f: friend { name } } "
        "one { friend { name friend { name } } } } }"
    ),
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


def answer(result: Any, friends: Friends) -> tuple[Any, list[Any], list[list[str]]]:
    """Data, errors, and the loader's batches (as many, of the same keys: one per level; the
    order of keys inside a batch is not part of the answer)."""
    errors: list[GraphQLError] = result.errors or []
    batches = [sorted(batch) for batch in friends.batches]
    return result.data, [error.formatted for error in errors], batches


async def run(schema_: strawberry.Schema, query: str, case: str) -> Any:
    friends = Friends()
    result = await schema_.execute(query, variable_values={"c": case}, context_value=friends)
    return answer(result, friends)


@pytest.mark.parametrize("document", DOCUMENTS, ids=list(DOCUMENTS))
@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
async def test_every_failure_answers_as_graphql_core_does(document: str, case: str) -> None:
    query = DOCUMENTS[document]
    assert await run(COMPILED, query, case) == await run(STANDARD, query, case)


BESIDE_RESOLVERS = (
    "query($c: String!) { holder(case: $c) { items { name must later friend { name must "
    "friend { name } } } strictItems { later f: friend { name } } } }"
)


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
async def test_related_loads_beside_resolvers_answer_as_graphql_core_does(case: str) -> None:
    """Loads beside other async fields of the same items (a failing `must` nulls the list
    while loads are in flight): the same data, errors and batches. The order of the errors
    of fields resolved concurrently follows asyncio's scheduling of graphql-core's tasks (one
    per field there, none per load here), so it is compared by path; so do the batches of a
    list nulled while its loads were in flight (graphql-core may load the next level of
    objects it then drops), so they are compared when nothing failed."""
    compiled = await run(COMPILED, BESIDE_RESOLVERS, case)
    standard = await run(STANDARD, BESIDE_RESOLVERS, case)

    def by_path(answer: Any) -> Any:
        data, errors, batches = answer
        ordered = sorted(errors, key=lambda error: str(error.get("path")))
        return data, ordered, batches if not errors else None

    assert by_path(compiled) == by_path(standard)


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


async def test_the_plan_loads_related_objects_itself() -> None:
    """A list item's `loads_related` field is loaded from the plan, not through its resolver."""
    loaded: list[str] = []

    class Load(executor._Load):
        __slots__ = ()

        def __init__(self, result: Any, step: Any, *args: Any) -> None:
            loaded.append(step.key)
            super().__init__(result, step, *args)

    original = executor._Load
    executor._Load = Load  # type: ignore[misc,assignment]
    try:
        compiled = await run(COMPILED, DOCUMENTS["related objects"], "related objects")
    finally:
        executor._Load = original  # type: ignore[misc]
    assert compiled == await run(STANDARD, DOCUMENTS["related objects"], "related objects")
    assert loaded.count("friend") >= 4 + 2 and "f" in loaded
    assert len(compiled[2]) == 3  # three levels, one batch each


async def test_simple_objects_are_shaped_by_generated_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An object of leaves and related loads is one generated function's work; what it cannot
    shape (a null name in a non-null field) the general steps shape, with graphql-core's error."""
    answered: list[bool] = []

    def counted(shape: Any) -> Any:
        made = codegen.fast_object(shape)
        if made is None:
            return None

        def shape_(source: Any, loads: Any) -> Any:
            shaped = made(source, loads)
            answered.append(shaped is not None)
            return shaped

        return shape_

    monkeypatch.setattr(planner, "fast_object", counted)
    cache.clear()
    query = (
        "query($c: String!) { holder(case: $c) { items { name friend { name friend { ident } } } "
        "one { name count flag colour at ident } } }"
    )
    assert await run(COMPILED, query, "related objects") == await run(
        STANDARD, query, "related objects"
    )
    assert answered.count(True) >= 4 + 2 + 1 and False not in answered
    answered.clear()
    broken = await run(COMPILED, query, "null in a non-null leaf")
    assert broken == await run(STANDARD, query, "null in a non-null leaf")
    assert broken[1], "graphql-core's error for the null name"
    assert True in answered and False in answered  # `one`: the steps' answer
    cache.clear()
