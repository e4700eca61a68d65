// Retraining from the web, end to end in headless Chromium: an admin signs in, uploads AI4I
// rows, trains, watches the run, compares versions, promotes and rolls back, and the next
// reading is scored by the version active on the machine.
//
// A clean icantkube (no demo fleet) with one AI4I machine, mill-7. The data: the AI4I 2020 dev
// rows from ../shared/data/ai4i2020-dev.csv when that file exists, otherwise (or with
// ICANTKUBE_TEST_GENERATED_AI4I=1) a CSV generated here by the data set's published rules.
// Screenshots of each step go to ARTIFACTS_DIR as training-<step>-<what>.png.
//
// The steps are one story and share one signed-in browser: after a failed step the later ones
// are skipped (naming the failed step) rather than failing for the same reason again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  artifacts,
  collectPageErrors,
  launchBrowser,
  pageProblems,
  repositoryRoot,
  startServer,
} from "./support.mjs";

const PASSWORD = "browser-test-admin";
const INGEST_TOKEN = "browser-test-ingest-token";
const MACHINE = "mill-7";
const PROFILE = "ai4i2020";
const SHARED_CSV = path.resolve(repositoryRoot, "..", "shared", "data", "ai4i2020-dev.csv");

let server;
let browser;
let context;
let page;
let csvDir;
const data = {};
// What the steps learn and later steps use.
const found = {};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Polls `probe` until it answers something truthy; fails naming `what` and the last answer.
async function until(what, seconds, probe, every = 200) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${seconds} s waiting for ${what}; last seen: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

async function shot(name) {
  await page.screenshot({ path: path.join(artifacts, `training-${name}.png`), fullPage: true });
}

function admin() {
  return { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}` };
}

async function machineJson() {
  const response = await fetch(`${server.base}/api/v1/machines/${MACHINE}`);
  assert.equal(response.status, 200, `GET /api/v1/machines/${MACHINE}`);
  return response.json();
}

let readingSeq = 0;
/// Posts one reading for mill-7 with the ingest token; answers the parsed 201 answer.
async function postReading() {
  readingSeq += 1;
  const response = await fetch(`${server.base}/api/v1/machines/${MACHINE}/readings`, {
    method: "POST",
    headers: { authorization: `Bearer ${INGEST_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      timestamp: new Date().toISOString(),
      seq: `browser-${readingSeq}`,
      values: {
        air_temperature: 298.1,
        process_temperature: 308.6,
        rotational_speed: 1551,
        torque: 42.8,
        tool_wear: 108 + readingSeq,
      },
    }),
  });
  const answer = await response.json();
  assert.equal(response.status, 201, `the reading was not stored: ${JSON.stringify(answer)}`);
  assert.equal(answer.stored, 1);
  assert.equal(answer.scored, 1, `the reading was not scored: ${JSON.stringify(answer)}`);
  assert.ok(answer.prediction, `no prediction in ${JSON.stringify(answer)}`);
  return answer;
}

/// Whether Chromium has a listener of `type` on the element `selector`: how a test knows the
/// island's WebAssembly has hydrated and wired its handler.
async function hasListener(cdp, selector, type) {
  const { result } = await cdp.send("Runtime.evaluate", {
    expression: `document.querySelector(${JSON.stringify(selector)})`,
  });
  if (!result.objectId) return false;
  const { listeners } = await cdp.send("DOMDebugger.getEventListeners", { objectId: result.objectId });
  await cdp.send("Runtime.releaseObject", { objectId: result.objectId });
  return listeners.some((l) => l.type === type);
}

/// What the run page shows now: the state badge, and the progress bar while going.
function runState() {
  return page.evaluate(() => {
    const run = document.getElementById("run");
    const badge = run?.querySelector(".badge");
    const progress = run?.querySelector("progress");
    return {
      state: badge?.dataset.state ?? null,
      badge: badge?.textContent ?? null,
      progress: progress ? Number(progress.value) : null,
      text: run?.querySelector(".progress-text")?.textContent ?? null,
      error: run?.querySelector(".run-error")?.textContent ?? null,
    };
  });
}

