"""Everything the SDK raises, one class per error code of the contract (section 4).

SDKError                      anything this package raises
├── APIError                  the server answered with an error: .code, .message, .details
│   ├── ValidationError       VALIDATION_ERROR; .details maps field -> messages
│   ├── AuthenticationError   the caller is not (or no longer) signed in
│   │   ├── InvalidCredentials      INVALID_CREDENTIALS
│   │   ├── MissingAuthHeader       MISSING_AUTH_HEADER (also: no token stored yet)
│   │   ├── TokenInvalid            TOKEN_INVALID
│   │   ├── TokenExpired            TOKEN_EXPIRED (refreshed transparently once)
│   │   ├── TokenRevoked            TOKEN_REVOKED
│   │   ├── TokenContextMismatch    TOKEN_CONTEXT_MISMATCH
│   │   ├── MfaRequired             MFA_REQUIRED (login): .mfa_token for verify_mfa()
│   │   └── InvalidMfaCode          INVALID_MFA_CODE (a wrong, used or expired code or ticket)
│   ├── Forbidden             FORBIDDEN
│   │   └── EmailNotVerified  EMAIL_NOT_VERIFIED (REQUIRE_VERIFIED_EMAIL and an unverified address)
│   ├── NotFound              NOT_FOUND
│   │   └── UserNotFound      USER_NOT_FOUND
│   ├── EmailExists           EMAIL_EXISTS
│   ├── VersionConflict       VERSION_CONFLICT; .current_etag
│   ├── LastAdmin             LAST_ADMIN (the change would leave no active admin)
│   ├── PayloadTooLarge       PAYLOAD_TOO_LARGE
│   ├── HTTPError             HTTP_ERROR (wrong method or content type)
│   ├── QueryTooComplex       QUERY_TOO_COMPLEX
│   ├── QueryNotInSafelist    QUERY_NOT_IN_SAFELIST (the server runs only its safelist)
│   ├── PersistedQueryNotFound      PERSISTED_QUERY_NOT_FOUND (retried in full, never raised
│   │                               by a client made with persisted_queries=True)
│   ├── PersistedQueryNotSupported  PERSISTED_QUERY_NOT_SUPPORTED (likewise)
│   ├── RateLimited           RATE_LIMITED; .retry_after (seconds)
│   ├── ServiceUnavailable    SERVICE_UNAVAILABLE
│   └── InternalError         INTERNAL_ERROR; .request_id
├── NetworkError              no answer from the server: connection, timeout, not GraphQL
└── ExportError               an export job failed or did not finish in time; .job
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SDKError(Exception):
    """The base of every exception this package raises."""


class APIError(SDKError):
    """The server refused the request with one of the contract's error codes."""

    code = "API_ERROR"  # a code this SDK does not know yet keeps the server's value

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = dict(details or {})
        self.extensions: dict[str, Any] = dict(extensions or {})
        self.errors: list[Any] = []  # every GraphQL error of the answer; the first one decides

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ValidationError(APIError):
    code = "VALIDATION_ERROR"


class AuthenticationError(APIError):
    """Sign in again (or refresh): the token is missing, wrong, expired or revoked."""


class InvalidCredentials(AuthenticationError):
    code = "INVALID_CREDENTIALS"


class MissingAuthHeader(AuthenticationError):
    code = "MISSING_AUTH_HEADER"


class TokenInvalid(AuthenticationError):
    code = "TOKEN_INVALID"


class TokenExpired(AuthenticationError):
    code = "TOKEN_EXPIRED"


class TokenRevoked(AuthenticationError):
    code = "TOKEN_REVOKED"


class TokenContextMismatch(AuthenticationError):
    code = "TOKEN_CONTEXT_MISMATCH"


class MfaRequired(AuthenticationError):
    """The password was right and the account has a second factor: finish the sign-in with
    `verify_mfa(error.mfa_token, code)` within 5 minutes."""

    code = "MFA_REQUIRED"

    @property
    def mfa_token(self) -> str:
        """The single-use ticket `verify_mfa` takes."""
        return str(self.details.get("mfaToken", ""))


class InvalidMfaCode(AuthenticationError):
    code = "INVALID_MFA_CODE"


class Forbidden(APIError):
    code = "FORBIDDEN"


