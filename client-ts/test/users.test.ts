// Admin work on users: etags, soft delete and restore, the last admin, paging by cursor.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Forbidden, LastAdmin, VersionConflict } from "../src/index.js";
import { admin, email, env, user } from "./helpers.js";

test("admin CRUD with etags", async () => {
  const api = await admin();
  const created = await api.createUser({ name: "Cy", email: email("cy"), password: env.password });
  assert.equal(created.role, "USER");
  const updated = await api.updateUser(created.id, { name: "Cyd" }, { ifMatch: created.etag });
  assert.equal(updated.version, created.version + 1);
  const stale = await api
    .updateUser(created.id, { name: "x" }, { ifMatch: created.etag })
    .then(() => assert.fail("a stale etag was accepted"))
    .catch((error: unknown) => error);
  assert.ok(stale instanceof VersionConflict);
  assert.equal(stale.currentEtag, updated.etag);
  assert.deepEqual(await api.user(created.id), updated);

  await assert.rejects(api.deleteUser(created.id, { ifMatch: created.etag }), VersionConflict);
  await api.deleteUser(created.id, { ifMatch: updated.etag });
  assert.equal(await api.user(created.id), null);
  const restored = await api.restoreUser(created.id);
  assert.equal(restored.deletedAt, null);
  assert.equal((await api.user(created.id))?.name, "Cyd");
});

test("the last admin stays an admin", async () => {
  const api = await admin();
  const me = await api.me();
  await assert.rejects(api.updateUser(me.id, { role: "USER" }), LastAdmin);
  await assert.rejects(api.deleteUser(me.id), LastAdmin);
  assert.equal((await api.me()).role, "ADMIN");
});

test("a user may not list users", async () => {
  const { api } = await user("nosy");
  await assert.rejects(api.users(), Forbidden);
});

test("iterUsers follows cursors through every user once", async () => {
  const api = await admin();
  for (const label of ["walk-a", "walk-b", "walk-c"]) {
    await api.createUser({ name: label, email: email(label), password: env.password });
  }
  const page = await api.users({ perPage: 100, sort: "ASC", sortBy: "ID" });
  assert.ok(page.pageInfo.total >= 4);
  const walked = [];
  for await (const found of api.iterUsers({ perPage: 2 })) walked.push(found.id);
  assert.deepEqual(walked, page.items.map((found) => found.id));
  const named = await api.users({ filter: { name: "walk-" } });
  assert.equal(named.pageInfo.total, 3);
  assert.equal(named.pageInfo.hasPreviousPage, false);
});
