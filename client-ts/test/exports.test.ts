// The export helpers: request a job, poll it, download its CSV (with the token only at home).
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { test } from "node:test";
import { ExportError, NetworkError, NotFound, type ExportJob } from "../src/index.js";
import { admin, env } from "./helpers.js";

test("request, poll, download", async () => {
  const api = await admin();
  const queued = await api.exportUsers({ email: env.adminEmail });
  assert.ok(["QUEUED", "STARTED", "FINISHED"].includes(queued.status));
  const job = await api.waitForExport(queued.id, { intervalMs: 100, timeoutMs: 30_000 });
  assert.equal(job.status, "FINISHED");
  assert.equal(job.rowCount, 1);
  const csv = await api.downloadExport(job);
  assert.match(csv, new RegExp(env.adminEmail.replace(".", "\\.")));
  assert.equal(csv.trim().split("\n").length, 2, "a header and one row");
  assert.equal(await api.downloadExport(job.id), csv);

  const all = await api.adminExportUsers({ email: env.adminEmail });
  assert.match(all, new RegExp(env.adminEmail.replace(".", "\\.")));
});

test("an unknown job is NotFound, and a job without a file is an ExportError", async () => {
  const api = await admin();
  await assert.rejects(api.exportJob("no-such-job"), NotFound);
  await assert.rejects(api.downloadExport("no-such-job"), NotFound);
  const unfinished: ExportJob = {
    id: "j",
    status: "STARTED",
    rowCount: null,
    rowsDone: 0,
    downloadUrl: null,
    error: null,
    createdAt: "2026-01-01T00:00:00+00:00",
    finishedAt: null,
  };
  await assert.rejects(api.downloadExport(unfinished), ExportError);
});

test("the access token goes only to the API's own origin", async () => {
  const received: IncomingHttpHeaders[] = [];
  const stranger = createServer((request, response) => {
    received.push(request.headers);
    response.end("id,email\n");
  });
  await new Promise<void>((resolve) => stranger.listen(0, "127.0.0.1", resolve));
  const address = stranger.address();
  const port = typeof address === "object" && address ? address.port : 0;
  try {
    const api = await admin();
    const elsewhere = (url: string): ExportJob => ({
      id: "j",
      status: "FINISHED",
      rowCount: 0,
      rowsDone: 0,
      downloadUrl: url,
      error: null,
      createdAt: "2026-01-01T00:00:00+00:00",
      finishedAt: "2026-01-01T00:00:00+00:00",
    });
    assert.equal(await api.downloadExport(elsewhere(`http://127.0.0.1:${port}/admin/jobs/j/download`)), "id,email\n");
    // fetch refuses a URL with credentials in it, before anything is sent anywhere.
    const disguised = `http://${new URL(env.url).host}@127.0.0.1:${port}/admin/jobs/j/download`;
    await assert.rejects(api.downloadExport(elsewhere(disguised)), NetworkError);
    assert.equal(received.length, 1);
    for (const headers of received) assert.equal(headers.authorization, undefined);
  } finally {
    stranger.close();
  }
});