/// Watches the run page (which refreshes itself) until the run has ended; answers what it saw,
/// in order, without repeats. `onGoing` is called once, at the first sight of a progress bar
/// above 0 % (or any bar, if it never leaves 0 %).
async function watchRun(seconds, onGoing) {
  const seen = [];
  let shown = false;
  const final = await until(`run ${page.url()} to end`, seconds, async () => {
    const now = await runState();
    const key = `${now.state} ${now.text ?? ""}`.trim();
    if (seen.at(-1)?.key !== key) seen.push({ key, ...now });
    if (!shown && now.progress !== null && now.progress > 0) {
      shown = true;
      await onGoing?.(now);
    }
    return ["completed", "failed", "cancelled"].includes(now.state) ? now : null;
  }, 100);
  return { final, seen };
}

/// The rows of a version card's metrics table: name, this version's value, verdict, active.
function metricRows(card) {
  return card.locator("table.metrics tbody tr").evaluateAll((rows) =>
    rows.map((row) => {
      const [mine, active] = row.querySelectorAll("td");
      const verdict = mine.querySelector(".verdict").textContent.trim();
      return {
        name: row.querySelector("th").textContent.trim(),
        value: mine.textContent.trim().slice(0, mine.textContent.trim().length - verdict.length).trim(),
        verdict,
        dataVerdict: row.dataset.verdict,
        active: active.textContent.trim(),
      };
    }),
  );
}

/// Text of the <dd> beside the <dt> named `term` inside `scope`.
function fact(scope, term) {
  return page.locator(`${scope} div`, { has: page.locator("dt", { hasText: new RegExp(`^${term}$`) }) })
    .locator("dd")
    .textContent();
}

// ---------------------------------------------------------------------------------------------
// AI4I-layout rows by the data set's published generating process, for when ../shared is absent.

function generatedAi4i(rows = 3000) {
  let seed = 20200601;
  const random = () => {
    // mulberry32: the same rows on every run
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const lines = [
    [
      "UDI", "Product ID", "Type", "Air temperature [K]", "Process temperature [K]",
      "Rotational speed [rpm]", "Torque [Nm]", "Tool wear [min]", "Machine failure",
      "TWF", "HDF", "PWF", "OSF", "RNF",
    ].join(","),
  ];
  let air = 300;
  let processTemperature = 310;
  const wear = { L: 0, M: 0, H: 0 };
  const wearStep = { L: 2, M: 3, H: 5 };
  const overstrain = { L: 11000, M: 12000, H: 13000 };
  const failedTool = { L: 200 + random() * 40, M: 200 + random() * 40, H: 200 + random() * 40 };
  let failures = 0;
  for (let udi = 1; udi <= rows; udi++) {
    const u = random();
    const type = u < 0.6 ? "L" : u < 0.9 ? "M" : "H";
    air = 300 + (air - 300) * 0.98 + normal() * 0.4;
    processTemperature = air + 10 + normal() * 1;
    const torque = Math.max(3, 40 + normal() * 10);
    const speed = Math.max(1150, 1540 - (torque - 40) * 12 + normal() * 110);
    wear[type] += wearStep[type];
    const toolWear = wear[type];
    const power = (torque * speed * 2 * Math.PI) / 60;
    const hdf = processTemperature - air < 8.6 && speed < 1380 ? 1 : 0;
    const pwf = power < 3500 || power > 9000 ? 1 : 0;
    const osf = toolWear * torque > overstrain[type] ? 1 : 0;
    const twf = toolWear >= failedTool[type] ? 1 : 0;
    const rnf = random() < 0.001 ? 1 : 0;
    const failure = hdf || pwf || osf || twf || rnf ? 1 : 0;
    failures += failure;
    if (twf || osf) {
      // the tool is replaced
      wear[type] = 0;
      failedTool[type] = 200 + random() * 40;
    }
    const serial = String(10000 + Math.floor(random() * 90000));
    lines.push(
      [udi, `${type}${serial}`, type, air.toFixed(1), processTemperature.toFixed(1), Math.round(speed),
        torque.toFixed(1), toolWear, failure, twf, hdf, pwf, osf, rnf].join(","),
    );
  }
  assert.ok(
    failures > 20 && failures < rows - 20,
    `the generated rows need both classes: ${failures} failures`,
  );
  return { text: `${lines.join("\n")}\n`, rows, failures };
}

// ---------------------------------------------------------------------------------------------
// Server, machine, data and browser

before(async () => {
  // A predictable server: nothing from the caller's icantkube, MLflow or database settings.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith("ICANTKUBE_") && !name.startsWith("MLFLOW_") && name !== "DATABASE_URL",
    ),
  );
  server = await startServer({
    ...env,
    ICANTKUBE_ADMIN_PASSWORD: PASSWORD,
    ICANTKUBE_INGEST_TOKEN: INGEST_TOKEN,
    RUST_LOG: "warn",
  });

  const created = await fetch(`${server.base}/api/v1/machines`, {
    method: "POST",
    headers: { ...admin(), "content-type": "application/json" },
    body: JSON.stringify({
      name: MACHINE,
      display_name: "Mill 7",
      profile: PROFILE,
      attributes: { type: "M" },
    }),
  });
  assert.equal(created.status, 201, `registering ${MACHINE}: ${await created.text()}`);
  assert.equal((await machineJson()).active_model_version_id, null, "a new machine has no model");

  if (existsSync(SHARED_CSV) && process.env.ICANTKUBE_TEST_GENERATED_AI4I !== "1") {
    data.file = SHARED_CSV;
    data.rows = 8000;
    data.source = `the AI4I 2020 dev rows (${SHARED_CSV})`;
  } else {
    const generated = generatedAi4i();
    csvDir = mkdtempSync(path.join(tmpdir(), "icantkube-ai4i-"));
    data.file = path.join(csvDir, "ai4i-generated.csv");
    writeFileSync(data.file, generated.text);
    data.rows = generated.rows;
    data.source =
      `generated AI4I-layout rows (${generated.rows} rows, ${generated.failures} failures; ` +
      `${SHARED_CSV} ${
        existsSync(SHARED_CSV) ? "not used: ICANTKUBE_TEST_GENERATED_AI4I=1" : "is missing"
      })`;
  }
  console.log(`training test data: ${data.source}`);

  // This run's screenshots only: one caught while running may be missing, a failure's appear.
  for (const name of readdirSync(artifacts)) {
    if (/^training-.*\.png$/.test(name)) rmSync(path.join(artifacts, name));
  }
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Every wait is bounded: a page that never shows what is expected fails the step.
  context.setDefaultTimeout(60_000);
  context.setDefaultNavigationTimeout(60_000);
  page = await context.newPage();
  found.pageErrors = [];
  collectPageErrors(page, found.pageErrors);
});

