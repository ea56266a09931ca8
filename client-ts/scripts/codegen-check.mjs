// Fails when src/generated/graphql.ts is not what codegen makes of ../schema.graphql and
// operations/*.graphql now (as the server's test fails on a stale schema.graphql).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const committed = "src/generated/graphql.ts";
const folder = mkdtempSync(join(tmpdir(), "codegen-"));
const fresh = join(folder, "graphql.ts");
try {
  const run = spawnSync("npx", ["graphql-codegen", "--config", "codegen.ts"], {
    env: { ...process.env, CODEGEN_OUT: fresh },
    stdio: "inherit",
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
  if (readFileSync(fresh, "utf8") !== readFileSync(committed, "utf8")) {
    console.error(`${committed} is stale: run \`npm run codegen\` in client-ts and commit it`);
    process.exit(1);
  }
  console.log(`${committed} is up to date`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
