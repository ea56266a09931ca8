"""One span per GraphQL operation, never per field (a list of 1,000 users would be 6,000 spans);
added to the schema only when tracing is on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from opentelemetry.trace import Tracer
from strawberry.extensions import SchemaExtension

from schema.observability import known_operations, logged_operation, operation_label


class OperationSpan(SchemaExtension):
    def __init__(self, *, tracer: Tracer) -> None:
        self.tracer = tracer

    @classmethod
    def factory(cls, tracer: Tracer) -> Callable[[], OperationSpan]:
        return lambda: cls(tracer=tracer)

    def on_operation(self) -> Iterator[None]:
        """Parsing, validation and execution under one span, named `query Users` (the bounded
        label, as in the metrics); the name as the client gave it is an attribute."""
        with self.tracer.start_as_current_span("graphql") as span:
            yield
            context: Any = self.execution_context
            try:
                kind = context.operation_type.value
            except Exception:  # the document did not parse: there is no operation type
                kind = "invalid"
            label = operation_label(
                context.operation_name, known_operations(context.schema._schema)
            )
            span.update_name(f"{kind} {label}")
            span.set_attribute("graphql.operation.type", kind)
            span.set_attribute("graphql.operation.name", logged_operation(context.operation_name))
            errors = context.result.errors if context.result is not None else None
            span.set_attribute("graphql.errors", len(errors or ()))
