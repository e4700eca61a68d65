// The built site's files in a real browser: the page links the script, WebAssembly and
// stylesheet by content-hashed names, which come back immutable (so a second visit takes them
// from the cache without asking), and the precompressed copies the build left beside them are
// what a client accepting brotli or gzip gets. Needs ICANTKUBE_BIN and LEPTOS_SITE_ROOT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { serverAndBrowser } from "./support.mjs";

const HASHED = /^\/pkg\/icantkube\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/;
const IMMUTABLE = "public, max-age=31536000, immutable";

const run = serverAndBrowser({ ...process.env, RUST_LOG: "warn" });

/// GET without decoding: { status, headers, body } with the body as sent.
function rawGet(url, headers) {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    })
      .on("error", reject)
      .end();
  });
}

test("hashed files are cached for good, not asked for again, and sent as the build precompressed them", async () => {
  const context = await run.browser.newContext();
  // Each visit in a tab of its own, as a user coming back: the cache is the context's.
  const visit = async () => {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    const loads = [];
    cdp.on("Network.responseReceived", ({ response }) => {
      const { pathname } = new URL(response.url);
      if (pathname.startsWith("/pkg/")) {
        const headers = Object.fromEntries(
          Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), value]),
        );
        loads.push({ pathname, status: response.status, cached: response.fromDiskCache || response.fromMemoryCache, headers });
      }
    });
    await page.goto(`${run.server.base}/`, { waitUntil: "networkidle" });
    await page.close();
    return loads;
  };

  const first = await visit();
  const linked = [...new Set(first.map((load) => load.pathname))].sort();
  assert.equal(linked.length, 3, `script, WebAssembly and stylesheet: ${linked}`);
  for (const load of first) {
    assert.match(load.pathname, HASHED);
    assert.equal(load.headers["cache-control"], IMMUTABLE, load.pathname);
  }
  const second = await visit();
  assert.deepEqual(
    second.filter((load) => !load.cached).map((load) => `${load.pathname} ${load.status}`),
    [],
    "files the second visit asked the server for",
  );
  await context.close();

  const siteRoot = path.resolve(process.env.LEPTOS_SITE_ROOT);
  for (const pathname of linked) {
    for (const [encoding, suffix] of [["br", ".br"], ["gzip", ".gz"]]) {
      const response = await rawGet(`${run.server.base}${pathname}`, { "accept-encoding": encoding });
      assert.equal(response.status, 200, pathname);
      assert.equal(response.headers["content-encoding"], encoding, `${pathname} with ${encoding}`);
      assert.ok(
        response.body.equals(readFileSync(path.join(siteRoot, pathname + suffix))),
        `${pathname}: the ${encoding} copy on disk, sent as it is`,
      );
    }
  }
});
