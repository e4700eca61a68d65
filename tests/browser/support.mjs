// What the browser tests share: a real icantkube on a free port, and Debian's headless
// Chromium. Needs ICANTKUBE_BIN (the server binary) and LEPTOS_SITE_ROOT (the built site);
// screenshots go to ARTIFACTS_DIR (default: artifacts/ at the repository root).
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const repositoryRoot = path.resolve(import.meta.dirname, "..", "..");
export const artifacts = path.resolve(
  process.env.ARTIFACTS_DIR ?? path.join(repositoryRoot, "artifacts"),
);
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export async function waitReady(url, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/// Starts `icantkube serve` on a free port with a new SQLite database in a temporary folder
/// and waits until it is ready. `env` is the whole environment the server gets, apart from
/// the database, the addresses and the site root set here. Answers { base, stop }.
export async function startServer(env, { database = "icantkube.db", seconds = 60 } = {}) {
  const binary = process.env.ICANTKUBE_BIN;
  const siteRoot = process.env.LEPTOS_SITE_ROOT;
  assert.ok(binary, "set ICANTKUBE_BIN to the icantkube binary");
  assert.ok(siteRoot, "set LEPTOS_SITE_ROOT to the built site");
  mkdirSync(artifacts, { recursive: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), "icantkube-browser-"));
  const port = await freePort();
  // The metrics listener too: the defaults may be taken by an icantkube the user runs.
  const metricsPort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(binary, ["serve"], {
    env: {
      ...env,
      DATABASE_URL: `sqlite://${path.join(dataDir, database)}`,
      ICANTKUBE_LISTEN: `127.0.0.1:${port}`,
      ICANTKUBE_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      LEPTOS_SITE_ROOT: path.resolve(siteRoot),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const stop = () => {
    server.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitReady(base, seconds);
  } catch (error) {
    stop();
    throw error;
  }
  return { base, stop };
}

/// Demo mode trains its models in the background at first start: waits until it has
/// machines and each has been scored by its active model.
export async function waitForDemoModels(url, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const machines = await (await fetch(`${url}/api/v1/machines`)).json();
    const scored = machines.filter(
      (m) => m.active_model_version_id !== null && ["healthy", "warning", "critical"].includes(m.status),
    );
    if (machines.length > 0 && scored.length === machines.length) return;
    if (Date.now() > deadline) {
      throw new Error(`demo models not scoring after ${seconds} s: ${scored.length} of ${machines.length}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const LAUNCH = {
  executablePath: chromiumPath,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

/// For a test file with one server and one browser: starts both before its tests (the server
/// with `env`, as startServer takes it) and stops both after. Answers { server, browser },
/// filled in once the tests begin.
export function serverAndBrowser(env, options) {
  const started = {};
  before(async () => {
    started.server = await startServer(env, options);
    started.browser = await launchBrowser();
  });
  after(async () => {
    await started.browser?.close();
    started.server?.stop();
  });
  return started;
}

export function launchBrowser() {
  return chromium.launch(LAUNCH);
}

/// A browser with a profile of its own in `userDataDir`, as a user's browser is: a context of
/// `launchBrowser` is incognito, where Chromium installs no web app.
export function launchProfile(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, LAUNCH);
}

/// Collects a page's script errors into `errors`, with what its Content-Security-Policy
/// blocked (reported on the console, not as a page error).
export function collectPageErrors(page, errors) {
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
      errors.push(message.text());
    }
  });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/// What a phone user or assistive technology would trip over on the page as it is: layout
/// problems measured in the page, then axe-core's violations of WCAG 2.1 A and AA. The page's
/// context needs `bypassCSP: true`, since axe is injected as a script.
export async function pageProblems(page) {
  const problems = await page.evaluate(layoutProblems);
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.map(
      (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`,
    );
  });
  return [...problems, ...violations.map((v) => `axe ${v}`)];
}

/// Sideways scrolling, words broken across lines, text cut off, and tap targets under 44 px
/// (links inside a sentence excepted; a checkbox's target is its label). Runs in the page.
function layoutProblems() {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    problems.push(`scrolls sideways by ${root.scrollWidth - root.clientWidth} px`);
  }
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && style.visibility !== "hidden" && !el.closest("[hidden], details:not([open]) > :not(summary)");
  };
  const describe = (el) => `${el.tagName.toLowerCase()} "${(el.textContent || el.getAttribute("aria-label") || el.name || "").trim().replace(/\s+/g, " ").slice(0, 40)}"`;
  // Words broken across lines: a word of letters drawn on two lines.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("svg, script, style, pre, code") || !visible(parent)) continue;
    for (const match of node.data.matchAll(/[\p{L}]{2,}/gu)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) problems.push(`"${match[0]}" is broken across lines in ${describe(parent)}`);
    }
  }
  // Text cut off: a box that hides what it holds.
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg") || !visible(el) || !el.textContent.trim()) continue;
    const style = getComputedStyle(el);
    const clips = ["hidden", "clip"].includes(style.overflowX) || style.textOverflow === "ellipsis";
    if (clips && el.scrollWidth > el.clientWidth + 1) problems.push(`${describe(el)} is cut off`);
  }
  // Tap targets: controls at least 44 px each way, bar links inside a sentence.
  for (const el of document.body.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")) {
    if (!visible(el)) continue;
    const style = getComputedStyle(el);
    const inSentence = el.tagName === "A" && style.display === "inline" &&
      (el.parentElement.textContent.trim().length > el.textContent.trim().length);
    if (inSentence) continue;
    // A checkbox's target is its label.
    const target = el.matches("input[type=checkbox], input[type=radio]") ? el.closest("label") ?? el : el;
    const r = target.getBoundingClientRect();
    if (r.width < 44 || r.height < 44) {
      problems.push(`${describe(el)} is ${Math.round(r.width)}×${Math.round(r.height)} px`);
    }
  }
  return problems;
}


