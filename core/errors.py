"""The error catalogue: one vocabulary of stable codes for GraphQL and REST (contract sections 4 and 6)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # Codes, not credentials: bandit's password heuristics are silenced per line (nosec B105).
    VALIDATION_ERROR = "VALIDATION_ERROR"
    MISSING_AUTH_HEADER = "MISSING_AUTH_HEADER"
    TOKEN_INVALID = "TOKEN_INVALID"  # nosec B105
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # nosec B105
    TOKEN_REVOKED = "TOKEN_REVOKED"  # nosec B105
    TOKEN_CONTEXT_MISMATCH = "TOKEN_CONTEXT_MISMATCH"  # nosec B105
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    EMAIL_EXISTS = "EMAIL_EXISTS"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    LAST_ADMIN = "LAST_ADMIN"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    HTTP_ERROR = "HTTP_ERROR"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    MFA_REQUIRED = "MFA_REQUIRED"
    INVALID_MFA_CODE = "INVALID_MFA_CODE"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"


# The one table that maps codes to REST statuses.
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.MISSING_AUTH_HEADER: 401,
    ErrorCode.TOKEN_INVALID: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.TOKEN_REVOKED: 401,
    ErrorCode.TOKEN_CONTEXT_MISMATCH: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.USER_NOT_FOUND: 404,
    ErrorCode.EMAIL_EXISTS: 409,
    ErrorCode.VERSION_CONFLICT: 409,
    ErrorCode.LAST_ADMIN: 409,
    ErrorCode.EMAIL_NOT_VERIFIED: 403,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.HTTP_ERROR: 405,
    ErrorCode.QUERY_TOO_COMPLEX: 400,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.MFA_REQUIRED: 401,
    ErrorCode.INVALID_MFA_CODE: 401,
    # GraphQL only (contract section 6).
    ErrorCode.PERSISTED_QUERY_NOT_FOUND: 400,
    ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED: 400,
    ErrorCode.QUERY_NOT_IN_SAFELIST: 400,
}

_DEFAULT_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_ERROR: "Invalid input",
    ErrorCode.MISSING_AUTH_HEADER: "Missing or malformed Authorization: Bearer header",
    ErrorCode.TOKEN_INVALID: "Token is invalid",
    ErrorCode.TOKEN_EXPIRED: "Token has expired",
    ErrorCode.TOKEN_REVOKED: "Token has been revoked",
    ErrorCode.TOKEN_CONTEXT_MISMATCH: "Token was issued to another client",
    ErrorCode.INVALID_CREDENTIALS: "Invalid email or password",
    ErrorCode.FORBIDDEN: "You are not allowed to do this",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.USER_NOT_FOUND: "User not found",
    ErrorCode.EMAIL_EXISTS: "Email is already registered",
    ErrorCode.VERSION_CONFLICT: "The resource was changed by someone else",
    ErrorCode.LAST_ADMIN: "The change would leave no active admin",
    ErrorCode.EMAIL_NOT_VERIFIED: "Confirm your e-mail address before signing in",
    ErrorCode.PAYLOAD_TOO_LARGE: "Request body is too large",
    ErrorCode.HTTP_ERROR: "HTTP error",
    ErrorCode.QUERY_TOO_COMPLEX: "Query is too complex",
    ErrorCode.RATE_LIMITED: "Too many requests",
    ErrorCode.SERVICE_UNAVAILABLE: "Service temporarily unavailable",
    ErrorCode.INTERNAL_ERROR: "Internal server error",
    ErrorCode.MFA_REQUIRED: "Second factor required: send verifyMfa with the ticket in details",
    ErrorCode.INVALID_MFA_CODE: "Invalid, used or expired second-factor code or ticket",
    # Apollo's clients read these two messages as well as the codes.
    ErrorCode.PERSISTED_QUERY_NOT_FOUND: "PersistedQueryNotFound",
    ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED: "PersistedQueryNotSupported",
    ErrorCode.QUERY_NOT_IN_SAFELIST: "This operation is not in the safelist",
}


class AppError(Exception):
    """An expected failure with a stable code and a message that is safe to show to clients.

    `details` keys are snake_case (`retry_after`, `current_etag`), written once here; each
    transport spells them its way (`schema.errors.graphql_extensions`, `server.responses`).
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        self.code = code
        self.message = message or _DEFAULT_MESSAGES[code]
        self.details = details
        self.status = status or HTTP_STATUS[code]
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"AppError({self.code.value}, {self.message!r})"


def validation_error(problems: dict[str, list[str]]) -> AppError:
    """A VALIDATION_ERROR whose details map every bad field to its messages."""
    return AppError(ErrorCode.VALIDATION_ERROR, "Invalid input", dict(problems))


def internal_error(request_id: str) -> AppError:
    """What the client sees of an unexpected failure: INTERNAL_ERROR, the generic message and
    the request id it was logged under (each transport puts the id in its one place)."""
    return AppError(ErrorCode.INTERNAL_ERROR, details={"request_id": request_id})


class Problems:
    """Collects per-field messages so a validation error can list every bad field at once."""

    def __init__(self) -> None:
        self._items: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self._items.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise validation_error(self._items)
