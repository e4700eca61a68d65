// Every page a user reaches, in each state (the demo fleet signed out and signed in as a viewer,
// an engineer and an admin, and a new site with nothing in it), at 360 and 412 px and a desktop
// width, in light and dark:
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
  keyboardProblems,
  launchBrowser,
  pageProblems,
  startServer,
  waitForDemoModels,
} from "./support.mjs";

const ADMIN_PASSWORD = "browser-accessibility-admin";
/// The users each signed-in state signs in as; the admin adds the others before the tests.
const USERS = {
  admin: { user: "admin", password: ADMIN_PASSWORD },
  engineer: { user: "eve.engineer", password: "engineer password 1" },
  viewer: { user: "vic.viewer", password: "viewer password 1" },
};
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
  const admin = await context(demo.base, { width: 1280, scheme: "light", state: "admin" });
  const page = await admin.newPage();
  for (const role of ["engineer", "viewer"]) {
    await page.goto(`${demo.base}/users`);
    const add = page.locator('form[action="/users"]');
    await add.locator('input[name="name"]').fill(USERS[role].user);
    await add.locator('select[name="role"]').selectOption(role);
    await add.locator('input[name="password"]').fill(USERS[role].password);
    await Promise.all([page.waitForURL(/done=/), add.locator('button[type="submit"]').click()]);
  }
  await admin.close();
});

after(async () => {
  await browser?.close();
  demo?.stop();
  empty?.stop();
});

/// A context per state: any but "signed-out" signs in as that state's user through the login
/// form.
async function context(base, { width, scheme, state, height = 800 }) {
  // axe is injected as a script (pageProblems); the site's Content-Security-Policy would
  // refuse it.
  const ctx = await browser.newContext({
    viewport: { width, height },
    colorScheme: scheme,
    bypassCSP: true,
  });
  if (state !== "signed-out") {
    const page = await ctx.newPage();
    await page.goto(`${base}/login`);
    await page.fill('input[name="user"]', USERS[state].user);
    await page.fill('input[name="password"]', USERS[state].password);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/login"] button')]);
    await page.close();
  }
  return ctx;
}

/// Checks a page in every width and scheme. `target` is the page's path, or a function that
/// takes a page of the context there (for pages no address leads to).
async function check(base, target, state, name, heading) {
  const failures = [];
  for (const width of WIDTHS) {
    for (const scheme of SCHEMES) {
      const ctx = await context(base, { width, scheme, state });
      const page = await ctx.newPage();
      const errors = [];
      collectPageErrors(page, errors);
      if (typeof target === "string") await page.goto(`${base}${target}`, { waitUntil: "load" });
      else await target(page, base);
      if (heading) assert.equal(await page.locator("h1").textContent(), heading);
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

for (const state of ["signed-out", "viewer", "engineer", "admin"]) {
  for (const [name, pathOf] of DEMO_PAGES) {
    test(`${name}, ${state}: fits a phone, reads whole, and has no axe violations`, async () => {
      await check(demo.base, await pathOf(demo.base), state, name);
    });
  }
}

// The admin's pages, and what a viewer gets there instead.
for (const [name, pagePath] of [
  ["new-training", "/training/new"],
  ["users", "/users"],
]) {
  for (const state of ["viewer", "admin"]) {
    test(`${name}, ${state}: fits a phone, reads whole, and has no axe violations`, async () => {
      await check(demo.base, pagePath, state, name);
    });
  }
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

// The forms with a phone's on-screen keyboard open: of a 360 × 740 px screen, 360 px of the
// page stay above the keyboard.
for (const [name, state, pathOf] of [
  ["login", "signed-out", () => "/login"],
  ["fleet", "signed-out", () => "/"],
  ["alarms", "engineer", () => "/alarms"],
  ["mill", "engineer", async (base) => `/machines/${await firstMachine(base, "ai4i2020")}`],
  ["models", "admin", () => "/models"],
  ["new-training", "admin", () => "/training/new"],
  ["users", "admin", () => "/users"],
]) {
  test(`${name}, ${state}: each form field can be filled with the on-screen keyboard open`, async () => {
    const ctx = await context(demo.base, { width: 360, height: 360, scheme: "light", state });
    const page = await ctx.newPage();
    await page.goto(`${demo.base}${await pathOf(demo.base)}`, { waitUntil: "load" });
    for (const details of await page.locator("details").all()) {
      await details.evaluate((d) => (d.open = true));
    }
    const problems = await keyboardProblems(page);
    await ctx.close();
    assert.deepEqual(problems, [], problems.join("\n"));
  });
}

/// Takes `page` to the refusal of a form posted to `action` from the fleet page without its
/// fields, as a form sent from a stale page or by someone without the right is refused.
function refusedForm(action) {
  return async (page, base) => {
    await page.goto(`${base}/`);
    await Promise.all([
      page.waitForNavigation(),
      page.evaluate((action) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = action;
        document.body.append(form);
        form.submit();
      }, action),
    ]);
  };
}

for (const [name, state, heading] of [
  ["refused-signed-out", "signed-out", "Sign in first"],
  ["refused-role", "viewer", "Not allowed"],
  ["refused-expired-form", "admin", "The form has expired"],
]) {
  test(`${name}: a refused form's page fits a phone and has no axe violations`, async () => {
    await check(demo.base, refusedForm("/users"), state, name, heading);
  });
}
