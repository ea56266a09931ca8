// AccountsClient: typed operations over fetch, with the token pair kept and renewed as needed.
import type { TypedDocument, VariablesArgs } from "./document.js";
import { MissingAuthHeader, NotFound, SDKError } from "./errors.js";
import { downloadPath, exportOutcome, sleep, type ExportJob } from "./exports.js";
import * as ops from "./generated/graphql.js";
import { getText, postGraphQL, type Fetch } from "./http.js";
import { sendPersisted, type GraphQLBody } from "./persisted.js";
import { subscribeSse } from "./sse.js";
import { TokenKeeper, type Tokens } from "./tokens.js";

export type User = ops.UserFieldsFragment;
export type TokenPair = ops.TokenFieldsFragment;
export type Session = ops.SessionFieldsFragment;
export type UserPage = ops.UsersQuery["users"];
export type UserPageAfter = ops.UsersAfterQuery["users"];
export type Health = ops.HealthQuery["health"];
export type TotpEnrollment = ops.EnrollTotpMutation["enrollTotp"];
export type ApiKey = ops.ApiKeyFieldsFragment;
export type NewApiKey = ops.CreateApiKeyMutation["createApiKey"];
export type AuditEvent = ops.AuditEventFieldsFragment;
export type AuditPage = ops.AuditEventsQuery["auditEvents"];

export interface ClientOptions {
  /** Any fetch (the global one by default): a test's, a framework's, one with a proxy. */
  fetch?: Fetch;
  /** Sent as `User-Agent` where the platform lets a script set it (Node: yes, browsers: no).
   *  Tokens are bound to the client's address and agent: keep it the same for a session. */
  userAgent?: string;
  /** More headers for every request (`apollographql-client-name`, tracing...). */
  headers?: Record<string, string>;
  /** Milliseconds before a request is given up (a NetworkError); default 10 000. */
  timeoutMs?: number;
  /** A saved session to resume. */
  accessToken?: string | null;
  refreshToken?: string | null;
  /** Called whenever the kept pair changes (login, refresh, logout), e.g. to save it. */
  onTokens?: (tokens: Tokens) => void;
  /** Send each document's SHA-256 instead of its text once the server knows it (Apollo's
   *  automatic persisted queries); default false. */
  persistedQueries?: boolean;
  /** An API key (`agk_...`) to sign every request with instead of a token pair: it is sent as
   *  `Authorization: Bearer <key>` and never refreshed. */
  apiKey?: string;
}

export interface CallOptions {
  /** Send the access token (and renew it once if it expired); default true. */
  signed?: boolean;
  signal?: AbortSignal;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * A client of the accounts GraphQL API.
 *
 *     const api = new AccountsClient("http://localhost:8000");
 *     await api.login("admin@example.com", "secret123");
 *     const me = await api.me();
 *
 * Every method sends one typed operation of operations/*.graphql; `request` sends any typed
 * document (a generated `...Document`), with the same tokens, renewal and errors.
 */
export class AccountsClient {
  readonly baseUrl: string;
  readonly graphqlUrl: string;
  private readonly fetch: Fetch;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly keeper: TokenKeeper;
  private readonly persisted: boolean;
  private readonly apiKey: string | null;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.graphqlUrl = `${this.baseUrl}/graphql`;
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = { ...options.headers };
    if (options.userAgent !== undefined) this.headers["User-Agent"] = options.userAgent;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.persisted = options.persistedQueries ?? false;
    this.apiKey = options.apiKey ?? null;
    this.keeper = new TokenKeeper(
      { accessToken: options.accessToken ?? null, refreshToken: options.refreshToken ?? null },
      options.onTokens,
    );
  }

  get accessToken(): string | null {
    return this.keeper.tokens.accessToken;
  }

  get refreshToken(): string | null {
    return this.keeper.tokens.refreshToken;
  }

  /** Resume a saved session (keep the same User-Agent: tokens are bound to it). */
  setTokens(accessToken: string | null, refreshToken: string | null): void {
    this.keeper.set({ accessToken, refreshToken });
  }

  // The core

  /** Send a typed document; its `data`. Signed unless `signed: false`. */
  async request<R, V>(document: TypedDocument<R, V>, ...args: VariablesArgs<V, [CallOptions]>): Promise<R> {
    const [variables, options = {}] = args;
    const attempt = async (token: string | null): Promise<R> => {
      const post = (body: GraphQLBody) => postGraphQL(this.graphqlUrl, body, this.http(token, options.signal));
      const data = this.persisted
        ? await sendPersisted(document, variables ?? {}, post)
        : await post({ query: document, variables: variables ?? {} });
      return data as R;
    };
    if (options.signed === false) return await attempt(null);
    return await this.signed(attempt);
  }

