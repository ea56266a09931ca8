"""GraphQL metrics: operation latency and error codes per request, resolver time per root field.

Only root fields are timed (through a field extension beside their policy), so leaf fields of
list items pay nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types import Info

from core import metrics
from schema.errors import error_code

MAX_OPERATION_NAMES = 200  # client-chosen names: bounded, so label cardinality stays bounded
_seen_names: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if name in _seen_names:
        return name
    if len(_seen_names) < MAX_OPERATION_NAMES and len(name) <= 64 and name.isidentifier():
        _seen_names.add(name)
        return name
    return "other"


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        name = operation_label(context.operation_name)
        try:
            kind = context.operation_type.value
        except Exception:  # the document did not parse: there is no operation type
            kind = "invalid"
        metrics.GRAPHQL_LATENCY.labels(name, kind).observe(time.perf_counter() - started)
        result = context.result
        for error in (result.errors if result is not None else None) or ():
            metrics.GRAPHQL_ERRORS.labels(error_code(error)).inc()
        request = getattr(context.context, "request", None)
        if request is not None:  # for the access log line
            request.scope.setdefault("state", {})["graphql_operation"] = f"{kind} {name}"


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
