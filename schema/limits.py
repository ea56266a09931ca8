"""Document limits checked before any resolver runs; each refusal is QUERY_TOO_COMPLEX.

Every rule walks operations with fragments expanded and a guard against cycles, so recursive
or cyclic fragments are measured (and reported by graphql-core's own rule) without recursion
blowing up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from core import audit, paging
from core.errors import ErrorCode
from core.settings import Settings


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The document limits of `GRAPHQL_MAX_*`; their defaults are the settings' (core/settings.py)."""

    depth: int
    aliases: int
    directives: int
    root_fields: int
    cost: int
    tokens: int
    # The executable directives are @skip and @include, neither repeatable: more than a few on
    # one field is an amplification attack (graphql-cop's "Directive Overloading").
    directives_per_location: int = 3

    @classmethod
    def of(cls, settings: Settings) -> QueryLimits:
        return cls(
            depth=settings.graphql_max_depth,
            aliases=settings.graphql_max_aliases,
            directives=settings.graphql_max_directives,
            root_fields=settings.graphql_max_root_fields,
            cost=settings.graphql_max_cost,
            tokens=settings.graphql_max_tokens,
        )


def too_complex(message: str, node: Node | None = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value})


def _fields(
    context: ValidationContext, selection_set: SelectionSetNode | None, seen: frozenset[str]
) -> Iterator[tuple[FieldNode, frozenset[str]]]:
    """The fields of a selection set, through inline fragments and (acyclic) named fragments."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection, seen
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(context, selection.selection_set, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:
                yield from _fields(context, fragment.selection_set, seen | {name})


# Page-size arguments: the largest value each allows (`perPage` of users, `first` of auditEvents).
_PAGE_ARGUMENTS = {"perPage": paging.MAX_PER_PAGE, "first": audit.MAX_FIRST}
_DEFAULT_SIZES = {"users": paging.DEFAULT_PER_PAGE, "auditEvents": audit.DEFAULT_FIRST}


def _page_size(field: FieldNode) -> int:
    """How many items a list field returns at most: its `perPage` or `first`, else its default
    (`users` 20, `auditEvents` 50), else 1."""
    for argument in field.arguments or ():
        largest = _PAGE_ARGUMENTS.get(argument.name.value)
        if largest is not None:
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), largest))
            return largest  # a variable counts as the largest allowed value
    return _DEFAULT_SIZES.get(field.name.value, 1)


def measure(
    context: ValidationContext,
    selection_set: SelectionSetNode | None,
    seen: frozenset[str] = frozenset(),
    depth: int = 1,
    multiplier: int = 1,
) -> tuple[int, int, int]:
    """(depth, aliases, cost) of a selection set; cost multiplies by the page sizes above it."""
    max_depth, aliases, cost = depth - 1, 0, 0
    for field, inner_seen in _fields(context, selection_set, seen):
        if field.alias is not None and field.name.value != "__typename":
            aliases += 1
        size = _page_size(field)
        cost += multiplier
        if field.name.value.startswith("__"):
            # Introspection (`__schema`, `__type`) is bounded by graphql-core's own
            # introspection-depth rule, and is off in production; GraphiQL's query must pass.
            max_depth = max(max_depth, depth)
        elif field.selection_set is not None:
            d, a, c = measure(
                context, field.selection_set, inner_seen, depth + 1, multiplier * size
            )
            max_depth, aliases, cost = max(max_depth, d), aliases + a, cost + c
        else:
            max_depth = max(max_depth, depth)
    return max_depth, aliases, cost


def limits_rule(limits: QueryLimits) -> type[ValidationRule]:
    """A graphql-core validation rule enforcing `limits` on every operation."""

    class QueryLimitsRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            roots = sum(1 for _ in _fields(self.context, node.selection_set, frozenset()))
            if roots > limits.root_fields:
                self.report_error(
                    too_complex(
                        f"Operation has {roots} root fields; the limit is {limits.root_fields}",
                        node,
                    )
                )
                return
            depth, aliases, cost = measure(self.context, node.selection_set)
            for name, value, limit in (
                ("depth", depth, limits.depth),
                ("aliases", aliases, limits.aliases),
                ("cost", cost, limits.cost),
            ):
                if value > limit:
                    self.report_error(
                        too_complex(f"Query {name} {value} exceeds the limit of {limit}", node)
                    )
                    return

        def enter_document(self, node: Node, *_: Any) -> None:
            count, most = _count_directives(node)
            if most > limits.directives_per_location:
                self.report_error(
                    too_complex(
                        f"A location carries {most} directives; the limit is "
                        f"{limits.directives_per_location}"
                    )
                )
            elif count > limits.directives:
                self.report_error(
                    too_complex(
                        f"Document has {count} directives; the limit is {limits.directives}"
                    )
                )

    return QueryLimitsRule


def _count_directives(node: Node) -> tuple[int, int]:
    """(directives in the document, the most on any one location)."""
    count = most = 0
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Node):
            here = getattr(current, "directives", None) or ()
            count, most = count + len(here), max(most, len(here))
            stack.extend(getattr(current, key) for key in current.keys)
        elif isinstance(current, (list, tuple)):
            stack.extend(current)
    return count, most