  /**
   * Send an unsigned operation whose one field is a token pair (`login`, `verifyMfa`, ...) and
   * keep the pair it answers.
   */
  async signIn<V, R extends Record<string, TokenPair>>(
    document: TypedDocument<R, V>,
    ...args: VariablesArgs<V, [CallOptions]>
  ): Promise<TokenPair> {
    const [variables, options = {}] = args;
    const call = [variables, { ...options, signed: false }] as VariablesArgs<V, [CallOptions]>;
    const pair = only(await this.request(document, ...call));
    this.keeper.set({ accessToken: pair.accessToken, refreshToken: pair.refreshToken });
    return pair;
  }

  /**
   * Renew the pair after a call made with `expiredAccessToken` failed with TOKEN_EXPIRED, unless
   * another call already did; concurrent callers share one refresh. For links and exchanges of
   * other GraphQL clients (see README: Apollo, urql) that keep their tokens here.
   */
  async renewTokens(expiredAccessToken: string | null): Promise<void> {
    await this.keeper.renew(expiredAccessToken, this.refreshNow);
  }

  // Sessions

  async register(input: ops.RegisterInput): Promise<User> {
    return (await this.request(ops.RegisterDocument, { input })).register;
  }

  /** Sign in and keep the pair; MfaRequired (with `.mfaToken`) when the account has a second
   *  factor: finish with `verifyMfa`. */
  async login(email: string, password: string): Promise<TokenPair> {
    return await this.signIn(ops.LoginDocument, { email, password });
  }

  /** Finish a login that threw MfaRequired: its `mfaToken` and a TOTP or recovery code. */
  async verifyMfa(mfaToken: string, code: string): Promise<TokenPair> {
    return await this.signIn(ops.VerifyMfaDocument, { mfaToken, code });
  }

  /** Rotate the kept pair (the old refresh token stops working). */
  async refresh(): Promise<TokenPair> {
    const refreshToken = this.keeper.tokens.refreshToken;
    if (refreshToken === null) throw new MissingAuthHeader("No refresh token: call login() first");
    return await this.signIn(ops.RefreshDocument, { refreshToken });
  }

  async logout(): Promise<void> {
    await this.request(ops.LogoutDocument);
    this.setTokens(null, null);
  }

  async logoutAll(): Promise<void> {
    await this.request(ops.LogoutAllDocument);
    this.setTokens(null, null);
  }

  // Users

  async me(): Promise<User> {
    return (await this.request(ops.MeDocument)).me;
  }

  /** A live user, or null when absent or deleted (admin). */
  async user(id: string): Promise<User | null> {
    return (await this.request(ops.UserDocument, { id })).user;
  }

  async users(variables: ops.UsersQueryVariables = {}): Promise<UserPage> {
    return (await this.request(ops.UsersDocument, variables)).users;
  }

  async usersAfter(variables: ops.UsersAfterQueryVariables): Promise<UserPageAfter> {
    return (await this.request(ops.UsersAfterDocument, variables)).users;
  }

  /**
   * Every matching user, following cursors (100 a page, by id ascending unless told otherwise):
   * users created or deleted during the walk never make it skip or repeat one.
   */
  async *iterUsers(variables: Omit<ops.UsersQueryVariables, "page"> = {}): AsyncGenerator<User> {
    const listing = { perPage: 100, sort: "ASC" as const, sortBy: "ID" as const, ...variables };
    let page: UserPage | UserPageAfter = await this.users(listing);
    yield* page.items;
    while (page.pageInfo.hasNextPage && page.pageInfo.endCursor !== null) {
      page = await this.usersAfter({ ...listing, after: page.pageInfo.endCursor });
      yield* page.items;
    }
  }

  async createUser(input: ops.CreateUserInput): Promise<User> {
    return (await this.request(ops.CreateUserDocument, { input })).createUser;
  }

  /** Change an account; with `ifMatch` (a user's etag) only the version read is changed. */
  async updateUser(id: string, input: ops.UpdateUserInput, options: { ifMatch?: string } = {}): Promise<User> {
    const variables = { id, input, ifMatch: options.ifMatch ?? null };
    return (await this.request(ops.UpdateUserDocument, variables)).updateUser;
  }

  /** Soft-delete an account. */
  async deleteUser(id: string, options: { ifMatch?: string } = {}): Promise<void> {
    await this.request(ops.DeleteUserDocument, { id, ifMatch: options.ifMatch ?? null });
  }

