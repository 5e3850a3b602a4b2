// Headless Chromium judges reenact's HTML report. Usage:
//   node judge.mjs OUT_DIR NAME=REPORT.json=PAGE.html...
// Each page (rendered by `reenact report html` from REPORT.json) is opened from a file: URL with
// every request that is not file: or data: aborted and counted, and checked against its JSON:
// no console error, page error or CSP violation, no request, the verdict table's row count, each
// filter (outcome/verdict, severity, text) hides exactly the rows it should, every row links to
// its section, each scenario's timeline entry count, no planted script ran (`window.__pwned`)
// and planted markup shows as text. A screenshot of each goes to OUT_DIR.
//
// Then the judge shows its teeth: it breaks the first page on purpose (a JS error, a request
// out, a missing row, a planted script that runs, a lost timeline entry, a filter that does
// nothing) and checks that it fails each broken page on the check that should catch it.
import { readFileSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { check, finish, scratchDir } from "../lib.mjs";

const [outDir, ...caseArgs] = process.argv.slice(2);
if (!outDir || caseArgs.length === 0) {
  console.error("usage: node judge.mjs OUT_DIR NAME=REPORT.json=PAGE.html...");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const cases = caseArgs.map((arg) => {
  const [name, report, page] = arg.split("=");
  return { name, report: JSON.parse(readFileSync(report, "utf8")), page };
});

/** What the page must show of a report, computed from its JSON as docs/reports.md says. */
function expected(report) {
  const validate = report.command === "validate";
  const items = Array.isArray(report.scenarios) ? report.scenarios : [];
  const text = (value) => (typeof value === "string" || typeof value === "number" ? String(value) : "");
  return items.map((item) => {
    let status;
    if (validate) {
      status = text(item.verdict) || (text(item.error).startsWith("not run") ? "not-run" : "error");
    } else {
      status = text(item.outcome) || "unknown";
    }
    const tags = (Array.isArray(item.tags) ? item.tags : []).map(text).filter((tag) => tag !== "");
    const count = (build) => (build && Array.isArray(build.timeline) ? build.timeline.length : 0);
    return {
      status,
      severity: text(item.severity) || "none",
      search: `${text(item.id)} ${text(item.ticket)} ${text(item.title)} ${tags.join(" ")}`.toLowerCase(),
      timeline: validate ? count(item.before) + count(item.after) : count(item),
    };
  });
}

/** The rows of the verdict table that show. */
async function visibleRows(page) {
  return page.evaluate(
    () => Array.from(document.querySelectorAll("#verdict-table tbody tr"))
      .filter((row) => row.getClientRects().length > 0).length,
  );
}

/** Use each filter of the verdict table and check which rows it leaves. */
async function filters(page, report, want, record) {
  // Outcome / verdict: untick the status with the most rows.
  const byStatus = {};
  want.forEach((row) => { byStatus[row.status] = (byStatus[row.status] || 0) + 1; });
  const [status, count] = Object.entries(byStatus).sort((a, b) => b[1] - a[1])[0] || [null, 0];
  if (status !== null) {
    const box = page.locator(`#filters input[type=checkbox][value="${status}"]`);
    const present = (await box.count()) === 1;
    if (present) {
      await box.uncheck({ timeout: 5000 });
    }
    const shown = await visibleRows(page);
    record(`unticking \`${status}\` hides its ${count} row(s)`, present && shown === want.length - count,
      `${shown} of ${want.length} rows show`);
    if (present) {
      await box.check({ timeout: 5000 });
    }
    const all = await visibleRows(page);
    record("ticking it again shows every row", all === want.length, `${all} of ${want.length}`);
  }
  // Severity: the first severity listed.
  if (want.length > 0) {
    const severity = want[0].severity;
    await page.locator("#filter-severity").selectOption(severity, { timeout: 5000 });
    const shown = await visibleRows(page);
    const wanted = want.filter((row) => row.severity === severity).length;
    record(`severity \`${severity}\` shows its ${wanted} row(s)`, shown === wanted, `${shown} show`);
    await page.locator("#filter-severity").selectOption("", { timeout: 5000 });
  }
  // Text: the last scenario's id (or title), as typed.
  const last = report.scenarios && report.scenarios[report.scenarios.length - 1];
  const needle = last ? String(last.id || last.title || "").toLowerCase() : "";
  if (needle !== "") {
    await page.locator("#filter-text").fill(needle, { timeout: 5000 });
    const shown = await visibleRows(page);
    const wanted = want.filter((row) => row.search.includes(needle)).length;
    record(`searching \`${needle}\` shows the ${wanted} matching row(s)`, shown === wanted && wanted > 0,
      `${shown} show`);
    if (want.length > 1 && wanted < want.length) {
      record("the text filter leaves rows out", shown < want.length, `${shown} of ${want.length}`);
    }
    await page.locator("#filter-text").fill("", { timeout: 5000 });
  }
}

/**
 * Open one page and judge it against its report: a list of [check, passed, detail].
 * `shot` names the screenshots (none when null).
 */
async function judge(browser, pagePath, report, shot) {
  const results = [];
  const record = (name, passed, detail = "") => results.push([name, passed, detail]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file:") || url.startsWith("data:")) {
      return route.continue();
    }
    requests.push(url);
    return route.abort();
  });
  // Injected by the browser, not the page: the page's CSP does not apply to it.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const consoleErrors = [];
  const pageErrors = [];
  page.on("console", (message) => {
    if (message.type() === "error") {
      consoleErrors.push(message.text());
    }
  });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith("file:") && !url.startsWith("data:") && !requests.includes(url)) {
      requests.push(url);
    }
  });
  await page.goto(pathToFileURL(pagePath).href, { waitUntil: "load" });

  const want = expected(report);
  const rows = await page.locator("#verdict-table tbody tr").count();
  record("the verdict table has one row per scenario", rows === want.length && (await page.locator("#verdict-table").count()) === 1,
    `${rows} rows, ${want.length} scenarios`);
  record("the filters show (the page's script ran)", await page.locator("#filters").isVisible());

  try {
    await filters(page, report, want, record);
  } catch (error) {
    record("the filters can be used", false, String(error.message || error).split("\n")[0]);
  }


  const links = await page.evaluate(() => Array.from(document.querySelectorAll("#verdict-table tbody tr a"))
    .map((link) => link.getAttribute("href"))
    .filter((href) => !href || !href.startsWith("#") || !document.getElementById(href.slice(1))).length);
  record("every row links to its scenario's section", links === 0, `${links} broken link(s)`);
  const timelines = await page.evaluate(() => Array.from(document.querySelectorAll("section.scenario"))
    .map((section) => section.querySelectorAll("li.tl-entry").length));
  const wantTimelines = want.map((row) => row.timeline);
  record("each scenario's timeline has its JSON's entries", JSON.stringify(timelines) === JSON.stringify(wantTimelines),
    `page ${JSON.stringify(timelines)}, JSON ${JSON.stringify(wantTimelines)}`);
  const outward = await page.evaluate(() => Array.from(document.querySelectorAll("[src], [srcset], [action], [href]"))
    .filter((element) => !(element.getAttribute("href") || "").startsWith("#")).length);
  record("no element points outside the page", outward === 0, `${outward} element(s)`);

  const pwned = await page.evaluate(() => window.__pwned);
  record("no planted script ran", pwned === undefined, `window.__pwned = ${pwned}`);
  if (JSON.stringify(report).includes("<script>window.__pwned")) {
    const shown = await page.evaluate(() => document.body.innerText.includes("<script>window.__pwned"));
    record("planted markup shows as text", shown);
  }
  const violations = await page.evaluate(() => window.__cspViolations || []);
  record("no Content-Security-Policy violation", violations.length === 0, violations.join("; "));
  record("no console error", consoleErrors.length === 0, consoleErrors.join(" | "));
  record("no page error", pageErrors.length === 0, pageErrors.join(" | "));
  record("no network request", requests.length === 0, requests.join(", "));

  if (shot) {
    const top = join(outDir, `${shot}.png`);
    await page.screenshot({ path: top });
    const section = page.locator("section.scenario:has(li.kind-fault), section.scenario:has(li.failed)").first();
    const detail = join(outDir, `${shot}-scenario.png`);
    if ((await section.count()) === 1) {
      await section.screenshot({ path: detail });
    } else {
      await page.locator("section.scenario").first().screenshot({ path: detail }).catch(() => {});
    }
    for (const file of [top, detail]) {
      try {
        const { size } = statSync(file);
        console.log(`      screenshot ${file} (${size} bytes)`);
      } catch {
        // no scenario section to photograph
      }
    }
  }
  await context.close();
  return results;
}

