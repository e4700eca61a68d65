// Lighthouse (12.2.3, mobile: its default form factor, throttling and screen) against Debian's
// Chromium: the four category scores of each page a user reaches, signed out and signed in as
// an admin. Used by lighthouse.test.mjs (thresholds) and bench/lighthouse.sh (a table).
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

export const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"];
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

/// The admin's session cookie, from the sign-in form.
export async function adminCookie(base, password) {
  const response = await fetch(`${base}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ user: "admin", password, next: "/" }),
    redirect: "manual",
  });
  const cookie = response.headers.get("set-cookie");
  if (response.status !== 303 || !cookie) {
    throw new Error(`signing in as admin answered ${response.status}`);
  }
  return cookie.split(";")[0];
}

/// Paths of the pages to score: the ones every visitor sees, then the admin's.
export async function pagesOf(base) {
  const machines = await (await fetch(`${base}/api/v1/machines`)).json();
  const first = (profile) => machines.find((m) => m.profile === profile)?.name;
  const pages = [
    ["fleet", "/"],
    ["alarms", "/alarms"],
    ["models", "/models"],
    ["training", "/training"],
    ["login", "/login"],
  ];
  for (const [name, profile] of [["mill", "ai4i2020"], ["engine", "turbofan"]]) {
    if (first(profile)) pages.splice(1, 0, [name, `/machines/${first(profile)}`]);
  }
  return { everyone: pages, admin: [["new-training", "/training/new"], ["users", "/users"]] };
}

/// Scores of one page (0–100 per category) and the audits that cost points.
export async function score(url, { cookie } = {}) {
  const chrome = await chromeLauncher.launch({
    chromePath: chromiumPath,
    chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
  });
  try {
    const result = await lighthouse(url, {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      onlyCategories: CATEGORIES,
      extraHeaders: cookie ? { Cookie: cookie } : undefined,
    });
    const lhr = result.lhr;
    if (lhr.runtimeError) throw new Error(`${url}: ${lhr.runtimeError.message}`);
    const scores = Object.fromEntries(
      CATEGORIES.map((c) => [c, Math.round((lhr.categories[c].score ?? 0) * 100)]),
    );
    const costly = [];
    for (const category of CATEGORIES) {
      for (const ref of lhr.categories[category].auditRefs) {
        const audit = lhr.audits[ref.id];
        if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
          // What the console said, so an error can be found without running Lighthouse again.
          const said = (audit.details?.items ?? [])
            .map((item) => item.description)
            .filter(Boolean)
            .slice(0, 2)
            .map((text) => `"${text.slice(0, 160)}"`);
          costly.push(
            `${ref.id} ${audit.score}${audit.displayValue ? ` (${audit.displayValue})` : ""}${said.length ? `: ${said.join(", ")}` : ""}`,
          );
        }
      }
    }
    return { scores, costly };
  } finally {
    await chrome.kill();
  }
}

/// Every page in both states: [{ page, state, scores, costly }].
export async function scoreSite(base, adminPassword) {
  const { everyone, admin } = await pagesOf(base);
  const cookie = adminPassword ? await adminCookie(base, adminPassword) : null;
  const runs = everyone.map(([page, path]) => ({ page, path, state: "signed out" }));
  if (cookie) {
    runs.push(...[...everyone, ...admin].map(([page, path]) => ({ page, path, state: "admin" })));
  }
  const results = [];
  for (const run of runs) {
    const { scores, costly } = await score(`${base}${run.path}`, {
      cookie: run.state === "admin" ? cookie : undefined,
    });
    results.push({ ...run, scores, costly });
  }
  return results;
}

/// `node lighthouse.mjs BASE_URL [ADMIN_PASSWORD]`: the table bench/lighthouse.sh prints.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, password] = process.argv.slice(2);
  const results = await scoreSite(base, password);
  console.log(`page | state | ${CATEGORIES.join(" | ")} | what cost points`);
  console.log(`--- | --- | ${CATEGORIES.map(() => "---").join(" | ")} | ---`);
  for (const r of results) {
    console.log(
      `${r.page} | ${r.state} | ${CATEGORIES.map((c) => r.scores[c]).join(" | ")} | ${r.costly.join("; ") || "-"}`,
    );
  }
}
