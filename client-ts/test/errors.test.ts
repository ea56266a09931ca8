// Every code of the contract reads into its own class; the REST spelling reads like GraphQL's.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  APIError,
  AuthenticationError,
  ERROR_CLASSES,
  EmailNotVerified,
  Forbidden,
  InternalError,
  MfaRequired,
  NetworkError,
  RateLimited,
  SDKError,
  ValidationError,
  VersionConflict,
  fromGraphQLErrors,
  fromRestError,
} from "../src/index.js";

// Contract sections 4 and 6. The harness adds the codes of the server's own catalogue
// (core/errors.py) in SERVER_ERROR_CODES, so a code added there without a class here fails.
const CONTRACT_CODES = [
  "VALIDATION_ERROR",
  "MISSING_AUTH_HEADER",
  "TOKEN_INVALID",
  "TOKEN_EXPIRED",
  "TOKEN_REVOKED",
  "TOKEN_CONTEXT_MISMATCH",
  "INVALID_CREDENTIALS",
  "FORBIDDEN",
  "NOT_FOUND",
  "USER_NOT_FOUND",
  "EMAIL_EXISTS",
  "VERSION_CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "HTTP_ERROR",
  "QUERY_TOO_COMPLEX",
  "RATE_LIMITED",
  "SERVICE_UNAVAILABLE",
  "INTERNAL_ERROR",
  "MFA_REQUIRED",
  "INVALID_MFA_CODE",
  "EMAIL_NOT_VERIFIED",
  "LAST_ADMIN",
  "PERSISTED_QUERY_NOT_FOUND",
  "QUERY_NOT_IN_SAFELIST",
];
const AUTHENTICATION = new Set([
  "MISSING_AUTH_HEADER",
  "TOKEN_INVALID",
  "TOKEN_EXPIRED",
  "TOKEN_REVOKED",
  "TOKEN_CONTEXT_MISMATCH",
  "INVALID_CREDENTIALS",
  "MFA_REQUIRED",
  "INVALID_MFA_CODE",
]);

function serverCodes(): string[] {
  const listed = process.env["SERVER_ERROR_CODES"];
  return listed ? (JSON.parse(listed) as string[]) : [];
}

test("every code of the contract and of the server has a class of its own", () => {
  const codes = new Set([...CONTRACT_CODES, ...serverCodes()]);
  assert.ok(codes.size >= CONTRACT_CODES.length);
  for (const code of codes) {
    const error = fromGraphQLErrors([{ message: "m", extensions: { code, details: { f: ["x"] } } }]);
    const cls = ERROR_CLASSES.get(code);
    assert.ok(cls, `no class for ${code}`);
    assert.equal(error.constructor, cls, code);
    assert.equal(error.name, cls.name);
    assert.deepEqual([error.code, error.message, error.details], [code, "m", { f: ["x"] }]);
    assert.ok(error instanceof SDKError && error instanceof APIError);
    assert.equal(error instanceof AuthenticationError, AUTHENTICATION.has(code), code);
  }
});

test("a code this version does not know is a plain APIError that keeps the server's code", () => {
  const error = fromGraphQLErrors([{ message: "new", extensions: { code: "SOMETHING_NEW" } }]);
  assert.equal(error.constructor, APIError);
  assert.equal(error.code, "SOMETHING_NEW");
  assert.equal(String(error), "SOMETHING_NEW: new");
  const bare = fromGraphQLErrors([{ message: "no code" }]);
  assert.equal(bare.code, "API_ERROR");
  assert.ok(!(new NetworkError("down") instanceof APIError));
});

test("details read in GraphQL's spelling", () => {
  const mfa = fromGraphQLErrors([{ message: "m", extensions: { code: "MFA_REQUIRED", details: { mfaToken: "t1" } } }]);
  assert.ok(mfa instanceof MfaRequired);
  assert.equal(mfa.mfaToken, "t1");
  const limited = fromGraphQLErrors([{ message: "m", extensions: { code: "RATE_LIMITED", details: { retryAfter: 7 } } }]);
  assert.ok(limited instanceof RateLimited);
  assert.equal(limited.retryAfter, 7);
  const masked = fromGraphQLErrors([{ message: "m", extensions: { code: "INTERNAL_ERROR", requestId: "r1" } }]);
  assert.ok(masked instanceof InternalError);
  assert.equal(masked.requestId, "r1");
  const both = [
    { message: "first", extensions: { code: "FORBIDDEN" } },
    { message: "second", extensions: { code: "NOT_FOUND" } },
  ];
  const first = fromGraphQLErrors(both);
  assert.ok(first instanceof Forbidden && !(first instanceof EmailNotVerified));
  assert.equal(first.errors.length, 2);
});

test("a REST error reads into the same spelling", () => {
  const conflict = fromRestError({ code: "VERSION_CONFLICT", message: "m", details: { current_etag: '"1-2"' } });
  assert.ok(conflict instanceof VersionConflict);
  assert.equal(conflict.currentEtag, '"1-2"');
  const limited = fromRestError({ code: "RATE_LIMITED", message: "m", details: { retry_after: 3 } });
  assert.ok(limited instanceof RateLimited);
  assert.equal(limited.retryAfter, 3);
  const masked = fromRestError({ code: "INTERNAL_ERROR", message: "m", details: { request_id: "r2" } });
  assert.ok(masked instanceof InternalError);
  assert.equal(masked.requestId, "r2");
  assert.deepEqual(masked.details, {});
  const invalid = fromRestError({ code: "VALIDATION_ERROR", message: "m", details: { per_page: ["too big"] } });
  assert.ok(invalid instanceof ValidationError);
  assert.deepEqual(invalid.fieldErrors, { per_page: ["too big"] });
});