class EmailNotVerified(Forbidden):
    code = "EMAIL_NOT_VERIFIED"


class NotFound(APIError):
    code = "NOT_FOUND"


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"


class EmailExists(APIError):
    code = "EMAIL_EXISTS"


class VersionConflict(APIError):
    code = "VERSION_CONFLICT"

    @property
    def current_etag(self) -> str | None:
        """The etag the record has now: re-read it, or retry with this one."""
        value = self.details.get("currentEtag")
        return None if value is None else str(value)


class LastAdmin(APIError):
    code = "LAST_ADMIN"


class PayloadTooLarge(APIError):
    code = "PAYLOAD_TOO_LARGE"


class HTTPError(APIError):
    code = "HTTP_ERROR"


class QueryTooComplex(APIError):
    code = "QUERY_TOO_COMPLEX"


class QueryNotInSafelist(APIError):
    code = "QUERY_NOT_IN_SAFELIST"


class PersistedQueryNotFound(APIError):
    code = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryNotSupported(APIError):
    code = "PERSISTED_QUERY_NOT_SUPPORTED"


class RateLimited(APIError):
    code = "RATE_LIMITED"

    @property
    def retry_after(self) -> int | None:
        """Seconds to wait before trying again."""
        value = self.details.get("retryAfter")
        return None if value is None else int(value)


class ServiceUnavailable(APIError):
    code = "SERVICE_UNAVAILABLE"


class InternalError(APIError):
    code = "INTERNAL_ERROR"

    @property
    def request_id(self) -> str | None:
        """The id the server logged the failure under; quote it when reporting the problem."""
        value = self.extensions.get("requestId")
        return None if value is None else str(value)


class NetworkError(SDKError):
    """No usable answer: the connection failed or timed out, or the reply was not GraphQL."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ExportError(SDKError):
    """An export job ended FAILED, or was still running when the wait ran out."""

    def __init__(self, message: str, *, job: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.job = dict(job)


_BY_CODE: dict[str, type[APIError]] = {
    cls.code: cls
    for cls in (
        ValidationError,
        InvalidCredentials,
        MissingAuthHeader,
        TokenInvalid,
        TokenExpired,
        TokenRevoked,
        TokenContextMismatch,
        MfaRequired,
        InvalidMfaCode,
        Forbidden,
        EmailNotVerified,
        NotFound,
        UserNotFound,
        EmailExists,
        VersionConflict,
        LastAdmin,
        PayloadTooLarge,
        HTTPError,
        QueryTooComplex,
        RateLimited,
        ServiceUnavailable,
        InternalError,
        QueryNotInSafelist,
        PersistedQueryNotFound,
        PersistedQueryNotSupported,
    )
}


def api_error(
    code: str | None,
    message: str | None,
    details: Mapping[str, Any] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> APIError:
    """The exception for one error the server sent, by its code."""
    cls = _BY_CODE.get(code or "", APIError)
    return cls(
        message or "The server refused the request",
        code=None if cls is not APIError else (code or APIError.code),
        details=details if isinstance(details, Mapping) else None,
        extensions=extensions,
    )


def _camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def from_rest_error(error: Mapping[str, Any]) -> APIError:
    """The exception for the `error` of a REST envelope, read into the GraphQL spelling the
    rest of this package uses: detail keys in camelCase (a VALIDATION_ERROR's field names as
    sent) and a masked failure's `request_id` as `extensions.requestId`."""
    code, details = error.get("code"), error.get("details")
    details = dict(details) if isinstance(details, Mapping) else None
    extensions: dict[str, Any] = {"code": code}
    if details is not None and code == InternalError.code:
        extensions["requestId"] = details.pop("request_id", None)
    elif details is not None and code != ValidationError.code:
        details = {_camel_case(key): value for key, value in details.items()}
    return api_error(code, error.get("message"), details, extensions)


def from_graphql_errors(errors: list[Any]) -> APIError:
    """The exception for a GraphQL `errors` list: the first error decides, the rest ride along."""
    first = errors[0] if errors and isinstance(errors[0], Mapping) else {}
    extensions = first.get("extensions") or {}
    error = api_error(
        extensions.get("code"), first.get("message"), extensions.get("details"), extensions
    )
    error.errors = list(errors)
    return error
