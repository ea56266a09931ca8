// The audit log, read by an admin, page by page.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Forbidden } from "../src/index.js";
import { admin, user } from "./helpers.js";

test("an admin lists the audit events of what a user did", async () => {
  const { api } = await user("audited");
  const key = await api.createApiKey("audited");
  await api.revokeApiKey(key.apiKey.id);
  const me = await api.me();

  const boss = await admin();
  const page = await boss.auditEvents({ first: 10, filter: { actorId: me.id } });
  const actions = page.items.map((event) => event.action);
  assert.deepEqual(actions.slice(0, 2), ["apikey.revoked", "apikey.created"], "newest first");
  assert.ok(actions.includes("login.succeeded"), actions.join(", "));
  assert.ok(page.items.every((event) => event.actor?.id === me.id));
  assert.ok(!JSON.stringify(page.items).includes(key.secret), "the secret is never recorded");

  const all = [];
  for await (const event of boss.iterAuditEvents({ actorId: me.id })) all.push(event.id);
  assert.deepEqual(all.slice(0, page.items.length), page.items.map((event) => event.id));
  assert.equal(new Set(all).size, all.length);

  const twoAtATime = await boss.auditEvents({ first: 2, filter: { actorId: me.id } });
  assert.equal(twoAtATime.hasNextPage, true);
  const next = await boss.auditEvents({ first: 2, after: twoAtATime.endCursor, filter: { actorId: me.id } });
  assert.deepEqual(next.items.map((event) => event.id), all.slice(2, 4));

  await assert.rejects(api.auditEvents(), Forbidden);
});
