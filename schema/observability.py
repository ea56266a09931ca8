"""GraphQL metrics: resolver time per root field, and bounded operation-name labels (operation
latency and error codes are recorded by schema.prepared).

Only root fields are timed (through a field extension beside their policy), so leaf fields of
list items pay nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from core import metrics

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
