"""The GraphQL schema, assembled from one module per domain."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.auth import AuthMutation, AuthQuery
from schema.errors import log_unexpected
from schema.exports import ExportsMutation, ExportsQuery
from schema.health import HealthQuery
from schema.rules import OneCredentialFieldPerOperation
from schema.users import UsersMutation, UsersQuery


@strawberry.type
class Query(AuthQuery, UsersQuery, ExportsQuery, HealthQuery):
    pass


@strawberry.type
class Mutation(AuthMutation, UsersMutation, ExportsMutation):
    pass


class AppSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context: Any = execution_context.context if execution_context else None
        request_id = context.caller.request_id if context is not None else "-"
        log_unexpected(errors, request_id)


def build_schema() -> AppSchema:
    return AppSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True),
        extensions=[
            lambda: AddValidationRules([OneCredentialFieldPerOperation]),
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
    )