after(async () => {
  await browser?.close();
  server?.stop();
  if (csvDir) rmSync(csvDir, { recursive: true, force: true });
});

let broken = null;
/// One step of the story: skipped, naming the step that failed, once one has failed.
function step(name, body) {
  test(name, async (t) => {
    if (broken) {
      t.skip(`an earlier step failed: ${broken}`);
      return;
    }
    try {
      await body(t);
    } catch (error) {
      broken = name;
      await shot(`failed-${name.slice(0, 1)}`).catch(() => {});
      throw error;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The story

step("1 training needs an admin: a wrong password is refused, the right one leads back", async () => {
  const response = await page.goto(`${server.base}/training/new`);
  assert.equal(response.status(), 200);
  const notice = page.locator("p.notice", { hasText: "as admin to upload data and train models" });
  assert.equal(await notice.count(), 1, "the page says to sign in");
  assert.equal(await page.locator("#upload").count(), 0, "no upload form before signing in");
  const headerSignIn = page.locator("header.site-header nav a", { hasText: "Sign in" });
  assert.equal(await headerSignIn.getAttribute("href"), "/login", "the header offers to sign in");
  await shot("1-sign-in-required");

  await notice.locator("a", { hasText: "Sign in" }).click();
  await page.waitForURL(
    (url) => url.pathname === "/login" && url.search === "?next=/training/new",
  );
  await page.locator('input[name="password"]').fill("not the password");
  await page.locator('form[action="/login"] button[type="submit"]').click();
  await page.waitForURL((url) => url.pathname === "/login" && url.searchParams.has("error"));
  assert.equal(
    await page.locator('p.error[role="alert"]').textContent(),
    "wrong user name or password",
  );
  assert.equal(
    await page.locator('input[name="next"]').inputValue(),
    "/training/new",
    "the form still knows where to go after signing in",
  );
  await shot("1-sign-in-wrong-password");

  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('form[action="/login"] button[type="submit"]').click();
  await page.waitForURL(`${server.base}/training/new`);
  await page.locator("#upload").waitFor();
  assert.equal(await page.locator("header.site-header nav a", { hasText: "Sign in" }).count(), 0);
  assert.equal(
    await page.locator('header.site-header form[action="/logout"] button').textContent(),
    "Sign out admin",
  );
  await shot("1-signed-in");
});

step("2 the upload shows its progress and the columns with their detected roles", async () => {
  // Wait for the UploadProgress island to hydrate (its submit handler is then on the form),
  // and send the file slowly enough (about 2-3 s) that its progress bar can be seen.
  const cdp = await context.newCDPSession(page);
  await page.waitForLoadState("networkidle");
  await until("the upload island to hydrate", 30, () => hasListener(cdp, "#upload", "submit"));
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 150 * 1024,
  });

  const progress = [];
  await page.exposeFunction("reportUploadProgress", (value, text) => progress.push({ value, text }));
  await page.evaluate(() => {
    const box = document.querySelector("#upload .upload-progress");
    new MutationObserver(() => {
      const bar = box.querySelector("progress");
      if (bar) window.reportUploadProgress(Number(bar.value), box.textContent);
    }).observe(box, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  const uploads = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/datasets") {
      uploads.push(request.resourceType());
    }
  });

  await page.locator('#upload input[type="file"]').setInputFiles(data.file);
  await page.locator("#upload").getByRole("button", { name: "Upload and check" }).click();
  await until("the upload progress bar to pass 0 %", 30, () =>
    progress.some((p) => p.value > 0 && p.value < 100),
  100);
  await shot("2-uploading");
  await page.waitForURL(/\/training\/new\?dataset=\d+$/, { timeout: 120_000 });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  await cdp.detach();

  assert.deepEqual(uploads, ["xhr"], "with JavaScript the file is sent by XMLHttpRequest");
  const values = progress.map((p) => p.value);
  assert.ok(values.length >= 3, `the bar moved: ${JSON.stringify(values)}`);
  for (let i = 1; i < values.length; i++) {
    assert.ok(values[i] >= values[i - 1], `the bar never goes back: ${JSON.stringify(values)}`);
  }
  assert.equal(values.at(-1), 100, `the bar ends full: ${JSON.stringify(values)}`);
  assert.match(progress.at(-1).text, /checking the file…/);
  assert.ok(progress.some((p) => /uploading: \d+ %/.test(p.text)), "it says how much is sent");

  found.datasetId = Number(new URL(page.url()).searchParams.get("dataset"));
  const summary = await page.locator("#train p.muted").first().textContent();
  assert.match(summary, new RegExp(`: ${data.rows} rows, recognised as ${PROFILE}\\.`));
  const roles = Object.fromEntries(
    await page.locator("table.columns tbody tr").evaluateAll((rows) =>
      rows.map((row) => [row.querySelector("th").textContent.trim(), row.querySelector("select").value]),
    ),
  );
  assert.deepEqual(roles, {
    UDI: "id",
    "Product ID": "id",
    Type: "categorical",
    "Air temperature [K]": "input",
    "Process temperature [K]": "input",
    "Rotational speed [rpm]": "input",
    "Torque [Nm]": "input",
    "Tool wear [min]": "input",
    "Machine failure": "target",
    TWF: "label",
    HDF: "label",
    PWF: "label",
    OSF: "label",
    RNF: "label",
  });
  assert.equal(await page.locator('#train select[name="target"]').inputValue(), "Machine failure");
  await shot("2-columns");
});

step("3 a run trains with live progress, completes with its metrics, and is promoted", async () => {
  await page.locator('#train input[name="trees"]').fill("50");
  await page.locator('#train select[name="machine"]').selectOption(MACHINE);
  // The form's default is the profile's best, a forest on AI4I data (step 4 shows which).
  assert.equal(await page.locator('#train select[name="algorithm"]').inputValue(), "auto");
  assert.ok(await page.locator('#train input[name="auto_promote"]').isChecked(), "auto-promote is on");

  const started = performance.now();
  await page.getByRole("button", { name: "Start training" }).click();
  // The promotion is what the admin waits for: polled beside the page.
  const promoted = until(`${MACHINE} to get an active model`, 600, async () => {
    const machine = await machineJson();
    return machine.active_model_version_id !== null && {
      id: machine.active_model_version_id,
      seconds: (performance.now() - started) / 1000,
    };
  }, 100);
  promoted.catch(() => {}); // awaited below; a failure before then must not go unhandled

  await page.waitForURL(/\/training\/\d+$/);
  found.run1 = Number(new URL(page.url()).pathname.split("/").at(-1));
  const first = await runState();
  assert.ok(
    ["queued", "running"].includes(first.state) && first.progress !== null,
    `a run just started is queued or running, with a progress bar: ${JSON.stringify(first)}`,
  );
  await shot("3-run-started");
  // The LiveRefresh island swaps the run in place: the document stays the same.
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const { final, seen } = await watchRun(600, () => shot("3-running"));
  console.log(`run #${found.run1} on the page: ${seen.map((s) => s.key).join(" → ")}`);
  assert.equal(final.state, "completed", `the run ended ${final.state}: ${final.error}`);
  assert.ok(await page.evaluate(() => window.__sameDocument), "the page refreshed itself, no reload");
  assert.ok(seen.length >= 2, `the page showed the run going before it completed: ${JSON.stringify(seen)}`);
  const progressSeen = seen.map((s) => s.progress).filter((p) => p !== null);
  for (let i = 1; i < progressSeen.length; i++) {
    assert.ok(progressSeen[i] >= progressSeen[i - 1], `progress never goes back: ${progressSeen}`);
  }
  assert.equal(final.progress, null, "no progress bar once completed");
  assert.equal(final.badge, "completed");

  const metrics = Object.fromEntries(
    await page.locator("#run table.metrics tr").evaluateAll((rows) =>
      rows.map((row) => [row.querySelector("th").textContent, row.querySelector("td").textContent]),
    ),
  );
  assert.match(metrics.F1 ?? "", /^(0|1)\.\d{3}$/, `F1 is shown: ${JSON.stringify(metrics)}`);
  assert.match(metrics["ROC AUC"] ?? "", /^(0|1)\.\d{3}$/);
  assert.match(metrics["rows (failures)"] ?? "", new RegExp(`^${data.rows} \\(\\d+\\)$`));
  found.run1F1 = metrics.F1;
  const duration = await fact("#run dl.facts", "Duration");
  assert.equal(await fact("#run dl.facts", "Promote if better"), "yes");
  assert.equal(await fact("#run dl.facts", "For"), MACHINE);
  assert.equal(await fact("#run dl.facts", "Model version"), `${PROFILE} v1`);
  await shot("3-run-completed");
  // The completed run on a phone, light and dark, as this admin sees it (accessibility.test.mjs
  // walks the other pages; only this one needs a run).
  for (const colorScheme of ["light", "dark"]) {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 800 },
      colorScheme,
      bypassCSP: true,
      storageState: await context.storageState(),
    });
    const runPage = await phone.newPage();
    await runPage.goto(page.url());
    await runPage.screenshot({ path: path.join(artifacts, "pages", `run-admin-360-${colorScheme}.png`), fullPage: true });
    assert.deepEqual(await pageProblems(runPage), [], `the run page at 360 px, ${colorScheme}`);
    await phone.close();
  }

  const promotion = await promoted;
  found.v1 = promotion.id;
  console.log(
    `time from clicking "Start training" to ${PROFILE} v1 active on ${MACHINE}: ` +
      `${promotion.seconds.toFixed(1)} s (random forest, 50 trees, ${data.rows} rows of ${
        data.file === SHARED_CSV ? "AI4I 2020 dev data" : "generated AI4I-layout data"
      }; the run page says it took ${duration}, of which the final fit ${metrics["training time"]})`,
  );
});

