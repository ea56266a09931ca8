"""Compiled execution plans for validated documents (README: "How a document becomes a plan").

One entry point: `executor_class(setting)`, the graphql-core executor the schema runs
operations with. `compiled` plans each operation once (`planner`), caches the plan (`cache`)
and shapes values with its steps (`shapes`, `executor`); `standard` is graphql-core's own.
"""

from __future__ import annotations

from typing import Literal

from schema.compiled.executor import PlannedExecutor

Executor = Literal["compiled", "standard"]


def executor_class(executor: Executor) -> type[PlannedExecutor] | None:
    """The executor class for the `GRAPHQL_EXECUTOR` setting (None: strawberry's default)."""
    return PlannedExecutor if executor == "compiled" else None


__all__ = ["Executor", "PlannedExecutor", "executor_class"]
