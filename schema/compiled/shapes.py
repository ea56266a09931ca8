"""The steps of a plan: what a field's value becomes, decided once per document.

A `FieldStep` is one response key of an object: either a plain attribute read whose value is
shaped by a `Shape` (a leaf, a list, an object), or a field graphql-core executes (a resolver,
a loader, arguments, anything the planner does not inline). A leaf's serialiser is chosen at
plan time: a fast check for the exact Python types our read models hold, and graphql-core's own
`complete_leaf_value` for anything else, so an unusual value gets graphql-core's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
)
from graphql.execution.collect_fields import FieldDetails
from strawberry.schema.types.base_scalars import isoformat

from schema.compiled.related import Related

SLOW = object()  # a fast serialiser's "not mine": graphql-core's completion decides
FastSerialiser = Callable[[Any], Any]


@dataclass(slots=True, eq=False)
class Leaf:
    type: GraphQLLeafType
    fast: FastSerialiser


@dataclass(slots=True, eq=False)
class ListOf:
    item: Shape
    item_type: GraphQLOutputType  # with its non-null wrapper, for errors
    item_non_null: bool


@dataclass(slots=True, eq=False)
class ObjectOf:
    type: GraphQLObjectType
    fields: tuple[FieldStep, ...]
    # Its fields as one generated function (codegen.py), when they are all simple; `loads`:
    # it loads related objects, which only a list's items do from the plan.
    fast: Callable[[Any, list[tuple[FieldStep, Any]]], dict[str, Any] | None] | None = None
    loads: bool = False


Shape = Leaf | ListOf | ObjectOf


@dataclass(slots=True, eq=False)
class FieldStep:
    key: str  # the response key (alias or name)
    parent: GraphQLObjectType
    field: GraphQLField
    type: GraphQLOutputType  # the field's type, non-null wrapper included
    details: list[FieldDetails]  # graphql-core's field group: locations, execution
    non_null: bool
    null_message: str  # graphql-core's words for a null in a non-null field
    attr: str | None = None  # a plain attribute read, inlined
    shape: Shape | None = None  # how an inlined value is shaped
    constant: str | None = None  # `__typename`
    related: Related | None = None  # a list item's related object, loaded from the plan


def _string(value: Any) -> Any:
    return value if value.__class__ is str else SLOW


def _boolean(value: Any) -> Any:
    return value if value.__class__ is bool else SLOW


def _int(value: Any) -> Any:
    return value if value.__class__ is int and -(2**31) <= value < 2**31 else SLOW


def _enum(type_: GraphQLEnumType) -> FastSerialiser:
    """Member (or raw value) to name by one dict read, for the exact classes graphql-core was
    seen to answer that way at plan time; strawberry's own lookup scans every value."""
    candidates = [value.value for value in type_.values.values()]
    candidates += list(getattr(type_, "wrapped_cls", ()))  # strawberry's Python enum
    names: dict[type, dict[Any, str]] = {}
    for candidate in candidates:
        try:
            name = type_.coerce_output_value(candidate)
            names.setdefault(candidate.__class__, {})[candidate] = name
        except Exception:  # noqa: S112  # nosec B112: a value graphql-core refuses stays on its path
            continue

    def fast(value: Any) -> Any:
        known = names.get(value.__class__)
        return SLOW if known is None else known.get(value, SLOW)

    return fast


def _datetime(value: Any) -> Any:
    return value.isoformat() if value.__class__ is datetime else SLOW


def _never(value: Any) -> Any:
    return SLOW


# The fast serialisers that pass one class through (a datetime: its isoformat), by the name of
# that class: generated code checks the class in place of the call.
INLINED_CLASS: dict[FastSerialiser, str] = {_string: "str", _boolean: "bool", _datetime: "datetime"}


def serialiser(type_: GraphQLLeafType) -> FastSerialiser:
    """The fast serialiser of a leaf type (custom scalars take graphql-core's path, but for
    strawberry's own `DateTime`, whose `serialize` is `isoformat`: never None, so graphql-core's
    check of it cannot fail)."""
    if type_ is GraphQLString or type_ is GraphQLID:
        return _string
    if type_ is GraphQLBoolean:
        return _boolean
    if type_ is GraphQLInt:
        return _int
    if isinstance(type_, GraphQLEnumType):
        return _enum(type_)
    if type_.serialize is isoformat and type_.name == "DateTime":  # strawberry's, as it is
        return _datetime
    return _never
