"""GraphQL metrics: resolver time per root field, and bounded operation-name labels (operation
latency and error codes are recorded by schema.prepared).

Only root fields are timed (through a field extension beside their policy), so leaf fields of
list items pay nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from graphql import GraphQLSchema
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from core import metrics

# The operation names a label may carry: the SDK's documents (client/client/operations.py; a
# test holds this list to them), GraphiQL's introspection, and each root field's name in
# PascalCase (`query Users { users ... }`), which `known_operations` adds from the schema. Any
# other name is the client's choice, unbounded: it is labelled `other`, so a client cannot grow
# the metrics without bound (nor, as before, take the 200 places there were for the first comers).
SDK_OPERATIONS = frozenset(
    {
        "Me", "User", "Users", "UsersAfter", "Health", "Register", "Login", "Refresh", "Logout",
        "LogoutAll", "CreateUser", "UpdateUser", "DeleteUser", "ExportUsers", "ExportJob",
        "ChangePassword", "RequestPasswordReset", "ResetPassword", "RequestEmailVerification",
        "VerifyEmail", "ChangeEmail", "MySessions", "UserSessions", "RevokeSession",
        "RevokeUserSessions", "RestoreUser", "AuditEvents", "ExportAuditEvents", "EnrollTotp",
        "ConfirmTotp", "DisableTotp", "RegenerateRecoveryCodes", "VerifyMfa", "ResetMfa",
        "MyApiKeys", "CreateApiKey", "RevokeApiKey",
    }
)  # fmt: skip
TOOL_OPERATIONS = frozenset({"IntrospectionQuery"})
MAX_OPERATION_NAME = 64
_GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


@lru_cache(maxsize=4)
def known_operations(schema: GraphQLSchema) -> frozenset[str]:
    """The names labelled as themselves on `schema`."""
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    fields = {name for root in roots if root is not None for name in root.fields}
    return SDK_OPERATIONS | TOOL_OPERATIONS | {name[:1].upper() + name[1:] for name in fields}


def operation_label(name: str | None, known: frozenset[str]) -> str:
    """The metrics label of an operation name: itself when known, else `other`."""
    if not name:
        return "anonymous"
    return name if len(name) <= MAX_OPERATION_NAME and name in known else "other"


def logged_operation(name: str | None) -> str:
    """An operation name as the access log shows it: any well-formed name (a log line is not
    a label, so unknown names are worth reading there), else `other`."""
    if not name:
        return "anonymous"
    return name if len(name) <= MAX_OPERATION_NAME and _GRAPHQL_NAME.fullmatch(name) else "other"


class TimedRootField(FieldExtension):
    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return next_(source, info, **kwargs)
        finally:
            metrics.RESOLVER_LATENCY.labels(info.field_name).observe(time.perf_counter() - started)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return await next_(source, info, **kwargs)
        finally:
            metrics.RESOLVER_LATENCY.labels(info.field_name).observe(time.perf_counter() - started)