  async restoreUser(id: string): Promise<User> {
    return (await this.request(ops.RestoreUserDocument, { id })).restoreUser;
  }

  // Exports: request, poll, download

  /** Start a CSV export of the users matching `filter` (admin); the job, QUEUED or later. */
  async exportUsers(filter?: ops.UserFilter): Promise<ExportJob> {
    return (await this.request(ops.ExportUsersDocument, { filter: filter ?? null })).exportUsers;
  }

  async exportJob(id: string): Promise<ExportJob> {
    const job = (await this.request(ops.ExportJobDocument, { id })).exportJob;
    if (job === null) throw new NotFound("Export job not found");
    return job;
  }

  /** Poll a job until it finishes; ExportError when it fails or `timeoutMs` (60 s) runs out. */
  async waitForExport(id: string, options: WaitOptions = {}): Promise<ExportJob> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const finished = exportOutcome(await this.exportJob(id), Date.now() >= deadline);
      if (finished !== null) return finished;
      await sleep(options.intervalMs ?? 500, options.signal);
    }
  }

  /**
   * The job as it is, then on every status change and as rows are written, live over SSE
   * (admin); ends after FINISHED or FAILED (a failed job is yielded, not thrown). No timeout but
   * `signal` (the server pings every 15 s); leaving the loop early closes the stream.
   *
   *     for await (const job of api.followExport(id)) console.log(job.status, job.rowsDone);
   */
  async *followExport(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<ExportJob> {
    const body = { query: ops.FollowExportDocument, variables: { id } };
    const { events, first } = await this.signed(async (token) => {
      const events = subscribeSse(this.graphqlUrl, body, this.http(token, options.signal, false));
      return { events, first: await events.next() }; // an expired token fails here, and is renewed
    });
    try {
      for (let next = first; !next.done; next = await events.next()) {
        const job = (next.value as ops.FollowExportSubscription).exportJob;
        yield job;
        if (job.status === "FINISHED" || job.status === "FAILED") return;
      }
    } finally {
      await events.return(undefined);
    }
  }

  /**
   * The CSV of a finished job (or of a job id). The access token goes only to the API's own
   * origin: a `downloadUrl` elsewhere (a bucket's signed link, a stranger's server a tampered
   * answer points at) is fetched without it.
   */
  async downloadExport(job: ExportJob | string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const url = new URL(downloadPath(job), `${this.baseUrl}/`);
    if (url.origin !== new URL(this.baseUrl).origin) {
      return await getText(url.href, this.http(null, options.signal));
    }
    return await this.signedText(url, options.signal);
  }

  /** The CSV of the matching users at once, over REST (`GET /admin/users/export`). */
  async adminExportUsers(filter: ops.UserFilter = {}, options: { signal?: AbortSignal } = {}): Promise<string> {
    const url = new URL(`${this.baseUrl}/admin/users/export`);
    for (const [key, value] of Object.entries(restFilter(filter))) url.searchParams.set(key, value);
    return await this.signedText(url, options.signal);
  }

  async health(): Promise<Health> {
    return (await this.request(ops.HealthDocument, {}, { signed: false })).health;
  }

  // The account lifecycle

  /** Change my password; my other sessions end, this one goes on. */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    await this.request(ops.ChangePasswordDocument, { currentPassword, newPassword });
  }

  /** Mail a reset link; answers the same whether or not the account exists. */
  async requestPasswordReset(email: string): Promise<void> {
    await this.request(ops.RequestPasswordResetDocument, { email }, { signed: false });
  }

  async resetPassword(token: string, newPassword: string): Promise<void> {
    await this.request(ops.ResetPasswordDocument, { token, newPassword }, { signed: false });
  }

  async requestEmailVerification(): Promise<void> {
    await this.request(ops.RequestEmailVerificationDocument);
  }

  async verifyEmail(token: string): Promise<User> {
    return (await this.request(ops.VerifyEmailDocument, { token }, { signed: false })).verifyEmail;
  }

  /** Mail a link to `newEmail`; the address changes once it is followed. */
  async changeEmail(password: string, newEmail: string): Promise<void> {
    await this.request(ops.ChangeEmailDocument, { password, newEmail });
  }

  async mySessions(): Promise<Session[]> {
    return (await this.request(ops.MySessionsDocument)).mySessions;
  }

  async userSessions(userId: string): Promise<Session[]> {
    return (await this.request(ops.UserSessionsDocument, { userId })).userSessions;
  }

  async revokeSession(id: string): Promise<void> {
    await this.request(ops.RevokeSessionDocument, { id });
  }

  async revokeUserSessions(userId: string): Promise<void> {
    await this.request(ops.RevokeUserSessionsDocument, { userId });
  }

  // The second factor

  /** Start turning TOTP on: the secret (and its otpauth:// URI) to put in an authenticator. */
  async enrollTotp(password: string): Promise<TotpEnrollment> {
    return (await this.request(ops.EnrollTotpDocument, { password })).enrollTotp;
  }

  /** Turn TOTP on with a first code; the 10 single-use recovery codes, shown once. */
  async confirmTotp(code: string): Promise<string[]> {
    return (await this.request(ops.ConfirmTotpDocument, { code })).confirmTotp.codes;
  }

  /** Turn TOTP off; `code` is a TOTP or recovery code. */
  async disableTotp(password: string, code: string): Promise<void> {
    await this.request(ops.DisableTotpDocument, { password, code });
  }

  /** New recovery codes (the old ones stop working). */
  async regenerateRecoveryCodes(password: string, code: string): Promise<string[]> {
    return (await this.request(ops.RegenerateRecoveryCodesDocument, { password, code })).regenerateRecoveryCodes
      .codes;
  }

  /** Turn a user's second factor off (admin). */
  async resetMfa(userId: string): Promise<void> {
    await this.request(ops.ResetMfaDocument, { userId });
  }

  // API keys

  /** A new key and its secret (shown once): pass it as `apiKey` to a client. */
  async createApiKey(name: string, options: { expiresInDays?: number } = {}): Promise<NewApiKey> {
    const variables = { name, expiresInDays: options.expiresInDays ?? null };
    return (await this.request(ops.CreateApiKeyDocument, variables)).createApiKey;
  }

  async listApiKeys(): Promise<ApiKey[]> {
    return (await this.request(ops.MyApiKeysDocument)).myApiKeys;
  }

  async revokeApiKey(id: string): Promise<void> {
    await this.request(ops.RevokeApiKeyDocument, { id });
  }

  // The audit log (admin)

  /** One page of audit events, newest first. */
  async auditEvents(variables: ops.AuditEventsQueryVariables = {}): Promise<AuditPage> {
    return (await this.request(ops.AuditEventsDocument, variables)).auditEvents;
  }

  /** Every matching audit event, newest first, following cursors (100 a page). */
  async *iterAuditEvents(filter?: ops.AuditFilter): AsyncGenerator<AuditEvent> {
    let after: string | null = null;
    for (;;) {
      const page: AuditPage = await this.auditEvents({ first: 100, after, filter: filter ?? null });
      yield* page.items;
      if (!page.hasNextPage || page.endCursor === null) return;
      after = page.endCursor;
    }
  }

  /** Start a CSV export of the matching audit events (admin); follow it like a users export. */
  async exportAuditEvents(filter?: ops.AuditFilter): Promise<ExportJob> {
    return (await this.request(ops.ExportAuditEventsDocument, { filter: filter ?? null })).exportAuditEvents;
  }

  // Plumbing

  /** Run `attempt` with the API key, or with the access token, renewed once if it expired. */
  private signed<T>(attempt: (token: string | null) => Promise<T>): Promise<T> {
    if (this.apiKey !== null) return attempt(this.apiKey);
    return this.keeper.signed(attempt, this.refreshNow);
  }

  private readonly refreshNow = async (): Promise<void> => {
    await this.refresh();
  };

  /** GET a REST file with the access token, renewed once if it expired. */
  private async signedText(url: URL, signal: AbortSignal | undefined): Promise<string> {
    return await this.signed((token) => getText(url.href, this.http(token, signal)));
  }

  /** How to send a request; `timed: false` for a stream, which lasts as long as it lasts. */
  private http(token: string | null, signal: AbortSignal | undefined, timed = true) {
    const headers = token === null ? this.headers : { ...this.headers, Authorization: `Bearer ${token}` };
    if (!timed) return { fetch: this.fetch, headers, signal };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return { fetch: this.fetch, headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout };
  }
}

function only<T>(data: Record<string, T>): T {
  const values = Object.values(data);
  if (values.length !== 1) throw new SDKError("Expected an answer of exactly one field");
  return values[0] as T;
}

/** A user filter as the legacy REST query parameters. */
function restFilter(filter: ops.UserFilter): Record<string, string> {
  const query: Record<string, string> = {};
  if (filter.name) query["name"] = filter.name;
  if (filter.email) query["email"] = filter.email;
  if (filter.role) query["role"] = filter.role.toLowerCase();
  if (filter.includeDeleted) query["include_deleted"] = "true";
  return query;
}
