// Browser tests: a real icantkube in demo mode, driven by Debian's headless Chromium.
// Needs ICANTKUBE_BIN (the server binary) and LEPTOS_SITE_ROOT (the built site); screenshots
// go to ARTIFACTS_DIR (default: artifacts/ at the repository root).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import {
  artifacts,
  collectPageErrors,
  launchBrowser,
  startServer,
  waitForDemoModels,
} from "./support.mjs";

let server;
let browser;
let base;
const ADMIN_PASSWORD = "browser-pages-admin";

before(async () => {
  server = await startServer(
    {
      ...process.env,
      ICANTKUBE_DEMO: "1",
      ICANTKUBE_DEMO_INTERVAL_MS: "1000",
      ICANTKUBE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      RUST_LOG: "warn",
    },
    { database: "demo.db" },
  );
  base = server.base;
  await waitForDemoModels(base, 300);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function openPage(url, viewport = { width: 1280, height: 900 }, colorScheme = "light") {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  const errors = [];
  collectPageErrors(page, errors);
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
      ["alarms", `${base}/alarms`],
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

async function signIn(page, user, password, next) {
  await page.locator('input[name="user"]').fill(user);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form[action="/login"] button[type="submit"]').click();
  await page.waitForURL(`${base}${next}`);
}

test("an admin adds an engineer on the users page at 375 px, and the engineer signs in", async () => {
  const phone = { width: 375, height: 812 };
  const admin = await openPage(`${base}/login?next=/users`, phone);
  assert.equal(await horizontalOverflow(admin.page), 0, "the sign-in page overflows at 375 px");
  await admin.page.screenshot({ path: path.join(artifacts, "login-phone.png"), fullPage: true });
  await signIn(admin.page, "admin", ADMIN_PASSWORD, "/users");
  const add = admin.page.locator('form[action="/users"]');
  await add.locator('input[name="name"]').fill("ana.lopez");
  await add.locator('select[name="role"]').selectOption("engineer");
  await add.locator('input[name="password"]').fill("engineer password 1");
  await add.locator('button[type="submit"]').click();
  await admin.page.waitForURL((url) => url.pathname === "/users" && url.searchParams.has("done"));
  assert.equal(
    await admin.page.locator('p.notice[role="status"]').textContent(),
    "Added ana.lopez as engineer.",
  );
  const card = admin.page.locator("li.user", { hasText: "ana.lopez" });
  assert.equal(await card.locator(".badge").first().textContent(), "engineer");
  assert.match(await card.textContent(), /added \d+ s ago by admin/);
  assert.equal(await horizontalOverflow(admin.page), 0, "the users page overflows at 375 px");
  await admin.page.screenshot({ path: path.join(artifacts, "users-phone.png"), fullPage: true });
  await admin.context.close();

  // The engineer, on a phone of their own: named in the header, no admin pages.
  const engineer = await openPage(`${base}/login`, phone);
  await signIn(engineer.page, "ana.lopez", "engineer password 1", "/");
  const signOut = engineer.page.locator('header.site-header form[action="/logout"] button');
  assert.equal(await signOut.textContent(), "Sign out ana.lopez");
  assert.equal(await engineer.page.locator('header.site-header a[href="/users"]').count(), 0);
  assert.equal(await horizontalOverflow(engineer.page), 0, "the fleet page overflows signed in");
  // The demo's riskier machines have alarms, which an engineer may acknowledge.
  await engineer.page.goto(`${base}/alarms`);
  assert.ok((await engineer.page.locator("li.alarm").count()) > 0, "the demo fleet has alarms");
  assert.ok((await engineer.page.locator('form[action$="/clear"]').count()) > 0);
  assert.equal(await horizontalOverflow(engineer.page), 0, "the alarms page overflows signed in");
  await engineer.page.screenshot({ path: path.join(artifacts, "alarms-phone.png"), fullPage: true });
  // The maintenance form on a machine's page fits the phone too.
  await engineer.page.goto(`${base}/machines/mill-01#maintenance`);
  const form = engineer.page.locator('form[action="/machines/mill-01/maintenance"]');
  assert.equal(await form.count(), 1, "an engineer gets the maintenance form");
  assert.equal(await horizontalOverflow(engineer.page), 0, "the machine page overflows with its form");
  await form.screenshot({ path: path.join(artifacts, "maintenance-form-phone.png") });
  await engineer.page.goto(`${base}/users`);
  assert.equal(
    await engineer.page.locator("p.notice", { hasText: "as admin to manage users" }).count(),
    1,
  );
  assert.equal(await engineer.page.locator('form[action="/users"]').count(), 0);
  await engineer.context.close();
});

// Every kind of chart the pages draw, found where a user finds it.
const CHART_KINDS = [
  { kind: "sensor-trend-with-limits", page: "mill", svgText: /(warning|critical) (above|below) / },
  { kind: "failure-probability", page: "mill", title: /^Failure probability$/ },
  { kind: "remaining-life", page: "/machines/engine-02", title: /^Remaining life/ },
  { kind: "confusion-matrix", page: "/models", title: /^Confusion matrix$/ },
  { kind: "roc-curve", page: "/models", title: /^ROC curve$/ },
  { kind: "precision-recall", page: "/models", title: /^Precision-recall curve$/ },
  { kind: "calibration", page: "/models", title: /^Calibration$/ },
  { kind: "feature-importance", page: "/models", title: /^Feature importance$/ },
  { kind: "residuals", page: "/models", title: /^Predicted vs actual remaining life$/ },
];

// Relative luminance of a CSS rgb() colour, 0 (black) to 1 (white).
function luminance(css) {
  const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// The first figure on the page matching the kind; plots in closed details are opened.
async function findChart(page, kind) {
  for (const details of await page.locator("details.plots").all()) {
    await details.evaluate((d) => (d.open = true));
  }
  for (const figure of await page.locator("figure.chart").all()) {
    const title = (await figure.locator("figcaption").textContent()).trim();
    const text = (await figure.locator("svg text").allTextContents()).join(" ");
    if ((kind.title && kind.title.test(title)) || (kind.svgText && kind.svgText.test(text))) {
      return figure;
    }
  }
  return null;
}

// A milling machine whose page draws a sensor's model limits (the demo's riskier mills do).
async function millWithLimits() {
  const machines = await (await fetch(`${base}/api/v1/machines`)).json();
  const mills = machines
    .filter((m) => m.profile === "ai4i2020")
    .sort((a, b) => (b.failure_probability ?? 0) - (a.failure_probability ?? 0));
  for (const mill of mills) {
    const html = await (await fetch(`${base}/machines/${mill.name}`)).text();
    if (CHART_KINDS[0].svgText.test(html)) return `/machines/${mill.name}`;
  }
  throw new Error(`no milling machine page draws a sensor limit: ${mills.map((m) => m.name)}`);
}

test("every chart kind has a title and a text alternative, fits a phone and follows the colour scheme", async () => {
  const mill = await millWithLimits();
  const width = 375;
  for (const scheme of ["light", "dark"]) {
    for (const kind of CHART_KINDS) {
      const url = `${base}${kind.page === "mill" ? mill : kind.page}`;
      const { page, context, errors } = await openPage(url, { width, height: 812 }, scheme);
      const figure = await findChart(page, kind);
      assert.ok(figure, `${kind.kind}: no such chart on ${url}`);
      assert.notEqual((await figure.locator("figcaption").textContent()).trim(), "", kind.kind);
      const alternative = await figure.locator(".chart-svg").getAttribute("aria-label");
      assert.ok(alternative && alternative.length > 20, `${kind.kind}: text alternative ${alternative}`);
      assert.equal(await figure.locator(".chart-svg").getAttribute("role"), "img");

      const svg = figure.locator(".chart-svg > svg");
      const box = await svg.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= width, `${kind.kind} sticks out: ${JSON.stringify(box)}`);
      // Axis labels and numbers stay readable when the chart shrinks to a phone's width: the
      // font size as shown, the SVG's own scaled by how much the chart shrank.
      const texts = await svg.locator("text").evaluateAll((all) =>
        all
          .filter((t) => t.textContent.trim() !== "")
          .map((t) => {
            const svg = t.ownerSVGElement;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return { text: t.textContent.trim(), size: parseFloat(getComputedStyle(t).fontSize) * scale };
          }),
      );
      assert.ok(texts.length > 0, `${kind.kind} has no text`);
      const smallest = texts.reduce((a, b) => (b.size < a.size ? b : a));
      assert.ok(
        smallest.size >= 10,
        `${kind.kind}: "${smallest.text}" shown at ${smallest.size.toFixed(1)} px at ${width} px wide`,
      );

      // Text drawn in the foreground colour follows the scheme: dark on light, light on dark.
      const surface = luminance(await figure.evaluate((f) => getComputedStyle(f).backgroundColor));
      const fills = await svg.locator("text").evaluateAll((texts) =>
        texts.map((t) => getComputedStyle(t).fill),
      );
      const plain = fills.filter((f) => /^rgb\(/.test(f)).map(luminance);
      const contrast = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      const worst = Math.min(...plain.map((l) => contrast(l, surface)));
      assert.ok(worst >= 3, `${kind.kind} (${scheme}): text contrast ${worst.toFixed(2)} on its surface`);
      if (scheme === "dark") assert.ok(surface < 0.1, `dark surface ${surface}`);

      await figure.scrollIntoViewIfNeeded();
      await figure.screenshot({ path: path.join(artifacts, `chart-${kind.kind}-${scheme}.png`) });
      assert.deepEqual(errors, [], `${kind.kind}: page errors`);
      await context.close();
    }
  }
});

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
