// Automatic persisted queries, spoken to a small APQ front (Apollo's protocol as the contract
// states it) that hands every resolved document on to the live server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { test } from "node:test";
import { AccountsClient, MeDocument, PersistedQueryNotFound, type TypedDocument } from "../src/index.js";
import { AGENT, env } from "./helpers.js";

interface Body {
  query?: string;
  variables?: unknown;
  extensions?: { persistedQuery?: { version: number; sha256Hash: string } };
}

function apqFront(received: Body[]) {
  const stored = new Map<string, string>();
  return createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString()));
    request.on("end", async () => {
      const body = JSON.parse(text) as Body;
      received.push(body);
      const hash = body.extensions?.persistedQuery?.sha256Hash ?? "";
      if (body.query !== undefined) {
        assert.equal(createHash("sha256").update(body.query).digest("hex"), hash);
        stored.set(hash, body.query);
      }
      const query = stored.get(hash);
      if (query === undefined) {
        const code = PersistedQueryNotFound.code;
        response.end(JSON.stringify({ errors: [{ message: "PersistedQueryNotFound", extensions: { code } }] }));
        return;
      }
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      for (const name of ["authorization", "user-agent"]) {
        const value = request.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      const answer = await fetch(`${env.url}/graphql`, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables: body.variables }),
      });
      response.end(await answer.text());
    });
  });
}

test("a document goes as its hash, with its text only the first time", async () => {
  const received: Body[] = [];
  const front = apqFront(received);
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  const address = front.address();
  const port = typeof address === "object" && address ? address.port : 0;
  try {
    const api = new AccountsClient(`http://127.0.0.1:${port}`, { userAgent: AGENT, persistedQueries: true });
    await api.login(env.adminEmail, env.password);
    assert.equal((await api.me()).email, env.adminEmail);
    assert.equal((await api.me()).email, env.adminEmail);
    const hash = createHash("sha256").update(MeDocument).digest("hex");
    const me = received.filter((body) => body.extensions?.persistedQuery?.sha256Hash === hash);
    assert.deepEqual(
      me.map((body) => body.query !== undefined),
      [false, true, false],
      "unknown hash, then hash and text, then the hash alone",
    );
    assert.ok(received.every((body) => body.extensions?.persistedQuery?.version === 1));
  } finally {
    front.close();
  }
});

test("the server itself: an unknown hash, then hash and text, then the hash alone", async () => {
  const sent: Body[] = [];
  const recording: typeof fetch = async (input, init) => {
    sent.push(JSON.parse(String(init?.body)) as Body);
    return await fetch(input, init);
  };
  const api = new AccountsClient(env.url, { userAgent: AGENT, persistedQueries: true, fetch: recording });
  await api.login(env.adminEmail, env.password);
  // a document no earlier run can have stored on this server
  const text = `query Persisted${process.pid}x${Date.now()} { me { email } }`;
  const document = text as TypedDocument<{ me: { email: string } }, Record<string, never>>;
  assert.equal((await api.request(document)).me.email, env.adminEmail);
  assert.equal((await api.request(document)).me.email, env.adminEmail);
  const hash = createHash("sha256").update(text).digest("hex");
  const mine = sent.filter((body) => body.extensions?.persistedQuery?.sha256Hash === hash);
  assert.deepEqual(
    mine.map((body) => body.query !== undefined),
    [false, true, false],
  );
  const unknown = await fetch(`${env.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }),
  });
  assert.equal(unknown.status, 400);
  const answer = (await unknown.json()) as { errors: { extensions: { code: string } }[] };
  assert.equal(answer.errors[0]?.extensions.code, PersistedQueryNotFound.code);
});
