"""The GraphQL schema, assembled from one module per domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from opentelemetry.trace import Tracer
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from core.settings import Settings
from schema.api_keys import ApiKeysMutation, ApiKeysQuery
from schema.audit import AuditEventsMutation, AuditEventsQuery
from schema.auth import AuthMutation, AuthQuery
from schema.compiled import Executor, executor_class
from schema.datetime_scalar import DATETIME
from schema.errors import log_unexpected
from schema.exports import ExportsMutation, ExportsQuery, ExportsSubscription
from schema.health import HealthQuery
from schema.lifecycle import AccountMutation
from schema.limits import QueryLimits, limits_rule
from schema.mfa import MfaMutation
from schema.prepared import PreparedOperations
from schema.rules import OneCredentialFieldPerOperation
from schema.sessions import SessionsMutation, SessionsQuery
from schema.tracing import OperationSpan
from schema.users import UsersMutation, UsersQuery


@strawberry.type
class Query(
    AuthQuery,
    UsersQuery,
    ExportsQuery,
    HealthQuery,
    SessionsQuery,
    ApiKeysQuery,
    AuditEventsQuery,
):
    pass


@strawberry.type
class Mutation(
    AuthMutation,
    UsersMutation,
    ExportsMutation,
    AccountMutation,
    SessionsMutation,
    MfaMutation,
    AuditEventsMutation,
    ApiKeysMutation,
):
    pass


@strawberry.type
class Subscription(ExportsSubscription):
    pass


class AppSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context: Any = execution_context.context if execution_context else None
        request_id = context.caller.request_id if context is not None else "-"
        log_unexpected(errors, request_id)


def build_schema(
    limits: QueryLimits | None = None,
    *,
    introspection: bool = True,
    batch_limit: int = 0,
    tracer: Tracer | None = None,
    executor: Executor = "compiled",
) -> AppSchema:
    """The schema; `limits` and `introspection` change what is accepted, never the SDL. With a
    `tracer`, each operation is a span; `executor` is GRAPHQL_EXECUTOR (schema.compiled)."""
    limits = limits or QueryLimits.of(Settings())
    rules: list[type[ASTValidationRule]] = []
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    checks = PreparedOperations.factory(
        max_tokens=limits.tokens,
        limits=[OneCredentialFieldPerOperation, limits_rule(limits)],
        rules=rules,
    )
    return AppSchema(
        query=Query,
        mutation=Mutation,
        scalar_overrides={datetime: DATETIME},
        subscription=Subscription,
        config=StrawberryConfig(
            auto_camel_case=True,
            disable_field_suggestions=not introspection,
            batching_config={"max_operations": batch_limit} if batch_limit > 0 else None,
        ),
        extensions=[OperationSpan.factory(tracer), checks] if tracer else [checks],
        execution_context_class=executor_class(executor),
    )
