export { AccountsClient } from "./client.js";
export type {
  ApiKey,
  AuditEvent,
  AuditPage,
  CallOptions,
  ClientOptions,
  Health,
  NewApiKey,
  Session,
  TokenPair,
  TotpEnrollment,
  User,
  UserPage,
  UserPageAfter,
  WaitOptions,
} from "./client.js";
export type { TypedDocument, ResultOf, VariablesOf } from "./document.js";
export type { ExportJob } from "./exports.js";
export type { Tokens } from "./tokens.js";
export { sha256Hex } from "./persisted.js";
export * from "./errors.js";
export * from "./generated/graphql.js";