step("4 the runs list shows the completed run with its F1", async () => {
  await page.goto(`${server.base}/training`);
  const row = page.locator(`#runs tr[data-run="${found.run1}"]`);
  assert.equal(await row.getAttribute("data-state"), "completed");
  assert.equal(await row.locator(".badge").textContent(), "completed");
  assert.equal(await row.locator("progress").count(), 0);
  const result = await row.locator("td.result").textContent();
  assert.equal(result, `F1 ${found.run1F1}${PROFILE} v1`, "the result is the F1 and the version");
  assert.match(
    await row.locator("td").nth(1).textContent(),
    new RegExp(`^${MACHINE}random forest · Machine failure$`),
  );
  await shot("4-runs");
});

step("5 a second version is compared side by side, promoted, and rolled back", async () => {
  // A second run, linear, on the same data set, without automatic promotion.
  await page.getByRole("link", { name: "New training run", exact: true }).click();
  await page.waitForURL(`${server.base}/training/new`);
  await page.locator(`ul.datasets a[href="/training/new?dataset=${found.datasetId}"]`).click();
  await page.waitForURL(
    (url) => url.pathname === "/training/new" && url.search === `?dataset=${found.datasetId}`,
  );
  await page.locator('#train select[name="algorithm"]').selectOption("linear");
  await page.locator('#train select[name="machine"]').selectOption(MACHINE);
  await page.locator('#train input[name="auto_promote"]').uncheck();
  await page.getByRole("button", { name: "Start training" }).click();
  await page.waitForURL(/\/training\/\d+$/);
  found.run2 = Number(new URL(page.url()).pathname.split("/").at(-1));
  assert.notEqual(found.run2, found.run1);
  const { final } = await watchRun(600);
  assert.equal(final.state, "completed", `the second run ended ${final.state}: ${final.error}`);
  assert.equal(await fact("#run dl.facts", "Promote if better"), "no");
  assert.equal(await fact("#run dl.facts", "Algorithm"), "linear");
  assert.equal(await fact("#run dl.facts", "Model version"), `${PROFILE} v2`);
  await shot("5-second-run");
  assert.equal(
    (await machineJson()).active_model_version_id,
    found.v1,
    "v1 stays active: no auto-promotion",
  );

  // Both versions, their metrics side by side.
  await page.getByRole("link", { name: "Models", exact: true }).click();
  await page.waitForURL(`${server.base}/models`);
  const section = page.locator(`section.profile-models[data-profile="${PROFILE}"]`);
  const machineRow = section.locator("table.active-models tbody tr", { hasText: MACHINE });
  assert.equal(await machineRow.locator("td").nth(1).textContent(), `${PROFILE} v1`);
  assert.equal(await machineRow.locator("td").nth(2).textContent(), "—", "nothing to roll back to yet");
  assert.equal(await section.locator("article.version").count(), 2);
  const v1 = section.locator("article.version", { has: page.locator("h3", { hasText: `${PROFILE} v1` }) });
  const v2 = section.locator("article.version", { has: page.locator("h3", { hasText: `${PROFILE} v2` }) });
  assert.equal(Number(await v1.getAttribute("data-version")), found.v1);
  found.v2 = Number(await v2.getAttribute("data-version"));
  assert.equal(await v1.getAttribute("data-active"), "true");
  assert.equal(await v1.locator("h3 .badge").textContent(), `active on ${MACHINE}`);
  assert.equal(await v2.getAttribute("data-active"), "false");
  assert.match(
    await v2.locator("p.muted").first().textContent(),
    new RegExp(`^linear · created .* · training run #${found.run2}$`),
  );

  const names = ["F1", "precision", "recall", "ROC AUC", "PR AUC"];
  const rows1 = await metricRows(v1);
  const rows2 = await metricRows(v2);
  assert.deepEqual(rows1.map((r) => r.name), names);
  assert.deepEqual(rows2.map((r) => r.name), names);
  assert.equal(rows1[0].value, found.run1F1, "v1's F1 is its run's");
  for (const row of rows1) {
    assert.equal(row.active, "—", `v1 is the active version: nothing beside ${row.name}`);
    assert.equal(row.verdict, "");
  }
  compareSideBySide(rows2, rows1);
  const beside = rows2.map((r) => `${r.name} ${r.value} vs ${r.active} ${r.verdict}`);
  console.log(`metrics v2 (linear) beside active v1: ${beside.join("; ")}`);
  await shot("5-models");

  // The plots, in a details element.
  const plots = v2.locator("details.plots");
  assert.equal(await plots.locator("figure.chart").first().isVisible(), false, "plots start closed");
  await plots.locator("summary", { hasText: "Plots" }).click();
  assert.equal(await plots.evaluate((d) => d.open), true);
  const charts = plots.locator("figure.chart");
  assert.ok((await charts.count()) >= 3, "confusion matrix, ROC and precision-recall at least");
  for (const chart of await charts.all()) {
    assert.ok(await chart.isVisible());
    assert.notEqual((await chart.locator("figcaption").textContent()).trim(), "");
    assert.equal(await chart.locator(".chart-svg svg").count(), 1, "each plot draws an SVG");
  }
  await plots.scrollIntoViewIfNeeded();
  await plots.screenshot({ path: path.join(artifacts, "training-5-plots.png") });

  // Promote v2 on mill-7.
  await v2.locator('form.promote select[name="machine"]').selectOption(MACHINE);
  await v2.locator('form.promote input[name="reason"]').fill("compare the linear model live");
  await v2.getByRole("button", { name: "Promote", exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/models" && url.searchParams.has("notice"));
  assert.equal(
    await page.locator('p.notice[role="status"]').textContent(),
    `${PROFILE} v2 is now active on ${MACHINE}`,
  );
  assert.equal((await machineJson()).active_model_version_id, found.v2);
  assert.equal(await v2.getAttribute("data-active"), "true");
  assert.equal(await v1.getAttribute("data-active"), "false");
  assert.equal(await machineRow.locator("td").nth(1).textContent(), `${PROFILE} v2`);
  // Now v1 is the one compared with the active v2.
  compareSideBySide(await metricRows(v1), await metricRows(v2));
  assert.ok((await metricRows(v2)).every((r) => r.active === "—"));
  await shot("5-promoted");

  // The next reading is scored by the promoted version.
  const scored = await postReading();
  assert.equal(scored.prediction.model_version_id, found.v2, "the reading is scored by v2");
  await page.goto(`${server.base}/machines/${MACHINE}`);
  assert.equal(await fact("dl.prediction", "Model"), `${PROFILE} v2`);

  // Roll back.
  await page.goto(`${server.base}/models`);
  const rollBack = machineRow.getByRole("button", { name: `Roll back to ${PROFILE} v1`, exact: true });
  await rollBack.click();
  await page.waitForURL((url) => url.pathname === "/models" && url.searchParams.has("notice"));
  assert.equal(
    await page.locator('p.notice[role="status"]').textContent(),
    `${PROFILE} v1 is now active on ${MACHINE}`,
  );
  assert.equal((await machineJson()).active_model_version_id, found.v1);
  assert.equal(await machineRow.locator("td").nth(1).textContent(), `${PROFILE} v1`);
  assert.equal(await machineRow.locator("td").nth(2).textContent(), `Roll back to ${PROFILE} v2`);
  assert.equal(await v1.getAttribute("data-active"), "true");
  await section.locator("details.promotions summary").click();
  const history = await section.locator("details.promotions li").allTextContents();
  assert.equal(history.length, 3, `promotions: ${JSON.stringify(history)}`);
  assert.match(history[0], new RegExp(`^${MACHINE} → ${PROFILE} v1 by admin .*: roll back$`));
  assert.match(
    history[1],
    new RegExp(`^${MACHINE} → ${PROFILE} v2 by admin .*: compare the linear model live$`),
  );
  assert.match(history[2], new RegExp(`^${MACHINE} → ${PROFILE} v1 by training run ${found.run1} `));
  await shot("5-rolled-back");
});

/// `rows` (one version's metrics) beside `activeRows` (the active version's): the Active column
/// carries the active version's values, and each verdict agrees with the numbers.
function compareSideBySide(rows, activeRows) {
  let verdicts = 0;
  rows.forEach((row, i) => {
    assert.equal(row.active, activeRows[i].value, `${row.name}: the Active column is the active version's`);
    assert.equal(row.dataVerdict, row.verdict);
    const [mine, theirs] = [Number(row.value), Number(row.active)];
    if (mine > theirs) assert.equal(row.verdict, "better", `${row.name} ${mine} vs ${theirs}`);
    else if (mine < theirs) assert.equal(row.verdict, "worse", `${row.name} ${mine} vs ${theirs}`);
    // Equal when rounded to three places: the unrounded values decide, either verdict or none.
    if (row.verdict) verdicts += 1;
  });
  assert.ok(verdicts > 0, "two different models differ somewhere");
}

step("6 the next reading is scored by the version active on the machine", async () => {
  const machine = await machineJson();
  assert.equal(machine.active_model_version_id, found.v1, "v1 is active again after the roll back");
  const answer = await postReading();
  assert.equal(answer.prediction.model_version_id, machine.active_model_version_id);
  assert.ok(
    answer.prediction.failure_probability >= 0 && answer.prediction.failure_probability <= 1,
    `a failure probability: ${JSON.stringify(answer.prediction)}`,
  );
  await page.goto(`${server.base}/machines/${MACHINE}`);
  assert.equal(await fact("dl.prediction", "Model"), `${PROFILE} v1`);
  assert.match(await fact("dl.prediction", "Failure probability"), /^\d+(\.\d)? %$/);
  assert.equal(await fact("dl.facts", "Readings"), "2");
  await shot("6-machine");
  assert.deepEqual(found.pageErrors, [], "no script errors on any page");
});
