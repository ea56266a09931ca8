"""Fields whose resolver only loads one related object through a request loader.

A resolver marked with `loads_related` promises to do nothing but read an id attribute of its
source, hand a non-null id to a loader of the request's context, and build the field's value
from what the loader answers (None stays None). The planner then loads such a field of a
list's items from the plan itself: one `load` per item, the loader's one batch per level as
before, without a resolve info, the resolver wrapper and an asyncio Task per item. Errors are
graphql-core's (`handle_field_error` on the field's path), so the answer cannot tell.
"""

from __future__ import annotations

from asyncio import Future
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

_MARK = "__compiled_related__"
F = TypeVar("F", bound=Callable[..., Any])


class Loader(Protocol):
    def load(self, key: Any) -> Future[Any]: ...


@dataclass(frozen=True, slots=True)
class Related:
    id_attr: str  # the source's attribute holding the id (None: the field is null)
    loader: Callable[[Any], Loader]  # the request's context to its loader
    build: Callable[[Any], Any]  # a loaded value (not None) to the field's value


def loads_related(related: Related) -> Callable[[F], F]:
    """Mark a resolver as `related` describes it (it must behave exactly so)."""

    def mark(resolver: F) -> F:
        setattr(resolver, _MARK, related)
        return resolver

    return mark


def related_of(resolver: Any) -> Related | None:
    found = getattr(resolver, _MARK, None)
    return found if isinstance(found, Related) else None