/** Broken copies of a good page, and the check that must fail on each. */
function brokenPages(html) {
  const noPolicy = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, "");
  const firstRow = /<tr data-status=[^]*?<\/tr>\n/;
  return [
    ["a JS error", noPolicy.replace("</body>", "<script>notAFunction();</script></body>"), "no page error"],
    ["a request out", noPolicy.replace("</body>", "<img src=\"http://127.0.0.1:9/x.png\"></body>"), "no network request"],
    ["a missing row", html.replace(firstRow, ""), "the verdict table has one row per scenario"],
    ["a planted script that runs", noPolicy.replace("<main>", "<main><script>window.__pwned=1</script>"), "no planted script ran"],
    ["a script the policy blocks", html.replace("</body>", "<script>window.__pwned=1</script></body>"), "no console error"],
    ["a lost timeline entry", html.replace(/<li class="tl-entry[^]*?<\/li>\n/, ""), "each scenario's timeline has its JSON's entries"],
    ["a filter that does nothing", noPolicy.replace(/row\.hidden = !visible;/, ""), "unticking"],
  ];
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  for (const { name, report, page } of cases) {
    console.log(`\n${name} (${page})`);
    for (const [what, passed, detail] of await judge(browser, page, report, name)) {
      check(`${name}: ${what}`, passed, detail);
    }
  }
  const first = cases[0];
  console.log(`\nthe judge fails broken copies of ${first.name}`);
  const scratch = scratchDir("reenact-html-judge-");
  const html = readFileSync(first.page, "utf8");
  for (const [what, broken, catcher] of brokenPages(html)) {
    check(`${what}: the page was broken`, broken !== html);
    const file = join(scratch, "broken.html");
    writeFileSync(file, broken);
    const failed = (await judge(browser, file, first.report, null)).filter(([, passed]) => !passed);
    const caught = failed.some(([check]) => check.startsWith(catcher));
    check(`${what}: the judge fails it on \`${catcher}\``, caught,
      failed.length ? `it failed only ${failed.map(([c]) => c).join("; ")}` : "it passed");
    if (caught) {
      console.log(`      (failed: ${failed.map(([c, , d]) => (d ? `${c}: ${d}` : c)).join("; ").slice(0, 300)})`);
    }
  }
} finally {
  await browser.close();
}
finish();
