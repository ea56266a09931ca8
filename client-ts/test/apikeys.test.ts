// API keys: a client signed with one acts as its owner, but cannot manage credentials.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthenticationError, Forbidden } from "../src/index.js";
import { client, user } from "./helpers.js";

test("an API key client reads me and is refused credentials", async () => {
  const { api, email: address } = await user("apikey");
  const created = await api.createApiKey("ci", { expiresInDays: 7 });
  assert.match(created.secret, /^agk_/);
  assert.ok(created.secret.startsWith(created.apiKey.prefix), `${created.apiKey.prefix} of ${created.secret}`);
  assert.ok(created.apiKey.expiresAt);
  assert.deepEqual(
    (await api.listApiKeys()).map((key) => key.id),
    [created.apiKey.id],
  );

  const keyed = client({ apiKey: created.secret });
  assert.equal((await keyed.me()).email, address);
  assert.equal(keyed.accessToken, null, "a key is not a token pair");
  await assert.rejects(keyed.createApiKey("another"), Forbidden);
  await assert.rejects(keyed.revokeApiKey(created.apiKey.id), Forbidden);
  assert.ok((await api.listApiKeys())[0]?.lastUsedAt, "the key's use is recorded");

  await api.revokeApiKey(created.apiKey.id);
  assert.deepEqual(await api.listApiKeys(), []);
  await assert.rejects(keyed.me(), AuthenticationError);
});
