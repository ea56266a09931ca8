"""The plan cache: one plan per operation and per value of the variables its `@include` /
`@skip` read, beside the parse and validation caches of `schema.prepared` and bounded like them.

Plans are keyed by the operation node's identity: the parse cache hands the same document
object to every request with the same text, and each entry keeps its operation alive, so an id
is never reused while its plan is held. A plan belongs to one schema (the parse cache is shared
by every schema of the process, as in the tests): another schema plans anew.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    VariableNode,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import VariableValues

from core import metrics
from schema.compiled.planner import Plan, Planner
from schema.prepared import CACHED_DOCUMENTS

VARIANTS = 8  # plans per operation (one per combination of directive values seen)
_CONDITIONS = frozenset({"include", "skip"})
_STANDARD: Plan = {}  # graphql-core runs the whole operation


class _Entry:
    __slots__ = ("directive_variables", "operation", "plans", "schema")

    def __init__(
        self, schema: GraphQLSchema, operation: OperationDefinitionNode, names: tuple[str, ...]
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.directive_variables = names
        self.plans: OrderedDict[tuple[Any, ...], Plan] = OrderedDict()


_entries: OrderedDict[int, _Entry] = OrderedDict()


def plan_for(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDetails],
    variables: VariableValues,
    operation: OperationDefinitionNode,
) -> Plan | None:
    """The operation's plan for these variables, planned on first use; None: graphql-core's."""
    entry = _entries.get(id(operation))
    if entry is None or entry.operation is not operation or entry.schema is not schema:
        entry = _Entry(schema, operation, _directive_variables(operation, fragments))
        _remember(_entries, id(operation), entry, CACHED_DOCUMENTS)
        metrics.GRAPHQL_PLANS_CACHED.set(len(_entries))
    else:
        _entries.move_to_end(id(operation))
    values = tuple([_hashable(variables.coerced.get(name)) for name in entry.directive_variables])
    plan = entry.plans.get(values)
    if plan is None:
        plan = Planner(schema, fragments, variables, operation).build() or _STANDARD
        _remember(entry.plans, values, plan, VARIANTS)
        metrics.GRAPHQL_PLANS.labels("miss").inc()
    else:
        entry.plans.move_to_end(values)
        metrics.GRAPHQL_PLANS.labels("hit").inc()
    if plan is _STANDARD:
        metrics.GRAPHQL_PLANS.labels("standard").inc()
        return None
    return plan


def clear() -> None:
    _entries.clear()
    metrics.GRAPHQL_PLANS_CACHED.set(0)


def _remember(store: OrderedDict[Any, Any], key: Any, value: Any, bound: int) -> None:
    store[key] = value
    while len(store) > bound:
        store.popitem(last=False)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, bool | None) else repr(value)


def _directive_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDetails]
) -> tuple[str, ...]:
    """The variables `@include(if:)` / `@skip(if:)` read in the operation or any fragment."""
    names: set[str] = set()
    stack: list[Any] = [operation, *(details.definition for details in fragments.values())]
    while stack:
        node = stack.pop()
        if isinstance(node, Node):
            for directive in getattr(node, "directives", None) or ():
                if directive.name.value in _CONDITIONS:
                    for argument in directive.arguments or ():
                        if isinstance(argument.value, VariableNode):
                            names.add(argument.value.name.value)
            stack.extend(getattr(node, key) for key in node.keys)
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return tuple(sorted(names))
