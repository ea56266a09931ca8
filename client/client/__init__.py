"""Python SDK of the accounts GraphQL API.

    from client import APIClient

    api = APIClient("http://localhost:8000")
    api.login("admin@example.com", "secret123")
    print(api.get_current_user())

    robot = APIClient("http://localhost:8000", api_key="agk_...")  # from create_api_key()

Methods return plain dicts typed as the TypedDicts below, in the legacy REST shapes. Failures
raise the exceptions of `client.errors`, whose docstring draws the tree.
"""

from client.async_client import AsyncAPIClient
from client.audit import AuditEvent, AuditFilterParams, AuditPage
from client.core import USER_AGENT, __version__
from client.errors import (
    APIError,
    AuthenticationError,
    EmailExists,
    EmailNotVerified,
    ExportError,
    Forbidden,
    HTTPError,
    InternalError,
    InvalidCredentials,
    InvalidMfaCode,
    LastAdmin,
    MfaRequired,
    MissingAuthHeader,
    NetworkError,
    NotFound,
    PayloadTooLarge,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
    QueryNotInSafelist,
    QueryTooComplex,
    RateLimited,
    SDKError,
    ServiceUnavailable,
    TokenContextMismatch,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
    UserNotFound,
    ValidationError,
    VersionConflict,
)
from client.models import (
    ApiKey,
    ExportJob,
    Health,
    ListParams,
    NewApiKey,
    PageMeta,
    Session,
    TokenPair,
    TotpEnrollment,
    User,
    UserChanges,
    UserFilterParams,
    UserPage,
)
from client.sync_client import APIClient

__all__ = [
    "USER_AGENT",
    "APIClient",
    "APIError",
    "ApiKey",
    "AsyncAPIClient",
    "AuditEvent",
    "AuditFilterParams",
    "AuditPage",
    "AuthenticationError",
    "EmailExists",
    "EmailNotVerified",
    "ExportError",
    "ExportJob",
    "Forbidden",
    "HTTPError",
    "Health",
    "InternalError",
    "InvalidCredentials",
    "InvalidMfaCode",
    "LastAdmin",
    "ListParams",
    "MfaRequired",
    "MissingAuthHeader",
    "NetworkError",
    "NewApiKey",
    "NotFound",
    "PageMeta",
    "PayloadTooLarge",
    "PersistedQueryNotFound",
    "PersistedQueryNotSupported",
    "QueryNotInSafelist",
    "QueryTooComplex",
    "RateLimited",
    "SDKError",
    "ServiceUnavailable",
    "Session",
    "TokenContextMismatch",
    "TokenExpired",
    "TokenInvalid",
    "TokenPair",
    "TokenRevoked",
    "TotpEnrollment",
    "User",
    "UserChanges",
    "UserFilterParams",
    "UserNotFound",
    "UserPage",
    "ValidationError",
    "VersionConflict",
    "__version__",
]
