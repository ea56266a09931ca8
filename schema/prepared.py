"""One schema extension for every operation: its document parsed (under the token cap) and
validated (with our rules) once per distinct text, and its metrics recorded.

It stands for five (strawberry's ParserCache, ValidationCache, MaxTokensLimiter and
AddValidationRules, and our OperationMetrics): strawberry builds every extension anew for each
request and enters each one's hooks, which cost 80-110 µs of a `me` request here
(bench/README.md). The caches are process-wide and bounded, like strawberry's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from core import metrics
from schema.errors import error_code
from schema.observability import known_operations, logged_operation, operation_label

CACHED_DOCUMENTS = 512
# Validation stops after this many errors (graphql-core's default is 100): a pathological
# document costs a handful of errors, not one per mistake.
MAX_VALIDATION_ERRORS = 5
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)
Rules = tuple[type[ASTValidationRule], ...]


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _parsed(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validated(
    schema: GraphQLSchema, document: DocumentNode, limits: Rules, rules: Rules
) -> list[GraphQLError]:
    """A document over a limit gets that one error and nothing else (ten unknown directives
    are not ten errors); a document within them is validated up to MAX_VALIDATION_ERRORS."""
    over = validate(schema, document, limits, max_errors=1)
    if over:
        return over[:1]  # the second is graphql-core's "Too many validation errors"
    return validate(schema, document, (*rules, *_STRAWBERRY_RULES), MAX_VALIDATION_ERRORS)


class OperationNameRequired(CannotGetOperationTypeError):
    """Several operations and no `operationName`: strawberry would run the first one."""

    def __init__(self) -> None:
        super().__init__(None)

    def as_http_error_reason(self) -> str:
        return "operationName is required when the document holds several operations"


class PreparedOperations(SchemaExtension):
    def __init__(
        self,
        *,
        max_tokens: int,
        limits: Sequence[type[ASTValidationRule]],
        rules: Sequence[type[ASTValidationRule]],
    ) -> None:
        self.max_tokens = max_tokens
        self.limits = tuple(limits)
        self.rules = tuple(rules)

    @classmethod
    def factory(
        cls,
        *,
        max_tokens: int,
        limits: Sequence[type[ASTValidationRule]],
        rules: Sequence[type[ASTValidationRule]],
    ) -> Callable[[], PreparedOperations]:
        return lambda: cls(max_tokens=max_tokens, limits=limits, rules=rules)

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        _record(self.execution_context, time.perf_counter() - started)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            context.graphql_document = _parsed(context.query, self.max_tokens)
            # strawberry names no public accessor for the name the request gave
            named = getattr(context, "_provided_operation_name", None) is not None
            if not named and _operations(context.graphql_document) > 1:
                raise OperationNameRequired  # the view's 400, like an unknown operationName
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:  # always, once parsing succeeded
            rules = (*context.validation_rules, *self.rules)
            context.pre_execution_errors = _validated(
                context.schema._schema, context.graphql_document, self.limits, rules
            )
        yield


def _operations(document: DocumentNode) -> int:
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)


def _record(context: Any, elapsed: float) -> None:
    """Latency by operation name and type, errors by code, and the operation for the access
    log line."""
    name = operation_label(context.operation_name, known_operations(context.schema._schema))
    try:
        kind = context.operation_type.value
    except Exception:  # the document did not parse: there is no operation type
        kind = "invalid"
    metrics.GRAPHQL_LATENCY.labels(name, kind).observe(elapsed)
    result = context.result
    for error in (result.errors if result is not None else None) or ():
        metrics.GRAPHQL_ERRORS.labels(error_code(error)).inc()
    request = getattr(context.context, "request", None)
    if request is not None:
        logged = logged_operation(context.operation_name)
        request.scope.setdefault("state", {})["graphql_operation"] = f"{kind} {logged}"
