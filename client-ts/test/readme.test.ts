// The README's Apollo and urql snippets are the example files that `npm run typecheck:examples`
// compiles, word for word.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const root = new URL("../../", import.meta.url);

test("the README shows the type-checked examples verbatim", () => {
  const readme = readFileSync(new URL("README.md", root), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
  for (const example of ["examples/apollo.ts", "examples/urql.ts"]) {
    const text = readFileSync(new URL(example, root), "utf8");
    assert.ok(blocks.includes(text), `README.md does not show ${example} as it is`);
  }
});
