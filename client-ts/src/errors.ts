/**
 * Everything the client throws, one class per error code of the contract (sections 4 and 6).
 *
 * SDKError                       anything this package throws
 * ├── APIError                   the server answered with an error: .code, .message, .details
 * │   ├── ValidationError        VALIDATION_ERROR; .details maps field -> messages
 * │   ├── AuthenticationError    the caller is not (or no longer) signed in
 * │   │   ├── InvalidCredentials       INVALID_CREDENTIALS
 * │   │   ├── MissingAuthHeader        MISSING_AUTH_HEADER (also: no token kept yet)
 * │   │   ├── TokenInvalid             TOKEN_INVALID
 * │   │   ├── TokenExpired             TOKEN_EXPIRED (refreshed transparently once)
 * │   │   ├── TokenRevoked             TOKEN_REVOKED
 * │   │   ├── TokenContextMismatch     TOKEN_CONTEXT_MISMATCH
 * │   │   ├── MfaRequired              MFA_REQUIRED; .mfaToken for verifyMfa
 * │   │   └── InvalidMfaCode           INVALID_MFA_CODE
 * │   ├── Forbidden              FORBIDDEN
 * │   │   └── EmailNotVerified   EMAIL_NOT_VERIFIED
 * │   ├── NotFound               NOT_FOUND
 * │   │   └── UserNotFound       USER_NOT_FOUND
 * │   ├── EmailExists            EMAIL_EXISTS
 * │   ├── VersionConflict        VERSION_CONFLICT; .currentEtag
 * │   ├── LastAdmin              LAST_ADMIN
 * │   ├── PayloadTooLarge        PAYLOAD_TOO_LARGE
 * │   ├── HTTPError              HTTP_ERROR
 * │   ├── QueryTooComplex        QUERY_TOO_COMPLEX
 * │   ├── RateLimited            RATE_LIMITED; .retryAfter (seconds)
 * │   ├── ServiceUnavailable     SERVICE_UNAVAILABLE
 * │   ├── InternalError          INTERNAL_ERROR; .requestId
 * │   ├── PersistedQueryNotFound PERSISTED_QUERY_NOT_FOUND
 * │   ├── PersistedQueryNotSupported PERSISTED_QUERY_NOT_SUPPORTED
 * │   └── QueryNotInSafelist     QUERY_NOT_IN_SAFELIST
 * ├── NetworkError               no usable answer: connection, timeout, not GraphQL; .status
 * └── ExportError                an export job failed or did not finish in time; .job
 */

/** One entry of a GraphQL answer's `errors`. */
export interface GraphQLErrorEntry {
  message?: string;
  path?: ReadonlyArray<string | number>;
  extensions?: Record<string, unknown>;
}

/** The base of everything this package throws. */
export class SDKError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

interface APIErrorInit {
  code?: string;
  details?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  errors?: readonly GraphQLErrorEntry[];
}

/** The server refused the request with one of the contract's error codes. */
export class APIError extends SDKError {
  /** The code this class stands for; a code this version does not know keeps the server's. */
  static readonly code: string = "API_ERROR";
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly extensions: Record<string, unknown>;
  /** Every GraphQL error of the answer; the first one chose the class. */
  readonly errors: readonly GraphQLErrorEntry[];

  constructor(message: string, init: APIErrorInit = {}) {
    super(message);
    this.code = init.code ?? (new.target as typeof APIError).code;
    this.details = init.details ?? {};
    this.extensions = init.extensions ?? {};
    this.errors = init.errors ?? [];
  }

  override toString(): string {
    return `${this.code}: ${this.message}`;
  }

  protected detail(key: string): unknown {
    return this.details[key];
  }
}

export class ValidationError extends APIError {
  static override readonly code: string = "VALIDATION_ERROR";

  /** Field -> messages, as the server sent them. */
  get fieldErrors(): Record<string, string[]> {
    return this.details as Record<string, string[]>;
  }
}

/** Sign in again (or refresh): the token is missing, wrong, expired or revoked. */
export class AuthenticationError extends APIError {}

export class InvalidCredentials extends AuthenticationError {
  static override readonly code: string = "INVALID_CREDENTIALS";
}
export class MissingAuthHeader extends AuthenticationError {
  static override readonly code: string = "MISSING_AUTH_HEADER";
}
export class TokenInvalid extends AuthenticationError {
  static override readonly code: string = "TOKEN_INVALID";
}
export class TokenExpired extends AuthenticationError {
  static override readonly code: string = "TOKEN_EXPIRED";
}
export class TokenRevoked extends AuthenticationError {
  static override readonly code: string = "TOKEN_REVOKED";
}
export class TokenContextMismatch extends AuthenticationError {
  static override readonly code: string = "TOKEN_CONTEXT_MISMATCH";
}

/** The password was right and the account has a second factor: finish with `verifyMfa`. */
export class MfaRequired extends AuthenticationError {
  static override readonly code: string = "MFA_REQUIRED";

