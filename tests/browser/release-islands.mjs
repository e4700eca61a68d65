// The islands as a release build ships them: cargo-leptos optimises the release WebAssembly
// with wasm-opt, which the debug build the other tests use skips. Debian's wasm-opt (Binaryen
// 108) once broke it without a sign at build time: the module's externref table export pointed
// at the function table, and every page's islands failed to start. Needs ICANTKUBE_BIN and
// LEPTOS_SITE_ROOT set to a site built with `--release` (scripts/test.sh builds one); not a
// `.test.mjs`, so the debug suite (`node --test tests/browser/`) leaves it out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { collectPageErrors, serverAndBrowser } from "./support.mjs";

const run = serverAndBrowser({ ...process.env, ICANTKUBE_DEMO: "1", RUST_LOG: "warn" });

test("the release islands start and work, with no script error", async () => {
  const context = await run.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  collectPageErrors(page, errors);
  const wasm = [];
  page.on("response", async (response) => {
    if (new URL(response.url()).pathname.endsWith(".wasm")) wasm.push((await response.body()).length);
  });
  await page.goto(`${run.server.base}/`, { waitUntil: "networkidle" });
  // An optimised module: the unoptimised one is twice the size, a debug one six times.
  assert.equal(wasm.length, 1, "the page loads its WebAssembly once");
  assert.ok(wasm[0] < 150_000, `the WebAssembly is ${wasm[0]} bytes: not a release build`);
  // Only the hydrated island turns the switch off.
  await page.locator("button.live").click();
  await page.waitForFunction(
    () => document.querySelector("button.live")?.getAttribute("aria-pressed") === "false",
    null,
    { timeout: 15000 },
  );
  assert.equal(await page.locator("button.live").textContent(), "❚❚ Paused");
  assert.deepEqual(errors, []);
  await context.close();
});
