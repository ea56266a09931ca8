"""The role table: the one place that says what each role may do."""

from __future__ import annotations

ROLES = ("user", "admin")

# A role may do what it lists; "admin" includes everything a "user" may do.
GRANTS: dict[str, frozenset[str]] = {
    "user": frozenset({"user"}),
    "admin": frozenset({"user", "admin"}),
}


def has_role(actual: str, required: str) -> bool:
    """True when a principal with role `actual` satisfies a policy requiring `required`."""
    return required in GRANTS.get(actual, frozenset())