  /** The single-use ticket (valid 5 minutes) that `verifyMfa` takes with a code. */
  get mfaToken(): string | null {
    const value = this.detail("mfaToken");
    return typeof value === "string" ? value : null;
  }
}
export class InvalidMfaCode extends AuthenticationError {
  static override readonly code: string = "INVALID_MFA_CODE";
}

export class Forbidden extends APIError {
  static override readonly code: string = "FORBIDDEN";
}
export class EmailNotVerified extends Forbidden {
  static override readonly code: string = "EMAIL_NOT_VERIFIED";
}
export class NotFound extends APIError {
  static override readonly code: string = "NOT_FOUND";
}
export class UserNotFound extends NotFound {
  static override readonly code: string = "USER_NOT_FOUND";
}
export class EmailExists extends APIError {
  static override readonly code: string = "EMAIL_EXISTS";
}

export class VersionConflict extends APIError {
  static override readonly code: string = "VERSION_CONFLICT";

  /** The etag the record has now: re-read it, or retry with this one. */
  get currentEtag(): string | null {
    const value = this.detail("currentEtag");
    return value === undefined || value === null ? null : String(value);
  }
}

export class LastAdmin extends APIError {
  static override readonly code: string = "LAST_ADMIN";
}
export class PayloadTooLarge extends APIError {
  static override readonly code: string = "PAYLOAD_TOO_LARGE";
}
export class HTTPError extends APIError {
  static override readonly code: string = "HTTP_ERROR";
}
export class QueryTooComplex extends APIError {
  static override readonly code: string = "QUERY_TOO_COMPLEX";
}

export class RateLimited extends APIError {
  static override readonly code: string = "RATE_LIMITED";

  /** Seconds to wait before trying again. */
  get retryAfter(): number | null {
    const value = Number(this.detail("retryAfter"));
    return Number.isFinite(value) ? value : null;
  }
}

export class ServiceUnavailable extends APIError {
  static override readonly code: string = "SERVICE_UNAVAILABLE";
}

export class InternalError extends APIError {
  static override readonly code: string = "INTERNAL_ERROR";

  /** The id the server logged the failure under; quote it when reporting the problem. */
  get requestId(): string | null {
    const value = this.extensions["requestId"];
    return value === undefined || value === null ? null : String(value);
  }
}

export class PersistedQueryNotFound extends APIError {
  static override readonly code: string = "PERSISTED_QUERY_NOT_FOUND";
}
/** The server has persisted queries off (GRAPHQL_APQ=false): send documents. */
export class PersistedQueryNotSupported extends APIError {
  static override readonly code: string = "PERSISTED_QUERY_NOT_SUPPORTED";
}
export class QueryNotInSafelist extends APIError {
  static override readonly code: string = "QUERY_NOT_IN_SAFELIST";
}

/** No usable answer: the connection failed or timed out, or the reply was not GraphQL. */
export class NetworkError extends SDKError {
  constructor(
    message: string,
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An export job ended FAILED, or was still running when the wait ran out. */
export class ExportError<Job = unknown> extends SDKError {
  constructor(
    message: string,
    readonly job: Job,
  ) {
    super(message);
  }
}

/** Each code's class, by code. */
export const ERROR_CLASSES: ReadonlyMap<string, typeof APIError> = new Map(
  [
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
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
    QueryNotInSafelist,
  ].map((cls) => [cls.code, cls]),
);

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The error for one code the server sent, of that code's class (APIError when unknown). */
export function apiError(
  code: unknown,
  message: unknown,
  init: Omit<APIErrorInit, "code"> = {},
): APIError {
  const known = typeof code === "string" ? ERROR_CLASSES.get(code) : undefined;
  const text = typeof message === "string" && message ? message : "The server refused the request";
  if (known !== undefined) return new known(text, init);
  return new APIError(text, { ...init, code: typeof code === "string" ? code : APIError.code });
}

/** The error for a GraphQL `errors` list: the first error decides, the rest ride along. */
export function fromGraphQLErrors(errors: readonly GraphQLErrorEntry[]): APIError {
  const first = errors[0] ?? {};
  const extensions = record(first.extensions) ?? {};
  return apiError(extensions["code"], first.message, {
    details: record(extensions["details"]),
    extensions,
    errors,
  });
}

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/**
 * The error for the `error` of a REST envelope, read into the GraphQL spelling the rest of this
 * package uses: detail keys in camelCase (a VALIDATION_ERROR's field names as sent) and a masked
 * failure's `request_id` as `extensions.requestId`.
 */
export function fromRestError(error: Record<string, unknown>): APIError {
  const code = error["code"];
  const details = { ...record(error["details"]) };
  const extensions: Record<string, unknown> = { code };
  if (code === InternalError.code) {
    extensions["requestId"] = details["request_id"];
    delete details["request_id"];
    return apiError(code, error["message"], { details, extensions });
  }
  const spelled =
    code === ValidationError.code
      ? details
      : Object.fromEntries(Object.entries(details).map(([key, value]) => [camelCase(key), value]));
  return apiError(code, error["message"], { details: spelled, extensions });
}
