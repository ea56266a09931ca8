// Transparent refresh, against the twin server whose access tokens live three seconds.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { TokenExpired, type Tokens } from "../src/index.js";
import { client, env } from "./helpers.js";

const PAST_EXPIRY_MS = 4_100; // 3 s tokens, whole-second `exp`

async function signedIn(onTokens?: (tokens: Tokens) => void) {
  const api = client({ url: env.shortTokensUrl, ...(onTokens ? { onTokens } : {}) });
  await api.login(env.adminEmail, env.password);
  return api;
}

test("expired tokens are renewed once for every call that expired with them", async () => {
  const changes: Tokens[] = [];
  const api = await signedIn((tokens) => changes.push(tokens));
  const loggedIn = api.refreshToken;
  const linked = await signedIn(); // as an Apollo link or urql exchange uses it
  const expired = linked.accessToken;
  const accessOnly = client({ url: env.shortTokensUrl, accessToken: (await signedIn()).accessToken });
  await sleep(PAST_EXPIRY_MS);

  // Five calls fail with TOKEN_EXPIRED together: one refresh, then each is retried once. A second
  // refresh with the same pair would have been taken as reuse and ended the session.
  const answers = await Promise.all(Array.from({ length: 5 }, () => api.me()));
  assert.deepEqual(new Set(answers.map((me) => me.email)), new Set([env.adminEmail]));
  assert.equal(changes.length, 2, "the login, then one refresh");
  assert.notEqual(api.refreshToken, loggedIn);
  assert.equal((await api.me()).email, env.adminEmail, "the session goes on");

  await Promise.all([linked.renewTokens(expired), linked.renewTokens(expired), linked.renewTokens(expired)]);
  const renewed = linked.accessToken;
  assert.notEqual(renewed, expired);
  await linked.renewTokens(expired); // renewed already: nothing to do
  assert.equal(linked.accessToken, renewed);
  assert.equal((await linked.me()).email, env.adminEmail);

  await assert.rejects(accessOnly.me(), TokenExpired, "no refresh token: nothing to retry with");
});
