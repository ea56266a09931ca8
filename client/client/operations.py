"""The GraphQL documents the SDK sends; gql validates each against the packaged schema."""

from __future__ import annotations

from gql import GraphQLRequest

USER_FIELDS = """
fragment UserFields on User {
  id name email role isActive version etag createdAt updatedAt deletedAt
  emailVerified lastLoginAt mfaEnabled createdBy { id }
}
"""
PAIR_FIELDS = """
fragment TokenFields on TokenPair { accessToken refreshToken tokenType expiresIn }
"""
JOB_FIELDS = """
fragment JobFields on ExportJob {
  id status rowCount downloadUrl error createdAt finishedAt
}
"""


def _document(text: str, *fragments: str) -> GraphQLRequest:
    return GraphQLRequest("".join((text, *fragments)))


ME = _document("query Me { me { ...UserFields } }", USER_FIELDS)
USER = _document("query User($id: ID!) { user(id: $id) { ...UserFields } }", USER_FIELDS)
USERS = _document(
    """
    query Users(
      $page: Int!, $perPage: Int!, $sort: SortOrder!, $sortBy: UserSortField!, $filter: UserFilter
    ) {
      users(page: $page, perPage: $perPage, sort: $sort, sortBy: $sortBy, filter: $filter) {
        items { ...UserFields }
        pageInfo { page perPage total pages hasNextPage hasPreviousPage endCursor }
      }
    }
    """,
    USER_FIELDS,
)
# A page after a cursor: no `page`/`hasPreviousPage`, which the server would count rows for.
USERS_AFTER = _document(
    """
    query UsersAfter(
      $after: String!, $perPage: Int!, $sort: SortOrder!, $sortBy: UserSortField!,
      $filter: UserFilter
    ) {
      users(after: $after, perPage: $perPage, sort: $sort, sortBy: $sortBy, filter: $filter) {
        items { ...UserFields }
        pageInfo { perPage total pages hasNextPage endCursor }
      }
    }
    """,
    USER_FIELDS,
)
HEALTH = _document("query Health { health { status database cache queue } }")

REGISTER = _document(
    "mutation Register($input: RegisterInput!) { register(input: $input) { ...UserFields } }",
    USER_FIELDS,
)
LOGIN = _document(
    """
    mutation Login($email: String!, $password: String!) {
      login(email: $email, password: $password) { ...TokenFields }
    }
    """,
    PAIR_FIELDS,
)
REFRESH = _document(
    """
    mutation Refresh($refreshToken: String!) {
      refresh(refreshToken: $refreshToken) { ...TokenFields }
    }
    """,
    PAIR_FIELDS,
)
LOGOUT = _document("mutation Logout { logout }")
LOGOUT_ALL = _document("mutation LogoutAll { logoutAll }")

CREATE_USER = _document(
    """
    mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { ...UserFields } }
    """,
    USER_FIELDS,
)
UPDATE_USER = _document(
    """
    mutation UpdateUser($id: ID!, $input: UpdateUserInput!, $ifMatch: String) {
      updateUser(id: $id, input: $input, ifMatch: $ifMatch) { ...UserFields }
    }
    """,
    USER_FIELDS,
)
DELETE_USER = _document(
    "mutation DeleteUser($id: ID!, $ifMatch: String) { deleteUser(id: $id, ifMatch: $ifMatch) }"
)

EXPORT_USERS = _document(
    "mutation ExportUsers($filter: UserFilter) { exportUsers(filter: $filter) { ...JobFields } }",
    JOB_FIELDS,
)
EXPORT_JOB = _document(
    "query ExportJob($id: ID!) { exportJob(id: $id) { ...JobFields } }", JOB_FIELDS
)


