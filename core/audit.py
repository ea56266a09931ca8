"""The audit log's vocabulary: every action of contract section 6, and what details may hold.

An event's details are JSON for an admin to read, never a secret: a key that names one
(`password`, `token`, `secret`, `code`, `hash`) is refused outright, so a careless call fails in
the tests instead of writing a credential into the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import orjson


class AuditAction(StrEnum):
    """The actions an audit event records (contract section 6): `record` takes only these."""

    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    TOKEN_REUSE_DETECTED = "token.reuse_detected"  # noqa: S105  # nosec B105: an action name
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    SESSION_REVOKED = "session.revoked"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105  # nosec B105
    PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105  # nosec B105
    PASSWORD_RESET = "password.reset"  # noqa: S105  # nosec B105
    EMAIL_VERIFICATION_SENT = "email.verification_sent"
    EMAIL_VERIFIED = "email.verified"
    EMAIL_CHANGED = "email.changed"
    MFA_ENABLED = "mfa.enabled"
    MFA_DISABLED = "mfa.disabled"
    MFA_RESET = "mfa.reset"
    APIKEY_CREATED = "apikey.created"
    APIKEY_REVOKED = "apikey.revoked"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DELETED = "user.deleted"
    USER_RESTORED = "user.restored"
    EXPORT_REQUESTED = "export.requested"
    EXPORT_DOWNLOADED = "export.downloaded"


ACTIONS = tuple(action.value for action in AuditAction)
# Key fragments that name a secret: never a key of an event's details, at any depth.
SECRET_KEYS = ("password", "token", "secret", "code", "hash")
MAX_DETAILS_BYTES = 4000

# Keyset pages of `auditEvents`: `first` within these bounds.
DEFAULT_FIRST = 50
MAX_FIRST = 100


def details_json(details: Mapping[str, Any] | None) -> str | None:
    """The stored text of an event's details; ValueError for a secret-naming key, a value JSON
    cannot hold, or more than MAX_DETAILS_BYTES (a programming error, never user input)."""
    if not details:
        return None
    _check_keys(details)
    text = orjson.dumps(dict(details), option=orjson.OPT_SORT_KEYS).decode()
    if len(text) > MAX_DETAILS_BYTES:
        raise ValueError(f"audit details over {MAX_DETAILS_BYTES} bytes")
    return text


def _check_keys(value: Any) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if any(fragment in str(key).lower() for fragment in SECRET_KEYS):
                raise ValueError(f"audit details may not carry {key!r}")
            _check_keys(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            _check_keys(inner)
