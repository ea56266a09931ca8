"""Page bounds and defaults of user listings: one declaration that the resolver, the REST query
spec, the GraphQL arguments and the GraphQL cost rule all read (the SDK keeps a copy, held
equal by tests/test_paging.py, since it cannot import the server).

A violation names the argument as its transport spells it (`perPage` in GraphQL, `per_page`
in REST) and carries the same message on both: the ones `bound_message` writes.
"""

from __future__ import annotations

FIRST_PAGE = 1
MIN_PER_PAGE = 1
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
SORT_FIELDS = ("id", "created_at", "name", "email")
DEFAULT_SORT_BY = "created_at"
DEFAULT_SORT = "desc"
BOTH_PAGE_AND_CURSOR = "Give a page number or a cursor (after), not both"


def bound_message(value: int, minimum: int | None, maximum: int | None = None) -> str | None:
    """What is wrong with `value` against its bounds; None when it is within them."""
    if minimum is not None and value < minimum:
        return f"Must be {minimum} or more"
    if maximum is not None and value > maximum:
        return f"Must be {maximum} or less"
    return None