# The account lifecycle
SESSION_FIELDS = """
fragment SessionFields on Session {
  id createdAt lastUsedAt expiresAt ipAddress userAgent current
}
"""
CHANGE_PASSWORD = _document(
    "mutation ChangePassword($currentPassword: String!, $newPassword: String!) "
    "{ changePassword(currentPassword: $currentPassword, newPassword: $newPassword) }"
)
REQUEST_PASSWORD_RESET = _document(
    "mutation RequestPasswordReset($email: String!) { requestPasswordReset(email: $email) }"
)
RESET_PASSWORD = _document(
    "mutation ResetPassword($token: String!, $newPassword: String!) "
    "{ resetPassword(token: $token, newPassword: $newPassword) }"
)
REQUEST_EMAIL_VERIFICATION = _document(
    "mutation RequestEmailVerification { requestEmailVerification }"
)
VERIFY_EMAIL = _document(
    "mutation VerifyEmail($token: String!) { verifyEmail(token: $token) { ...UserFields } }",
    USER_FIELDS,
)
CHANGE_EMAIL = _document(
    "mutation ChangeEmail($password: String!, $newEmail: String!) "
    "{ changeEmail(password: $password, newEmail: $newEmail) }"
)
MY_SESSIONS = _document("query MySessions { mySessions { ...SessionFields } }", SESSION_FIELDS)
USER_SESSIONS = _document(
    "query UserSessions($userId: ID!) { userSessions(userId: $userId) { ...SessionFields } }",
    SESSION_FIELDS,
)
REVOKE_SESSION = _document("mutation RevokeSession($id: ID!) { revokeSession(id: $id) }")
REVOKE_USER_SESSIONS = _document(
    "mutation RevokeUserSessions($userId: ID!) { revokeUserSessions(userId: $userId) }"
)
API_KEY_FIELDS = """
fragment ApiKeyFields on ApiKey { id name prefix createdAt lastUsedAt expiresAt }
"""
MY_API_KEYS = _document("query MyApiKeys { myApiKeys { ...ApiKeyFields } }", API_KEY_FIELDS)
CREATE_API_KEY = _document(
    "mutation CreateApiKey($name: String!, $expiresInDays: Int) "
    "{ createApiKey(name: $name, expiresInDays: $expiresInDays) "
    "{ secret apiKey { ...ApiKeyFields } } }",
    API_KEY_FIELDS,
)
REVOKE_API_KEY = _document("mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) }")
RESTORE_USER = _document(
    "mutation RestoreUser($id: ID!) { restoreUser(id: $id) { ...UserFields } }", USER_FIELDS
)

# The TOTP second factor
ENROLL_TOTP = _document(
    "mutation EnrollTotp($password: String!) { enrollTotp(password: $password) "
    "{ secret otpauthUri } }"
)
CONFIRM_TOTP = _document(
    "mutation ConfirmTotp($code: String!) { confirmTotp(code: $code) { codes } }"
)
DISABLE_TOTP = _document(
    "mutation DisableTotp($password: String!, $code: String!) "
    "{ disableTotp(password: $password, code: $code) }"
)
REGENERATE_RECOVERY_CODES = _document(
    "mutation RegenerateRecoveryCodes($password: String!, $code: String!) "
    "{ regenerateRecoveryCodes(password: $password, code: $code) { codes } }"
)
VERIFY_MFA = _document(
    """
    mutation VerifyMfa($mfaToken: String!, $code: String!) {
      verifyMfa(mfaToken: $mfaToken, code: $code) { ...TokenFields }
    }
    """,
    PAIR_FIELDS,
)
RESET_MFA = _document("mutation ResetMfa($userId: ID!) { resetMfa(userId: $userId) }")
# The audit log (admins)
AUDIT_EVENTS = _document(
    """
    query AuditEvents($first: Int, $after: String, $filter: AuditFilter) {
      auditEvents(first: $first, after: $after, filter: $filter) {
        items {
          id at action ipAddress userAgent requestId details actor { id } subject { id }
        }
        endCursor hasNextPage
      }
    }
    """
)
EXPORT_AUDIT_EVENTS = _document(
    "mutation ExportAuditEvents($filter: AuditFilter) "
    "{ exportAuditEvents(filter: $filter) { ...JobFields } }",
    JOB_FIELDS,
)
ALL = (
    ME,
    USER,
    USERS,
    USERS_AFTER,
    HEALTH,
    REGISTER,
    LOGIN,
    REFRESH,
    LOGOUT,
    LOGOUT_ALL,
    CREATE_USER,
    UPDATE_USER,
    DELETE_USER,
    EXPORT_USERS,
    EXPORT_JOB,
    CHANGE_PASSWORD,
    REQUEST_PASSWORD_RESET,
    RESET_PASSWORD,
    REQUEST_EMAIL_VERIFICATION,
    VERIFY_EMAIL,
    CHANGE_EMAIL,
    MY_SESSIONS,
    USER_SESSIONS,
    REVOKE_SESSION,
    REVOKE_USER_SESSIONS,
    RESTORE_USER,
    MY_API_KEYS,
    CREATE_API_KEY,
    REVOKE_API_KEY,
    ENROLL_TOTP,
    CONFIRM_TOTP,
    DISABLE_TOTP,
    REGENERATE_RECOVERY_CODES,
    VERIFY_MFA,
    RESET_MFA,
    AUDIT_EVENTS,
    EXPORT_AUDIT_EVENTS,
)
