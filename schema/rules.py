"""Validation rules that run before any resolver: documents that could multiply attempts."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
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
CREDENTIAL_FIELDS = frozenset(
    {
        "login",
        "register",
        "refresh",
        "changePassword",
        "changeEmail",
        "requestPasswordReset",
        "resetPassword",
        "verifyEmail",
        "enrollTotp",
        "confirmTotp",
        "disableTotp",
        "regenerateRecoveryCodes",
        "verifyMfa",
    }
)


def credential_fields(document: DocumentNode) -> int:
    """How many credential fields the operations of a document select, fragments included."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return sum(
        _count(op.selection_set, fragments, set())
        for op in document.definitions
        if isinstance(op, OperationDefinitionNode)
    )


def _count(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += selection.name.value in CREDENTIAL_FIELDS
        elif isinstance(selection, InlineFragmentNode):
            total += _count(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:  # cycles are counted once
                seen.add(name)
                total += _count(fragments[name].selection_set, fragments, seen)
    return total


def one_credential_field_error() -> GraphQLError:
    return GraphQLError(
        f"Only one of {', '.join(sorted(CREDENTIAL_FIELDS))} may appear in a request",
        extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value},
    )


class OneCredentialFieldPerOperation(ValidationRule):
    def enter_document(self, node: DocumentNode, *_: Any) -> None:
        if credential_fields(node) > 1:
            self.report_error(one_credential_field_error())