/// What gets in the way of filling the page's forms with a phone's on-screen keyboard open:
/// each field, focused as a tap focuses it, must be scrolled into what is left of the screen
/// and not lie under anything drawn over it; a number field must ask for the number pad
/// (`inputmode`), which `type="number"` alone does not on every phone.
export async function keyboardProblems(page) {
  return page.evaluate(async () => {
    const problems = [];
    const fields = [...document.querySelectorAll("input, select, textarea")].filter(
      (field) => field.type !== "hidden" && field.getClientRects().length > 0,
    );
    for (const field of fields) {
      const name = `${field.tagName.toLowerCase()}[name="${field.name}"]`;
      if (field.type === "number" && !["numeric", "decimal"].includes(field.inputMode)) {
        problems.push(`${name}: a number field without inputmode="numeric" or "decimal"`);
      }
      window.scrollTo(0, 0);
      field.focus();
      await new Promise((resolve) => requestAnimationFrame(resolve));
      if (document.activeElement !== field) {
        problems.push(`${name}: cannot take the focus`);
        continue;
      }
      const box = field.getBoundingClientRect();
      // A pixel of slack: layout rounds, and a field flush with the keyboard is in view.
      if (box.top < -1 || box.bottom > window.innerHeight + 1) {
        problems.push(`${name}: out of view when focused (${Math.round(box.top)}–${Math.round(box.bottom)} px of ${window.innerHeight})`);
        continue;
      }
      const x = box.left + Math.min(box.width / 2, 12);
      const hit = document.elementFromPoint(x, box.top + box.height / 2);
      const inLabel = [...(field.labels ?? [])].some((label) => label.contains(hit));
      if (hit && hit !== field && !field.contains(hit) && !inLabel) {
        problems.push(`${name}: under ${hit.tagName.toLowerCase()}${hit.className ? "." + hit.className : ""} when focused`);
      }
    }
    if (fields.length === 0) problems.push("no form field on the page");
    return problems;
  });
}
