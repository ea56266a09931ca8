// Sign-in, the kept token pair, and the class of every way a token can be wrong.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import {
  AccountsClient,
  EmailExists,
  Forbidden,
  InvalidCredentials,
  PayloadTooLarge,
  QueryTooComplex,
  MissingAuthHeader,
  NetworkError,
  TokenContextMismatch,
  TokenInvalid,
  TokenRevoked,
  ValidationError,
  type Tokens,
  type TypedDocument,
} from "../src/index.js";
import { admin, client, email, env, user } from "./helpers.js";

test("login keeps the pair, refresh rotates it, logout forgets it", async () => {
  const seen: Tokens[] = [];
  const api = client({ onTokens: (tokens) => seen.push(tokens) });
  const pair = await api.login(env.adminEmail, env.password);
  assert.equal(pair.tokenType, "bearer");
  assert.equal(api.accessToken, pair.accessToken);
  assert.equal((await api.me()).email, env.adminEmail);

  const rotated = await api.refresh();
  assert.notEqual(rotated.refreshToken, pair.refreshToken);
  assert.equal((await api.me()).role, "ADMIN");
  const resumed = client({ accessToken: rotated.accessToken, refreshToken: rotated.refreshToken });
  assert.equal((await resumed.me()).email, env.adminEmail, "a saved session resumes");

  await api.logout();
  assert.deepEqual([api.accessToken, api.refreshToken], [null, null]);
  assert.deepEqual(seen.at(-1), { accessToken: null, refreshToken: null });
  assert.equal(seen.length, 3);
  await assert.rejects(api.me(), MissingAuthHeader);
  await assert.rejects(resumed.me(), TokenRevoked);
});

test("every wrong token has its own class", async () => {
  const { api } = await user("tokens");
  const stolen = client({ accessToken: api.accessToken, userAgent: "thief" });
  await assert.rejects(stolen.me(), TokenContextMismatch);
  await assert.rejects(client({ accessToken: "not-a-token" }).me(), TokenInvalid);
  await assert.rejects(client().me(), MissingAuthHeader);

  const old = client({ accessToken: api.accessToken, refreshToken: api.refreshToken });
  await api.logoutAll();
  await assert.rejects(old.me(), TokenRevoked);
  await assert.rejects(old.refresh(), TokenRevoked);
  await assert.rejects(client().login(env.adminEmail, "not the password"), InvalidCredentials);
});

test("registering is idempotent, and public only for users", async () => {
  const address = email("register");
  const anonymous = client();
  const first = await anonymous.register({ name: "Reg", email: address, password: env.password });
  const again = await anonymous.register({ name: "Reg", email: address, password: env.password });
  assert.equal(again.id, first.id);
  await assert.rejects(
    anonymous.register({ name: "Reg", email: address, password: "another password" }),
    EmailExists,
  );
  await assert.rejects(
    anonymous.register({ name: "Boss", email: email("boss"), password: env.password, role: "ADMIN" }),
    Forbidden,
  );
  const short = await anonymous
    .register({ name: "Short", email: email("short"), password: "short" })
    .then(() => assert.fail("a short password was accepted"))
    .catch((error: unknown) => error);
  assert.ok(short instanceof ValidationError);
  assert.ok(Object.keys(short.fieldErrors).length > 0, JSON.stringify(short.details));
});

test("sessions: mine, a user's, and revoking them", async () => {
  const { api, email: address } = await user("sessions");
  const other = client();
  await other.login(address, env.password);
  const mine = await api.mySessions();
  assert.equal(mine.length, 2);
  assert.equal(mine.filter((session) => session.current).length, 1);
  const elsewhere = mine.find((session) => !session.current);
  assert.ok(elsewhere);
  await api.revokeSession(elsewhere.id);
  await assert.rejects(other.me(), TokenRevoked);

  const boss = await admin();
  const me = await api.me();
  assert.equal((await boss.userSessions(me.id)).length, 1);
  await boss.revokeUserSessions(me.id);
  await assert.rejects(api.me(), TokenRevoked);
});

test("request sends a document of the caller's own, typed by its author", async () => {
  const api = await admin();
  const document = "query Mine { me { email role } }" as TypedDocument<
    { me: { email: string; role: "ADMIN" | "USER" } },
    Record<string, never>
  >;
  assert.deepEqual(await api.request(document), { me: { email: env.adminEmail, role: "ADMIN" } });
  assert.equal((await api.health()).status.length > 0, true);
});

test("the server's limits have their classes", async () => {
  const api = await admin();
  const deep = "query { me { createdBy { createdBy { createdBy { createdBy { createdBy { createdBy { createdBy { createdBy { createdBy { createdBy { id } } } } } } } } } } } }";
  await assert.rejects(api.request(deep as TypedDocument<unknown, Record<string, never>>), QueryTooComplex);
  const echo = "query Echo($text: String!) { me { id } }" as TypedDocument<unknown, { text: string }>;
  await assert.rejects(api.request(echo, { text: "x".repeat(3 * 1024 * 1024) }), PayloadTooLarge);
  await assert.rejects(api.request("query {" as TypedDocument<unknown, Record<string, never>>), ValidationError);
});

test("no answer is a NetworkError, never an APIError", async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
  const nobody = new AccountsClient(`http://127.0.0.1:${port}`);
  await assert.rejects(nobody.health(), NetworkError);
  const html = new AccountsClient(`${env.url}/docs#`);
  await assert.rejects(html.health(), NetworkError);
});
