// Every page a user reaches, in each state (the demo fleet signed out and signed in as an admin,
// and a new site with nothing in it), at 360 and 412 px and a desktop width, in light and dark:
// no horizontal scrolling, no word broken across lines, no text cut off, tap targets at least
// 44 px, and no axe-core violation of WCAG 2.1 A and AA. A screenshot of each is kept in
// ARTIFACTS_DIR/pages/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import {
  artifacts,
  collectPageErrors,
  launchBrowser,
  pageProblems,
  startServer,
  waitForDemoModels,
} from "./support.mjs";

const ADMIN_PASSWORD = "browser-accessibility-admin";
const WIDTHS = [360, 412, 1280];
const SCHEMES = ["light", "dark"];
const shots = path.join(artifacts, "pages");

let demo;
let empty;
let browser;

before(async () => {
  const env = { ...process.env, ICANTKUBE_ADMIN_PASSWORD: ADMIN_PASSWORD, RUST_LOG: "warn" };
  demo = await startServer({ ...env, ICANTKUBE_DEMO: "1" }, { database: "demo.db" });
  empty = await startServer(env, { database: "empty.db" });
  await waitForDemoModels(demo.base, 300);
  browser = await launchBrowser();
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  demo?.stop();
  empty?.stop();
});

/// A context per state: `signedIn` signs in as the admin through the login form.
async function context(base, { width, scheme, signedIn }) {
  // axe is injected as a script (pageProblems); the site's Content-Security-Policy would
  // refuse it.
  const ctx = await browser.newContext({
    viewport: { width, height: 800 },
    colorScheme: scheme,
    bypassCSP: true,
  });
  if (signedIn) {
    const page = await ctx.newPage();
    await page.goto(`${base}/login`);
    await page.fill('input[name="user"]', "admin");
    await page.fill('input[name="password"]', ADMIN_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button')]);
    await page.close();
  }
  return ctx;
}

async function check(base, pagePath, state, name) {
  const failures = [];
  for (const width of WIDTHS) {
    for (const scheme of SCHEMES) {
      const ctx = await context(base, { width, scheme, signedIn: state === "admin" });
      const page = await ctx.newPage();
      const errors = [];
      collectPageErrors(page, errors);
      await page.goto(`${base}${pagePath}`, { waitUntil: "load" });
      for (const details of await page.locator("details").all()) {
        await details.evaluate((d) => (d.open = true));
      }
      const where = `${name} (${state}, ${width} px, ${scheme})`;
      await page.screenshot({ path: path.join(shots, `${name}-${state}-${width}-${scheme}.png`), fullPage: true });
      for (const problem of await pageProblems(page)) failures.push(`${where}: ${problem}`);
      for (const error of errors) failures.push(`${where}: script error ${error}`);
      await ctx.close();
    }
  }
  assert.deepEqual(failures, [], failures.join("\n"));
}

async function firstMachine(base, profile) {
  const machines = await (await fetch(`${base}/api/v1/machines`)).json();
  return machines.find((m) => m.profile === profile).name;
}

const DEMO_PAGES = [
  ["fleet", () => "/"],
  ["mill", async (base) => `/machines/${await firstMachine(base, "ai4i2020")}`],
  ["engine", async (base) => `/machines/${await firstMachine(base, "turbofan")}`],
  ["alarms", () => "/alarms"],
  ["models", () => "/models"],
  ["training", () => "/training"],
  ["login", () => "/login"],
  ["not-found", () => "/machines/no-such-machine"],
];

for (const state of ["signed-out", "admin"]) {
  for (const [name, pathOf] of DEMO_PAGES) {
    test(`${name}, ${state}: fits a phone, reads whole, and has no axe violations`, async () => {
      await check(demo.base, await pathOf(demo.base), state, name);
    });
  }
}

for (const [name, pagePath] of [
  ["new-training", "/training/new"],
  ["users", "/users"],
]) {
  test(`${name}, admin: fits a phone, reads whole, and has no axe violations`, async () => {
    await check(demo.base, pagePath, "admin", name);
  });
}

for (const [name, pagePath] of [
  ["empty-fleet", "/"],
  ["empty-models", "/models"],
  ["empty-alarms", "/alarms"],
  ["empty-training", "/training"],
]) {
  test(`${name}: the empty state fits a phone and has no axe violations`, async () => {
    await check(empty.base, pagePath, "signed-out", name);
  });
}
