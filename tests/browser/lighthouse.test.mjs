// Lighthouse's four categories (mobile) score 100 on every page a user reaches: the demo
// fleet signed out and signed in as an admin, and a new site's empty states. Scores, not
// timings, are asserted: Lighthouse simulates a phone on a slow network from one trace, so its
// scores hold from run to run where its milliseconds do not.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CATEGORIES, scoreSite } from "./lighthouse.mjs";
import { startServer, waitForDemoModels } from "./support.mjs";

const ADMIN_PASSWORD = "browser-lighthouse-admin";
let demo;
let empty;

before(async () => {
  const env = { ...process.env, ICANTKUBE_ADMIN_PASSWORD: ADMIN_PASSWORD, RUST_LOG: "warn" };
  demo = await startServer({ ...env, ICANTKUBE_DEMO: "1" }, { database: "demo.db" });
  empty = await startServer(env, { database: "empty.db" });
  await waitForDemoModels(demo.base, 300);
});

after(() => {
  demo?.stop();
  empty?.stop();
});

function assertPerfect(results) {
  const short = results.filter((r) => CATEGORIES.some((c) => r.scores[c] < 100));
  for (const r of results) {
    console.log(`${r.page} (${r.state}): ${CATEGORIES.map((c) => `${c} ${r.scores[c]}`).join(", ")}`);
  }
  assert.deepEqual(
    short.map((r) => `${r.page} (${r.state}): ${JSON.stringify(r.scores)}; ${r.costly.join("; ")}`),
    [],
  );
}

test("every page of the demo fleet scores 100, signed out and as an admin", async () => {
  const results = await scoreSite(demo.base, ADMIN_PASSWORD);
  assert.ok(results.length >= 16, `${results.length} pages scored`);
  assertPerfect(results);
});

test("a new site's empty pages score 100", async () => {
  assertPerfect(await scoreSite(empty.base));
});
