// The web app on a phone: Chromium finds it installable, and once a page has been visited,
// losing the network shows the offline page the service worker kept (public/sw.js) instead of
// the browser's error. The server is stopped to take the network away, as a phone out of
// coverage finds it. Needs ICANTKUBE_BIN and LEPTOS_SITE_ROOT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  artifacts,
  collectPageErrors,
  launchProfile,
  pageProblems,
  serverAndBrowser,
} from "./support.mjs";

const run = serverAndBrowser({ ...process.env, RUST_LOG: "warn" });

/// Waits until the page's service worker is active and controls the page.
async function serviceWorkerReady(page) {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) =>
        navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }),
      );
    }
    const worker = registration.active;
    if (worker.state !== "activated") {
      await new Promise((resolve) =>
        worker.addEventListener("statechange", () => worker.state === "activated" && resolve()),
      );
    }
    return { scope: registration.scope, state: worker.state };
  });
}

test("Chromium finds the site installable from its manifest", async () => {
  const profile = mkdtempSync(path.join(tmpdir(), "icantkube-profile-"));
  const context = await launchProfile(profile);
  try {
    const page = await context.newPage();
    const errors = [];
    collectPageErrors(page, errors);
    await page.goto(`${run.server.base}/`, { waitUntil: "load" });
    assert.deepEqual(await serviceWorkerReady(page), { scope: `${run.server.base}/`, state: "activated" });
    const cdp = await context.newCDPSession(page);
    const manifest = await cdp.send("Page.getAppManifest");
    assert.deepEqual(manifest.errors, [], "manifest errors");
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    assert.deepEqual(installabilityErrors, [], "installability errors");
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("with the network gone, a page visited before says offline instead of the browser's error", async () => {
  const context = await run.browser.newContext({ viewport: { width: 360, height: 740 }, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${run.server.base}/training`, { waitUntil: "load" });
  await serviceWorkerReady(page);
  run.server.stop();
  const response = await page.goto(`${run.server.base}/alarms`, { waitUntil: "load" });
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), "Offline · icantkube");
  assert.equal(await page.locator("h1").textContent(), "You are offline");
  // "Try again" asks for the page the user wanted, not the offline page.
  assert.equal(
    await page.locator("a", { hasText: "Try again" }).evaluate((a) => a.href),
    `${run.server.base}/alarms`,
  );
  assert.deepEqual(await pageProblems(page), []);
  await page.screenshot({ path: path.join(artifacts, "offline-360.png"), fullPage: true });
  await context.close();
});
