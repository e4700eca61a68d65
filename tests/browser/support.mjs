// What the browser tests share: a real icantkube on a free port, and Debian's headless
// Chromium. Needs ICANTKUBE_BIN (the server binary) and LEPTOS_SITE_ROOT (the built site);
// screenshots go to ARTIFACTS_DIR (default: artifacts/ at the repository root).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
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

export function launchBrowser() {
  return chromium.launch({
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
  });
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
