// Browser tests: a real icantkube in demo mode, driven by Debian's headless Chromium.
// Needs ICANTKUBE_BIN (the server binary) and LEPTOS_SITE_ROOT (the built site); screenshots
// go to ARTIFACTS_DIR (default: artifacts/ at the repository root).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { artifacts, launchBrowser, startServer } from "./support.mjs";

let server;
let browser;
let base;

// Demo mode trains its models in the background at first start; the pages are tested once
// every machine has been scored by one.
async function waitForModels(url, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const machines = await (await fetch(`${url}/api/v1/machines`)).json();
    const scored = machines.filter(
      (m) => m.active_model_version_id !== null && ["healthy", "warning", "critical"].includes(m.status),
    );
    if (scored.length === machines.length) return;
    if (Date.now() > deadline) {
      throw new Error(`demo models not scoring after ${seconds} s: ${scored.length} of ${machines.length}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  server = await startServer(
    {
      ...process.env,
      ICANTKUBE_DEMO: "1",
      ICANTKUBE_DEMO_INTERVAL_MS: "1000",
      RUST_LOG: "warn",
    },
    { database: "demo.db" },
  );
  base = server.base;
  await waitForModels(base, 300);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function openPage(url, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const response = await page.goto(url, { waitUntil: "load" });
  return { page, context, response, errors };
}

async function horizontalOverflow(page) {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

test("the fleet page lists the demo machines with their latest values", async () => {
  const { page, context, response } = await openPage(`${base}/`);
  assert.equal(response.status(), 200);
  const names = await page.locator(".card .machine-name").allTextContents();
  assert.equal(names.length, 12, `cards: ${names.join(", ")}`);
  for (const name of ["mill-01", "mill-09", "engine-01", "engine-03"]) {
    assert.ok(names.includes(name), `${name} is missing from ${names.join(", ")}`);
  }
  const mill = page.locator(".card", { hasText: "mill-01" });
  assert.equal(await mill.locator(".value").count(), 5, "a milling machine shows its five sensors");
  assert.match(await mill.locator(".risk").first().textContent(), /% failure risk$/);
  const engine = page.locator(".card", { hasText: "engine-02" });
  assert.match(await engine.locator(".risk").first().textContent(), /^\d+ cycles left \(\d+–\d+\)$/);
  // Most at risk first: no healthy card before a warning or critical one.
  const statuses = await page.locator(".card").evaluateAll((cards) => cards.map((c) => c.dataset.status));
  const urgency = { critical: 3, warning: 2, training: 1, healthy: 0, unknown: -1 };
  for (let i = 1; i < statuses.length; i++) {
    assert.ok(urgency[statuses[i - 1]] >= urgency[statuses[i]], `order: ${statuses.join(", ")}`);
  }
  assert.equal(await page.title(), "Fleet · icantkube");
  await page.screenshot({ path: path.join(artifacts, "fleet-desktop.png"), fullPage: true });
  await context.close();
});

test("a machine page shows its prediction history and a chart per sensor", async () => {
  const { page, context, response } = await openPage(`${base}/`);
  assert.equal(response.status(), 200);
  await page.locator(".card a", { hasText: "engine-02" }).click();
  await page.waitForURL(`${base}/machines/engine-02`);
  const charts = page.locator("figure.chart svg");
  assert.equal(await charts.count(), 15, "the prediction history and one chart per turbofan sensor");
  // The trend is the one line in the chart's own blue; the grid lines are polylines too.
  const lines = await page.locator('figure.chart svg polyline[stroke="#2563eb" i]').count();
  assert.equal(lines, 15, "every chart draws its line");
  const history = page.locator("figure.chart", { hasText: "Remaining life (cycles)" });
  assert.equal(await history.locator("svg polygon").count(), 1, "the interval is shaded");
  assert.match(await page.locator(".prediction").textContent(), /Remaining life\d+ cycles left/);
  assert.match(await page.locator(".prediction").textContent(), /Modelturbofan v1/);
  const label = await page.locator("figure.chart .chart-svg").first().getAttribute("aria-label");
  assert.match(label, /over the last \d+ readings/);
  await page.screenshot({ path: path.join(artifacts, "machine-desktop.png"), fullPage: true });
  await context.close();
});

test("a milling machine page names its model and what drives its risk", async () => {
  const { page, context, response } = await openPage(`${base}/machines/mill-04`);
  assert.equal(response.status(), 200);
  const facts = await page.locator(".prediction").textContent();
  assert.match(facts, /Failure probability\d+(\.\d)? %/);
  assert.match(facts, /Modelai4i2020 v1/);
  const history = page.locator("figure.chart", { hasText: "Failure probability" });
  assert.equal(await history.count(), 1);
  // The warning and critical bands sit behind the line.
  assert.ok((await history.locator("svg rect").count()) >= 2);
  await page.screenshot({ path: path.join(artifacts, "machine-mill-desktop.png"), fullPage: true });
  await context.close();
});

for (const width of [360, 375]) {
  test(`no horizontal scrolling at ${width} px wide`, async () => {
    for (const [name, url] of [
      ["fleet", `${base}/`],
      ["machine", `${base}/machines/mill-03`],
    ]) {
      const { page, context } = await openPage(url, { width, height: 812 });
      assert.equal(await horizontalOverflow(page), 0, `${name} page overflows at ${width} px`);
      if (width === 375) {
        await page.screenshot({ path: path.join(artifacts, `${name}-phone.png`), fullPage: true });
      }
      await context.close();
    }
  });
}

test("the live island hydrates and refreshes the fleet without a reload", async () => {
  const { page, context, errors } = await openPage(`${base}/`);
  const live = page.locator("button.live");
  // Hydration wires the click handler: the button only toggles once the WebAssembly ran.
  await page.waitForFunction(() => document.querySelector("leptos-island") !== null);
  await page.waitForLoadState("networkidle");
  await live.click();
  await page.waitForFunction(
    () => document.querySelector("button.live")?.getAttribute("aria-pressed") === "false",
    null,
    { timeout: 15000 },
  );
  await live.click();
  const before = await page.locator(".card .values").first().textContent();
  await page.evaluate(() => {
    window.__marker = "same document";
  });
  await page.waitForFunction(
    (old) => document.querySelector(".card .values")?.textContent !== old,
    before,
    { timeout: 30000 },
  );
  assert.equal(await page.evaluate(() => window.__marker), "same document");
  assert.deepEqual(errors, []);
  await context.close();
});
