"""Validation rules that run before any resolver: documents that could multiply attempts."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)

from core.errors import ErrorCode

# Fields that check a secret or open a session: one per document, so aliases, fragments and
# batching cannot turn one request into many password guesses.
CREDENTIAL_FIELDS = frozenset({"login", "register", "refresh"})


class OneCredentialFieldPerOperation(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        count = self._count(node.selection_set, set())
        if count > 1:
            self.report_error(
                GraphQLError(
                    f"Only one of {', '.join(sorted(CREDENTIAL_FIELDS))} may appear in a document",
                    node,
                    extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
                )
            )

    def _count(self, selection_set: SelectionSetNode | None, seen: set[str]) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += selection.name.value in CREDENTIAL_FIELDS
            elif isinstance(selection, InlineFragmentNode):
                total += self._count(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:  # cycles are counted once
                    seen.add(name)
                    total += self._count(fragment.selection_set, seen)
        return total
