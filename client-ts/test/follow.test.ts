// followExport: the job's states live over SSE, from the server and from a scripted stream.
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import { test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { AccountsClient, Forbidden, NetworkError, NotFound, type ExportJob } from "../src/index.js";
import { AGENT, admin, env, user } from "./helpers.js";

test("followExport yields the job until it finishes, rows counted up", async () => {
  const api = await admin();
  const queued = await api.exportUsers();
  const states: ExportJob[] = [];
  for await (const job of api.followExport(queued.id, { signal: AbortSignal.timeout(30_000) })) states.push(job);
  const last = states.at(-1);
  assert.ok(last, "at least the job as it is");
  assert.equal(last.status, "FINISHED", JSON.stringify(states));
  assert.ok(last.rowCount !== null && last.rowCount >= 1);
  assert.equal(last.rowsDone, last.rowCount);
  const done = states.map((job) => job.rowsDone);
  assert.deepEqual(done, [...done].sort((a, b) => a - b), "rowsDone never goes back");
  assert.equal((await api.downloadExport(last)).trim().split("\n").length, last.rowCount + 1);
});

test("followExport: who may follow, and an expired token renewed first", async () => {
  const boss = await admin();
  const job = await boss.exportUsers({ email: env.adminEmail });
  const { api } = await user("follower");
  await assert.rejects(api.followExport(job.id).next(), Forbidden);
  await assert.rejects(boss.followExport("no-such-job").next(), NotFound);

  const short = await admin(env.shortTokensUrl);
  const expired = short.accessToken;
  await delay(3500);
  const states = [];
  for await (const state of short.followExport(job.id, { signal: AbortSignal.timeout(30_000) })) {
    states.push(state.status);
  }
  assert.equal(states.at(-1), "FINISHED");
  assert.notEqual(short.accessToken, expired, "renewed once, then followed");
});

/** A server that answers every POST with `script`, written chunk by chunk. */
async function scripted(script: (response: ServerResponse) => Promise<void>) {
  const closed: boolean[] = [];
  const server = createServer((request, response) => {
    response.on("close", () => closed.push(true));
    request.resume();
    void script(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, closed, server };
}

const job = (status: string, rowsDone: number) =>
  JSON.stringify({ data: { exportJob: { id: "j", status, rowCount: 2, rowsDone, downloadUrl: null, error: null, createdAt: "t", finishedAt: null } } });

test("the event stream: comments, CRLF and split chunks; leaving early closes it", async () => {
  const { url, closed, server } = await scripted(async (response) => {
    response.writeHead(200, { "Content-Type": "text/event-stream" });
    const text = `: ping\r\n\r\nevent: next\r\ndata: ${job("STARTED", 0)}\r\n\r\nevent: next\ndata: ${job("STARTED", 1)}\n\n`;
    for (let at = 0; at < text.length; at += 7) {
      response.write(text.slice(at, at + 7));
      await delay(1);
    }
    // then silence: the stream stays open until the client leaves
  });
  try {
    const api = new AccountsClient(url, { userAgent: AGENT, accessToken: "t" });
    const seen: number[] = [];
    for await (const state of api.followExport("j")) {
      seen.push(state.rowsDone);
      if (state.rowsDone === 1) break;
    }
    assert.deepEqual(seen, [0, 1]);
    for (let wait = 0; closed.length === 0 && wait < 50; wait += 1) await delay(20);
    assert.deepEqual(closed, [true], "the connection is closed when the loop is left");
  } finally {
    server.close();
  }
});

test("a stream that stops before complete is a NetworkError; FAILED ends the walk", async () => {
  const { url, server } = await scripted(async (response) => {
    response.writeHead(200, { "Content-Type": "text/event-stream" });
    response.end(`event: next\ndata: ${job("STARTED", 0)}\n\n`);
  });
  const failing = await scripted(async (response) => {
    response.writeHead(200, { "Content-Type": "text/event-stream" });
    response.write(`event: next\ndata: ${job("FAILED", 1)}\n\n`);
    response.write(`event: next\ndata: ${job("STARTED", 9)}\n\n`);
  });
  try {
    const cut = new AccountsClient(url, { accessToken: "t" }).followExport("j");
    assert.equal((await cut.next()).value?.status, "STARTED");
    await assert.rejects(cut.next(), NetworkError);
    const states = [];
    for await (const state of new AccountsClient(failing.url, { accessToken: "t" }).followExport("j")) {
      states.push(state.status);
    }
    assert.deepEqual(states, ["FAILED"]);
  } finally {
    server.close();
    failing.server.close();
    failing.server.closeAllConnections();
  }
});
