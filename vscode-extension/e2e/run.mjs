// End-to-end test of the packaged extension in real VS Code (code-server) driven through a real
// browser (Debian's chromium, via playwright-core), on a fresh copy of the example project.
// Each step asserts what the user would see; a screenshot of every step (and of a failure) goes
// to e2e/artifacts/. Exit code 0 only when every step passed.
//
//   node e2e/run.mjs            (after `npm run package`; `make test` does both)
// Environment: WEIR_PYTHON (a Python with weir installed; default ../.venv/bin/python),
// CODE_SERVER (code-server's entry.js; default: what e2e/setup.sh installs), KEEP=1 (keep the
// temporary directory), HEADED=1 (watch it).
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const extDir = path.resolve(here, "..");
const repo = path.resolve(extDir, "..");
const artifacts = path.join(here, "artifacts");
const pkg = JSON.parse(fs.readFileSync(path.join(extDir, "package.json"), "utf8"));
const vsix = path.join(extDir, `weir-${pkg.version}.vsix`);
const python = process.env.WEIR_PYTHON ?? path.join(repo, ".venv", "bin", "python");
const codeServer = process.env.CODE_SERVER
  ?? execFileSync("bash", [path.join(here, "setup.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop();
const STEP_TIMEOUT = 45_000;

const t0 = Date.now();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "weir-e2e-"));
const dirs = Object.fromEntries(["home", "extensions", "user", "browser", "work"].map((d) => {
  const p = path.join(tmp, d);
  fs.mkdirSync(p, { recursive: true });
  return [d, p];
}));
const env = {
  ...process.env, HOME: dirs.home, XDG_CONFIG_HOME: path.join(dirs.home, ".config"),
  XDG_DATA_HOME: path.join(dirs.home, ".local/share"), XDG_CACHE_HOME: path.join(dirs.home, ".cache"),
};
delete env.WEIR_CONNECTIONS;
const project = path.join(dirs.work, "shop");
const daemonJson = path.join(project, ".weir", "daemon.json");
let server;
let context;
let page;
let failed = false;

function log(message) {
  console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on("error", reject);
  });
}

async function waitFor(what, check, timeout = STEP_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}${last ? ` (${last.message})` : ""}`);
}

let stepNo = 0;
async function step(name, fn) {
  stepNo += 1;
  const shot = path.join(artifacts, `${String(stepNo).padStart(2, "0")}-${name}`);
  const start = Date.now();
  try {
    await fn();
    await page.screenshot({ path: `${shot}.png` });
    log(`✓ ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failed = true;
    log(`✗ ${name}: ${err.message}`);
    await page?.screenshot({ path: `${shot}-FAILED.png` }).catch(() => undefined);
    throw err;
  }
}

/** Picks an item in the open quick pick: types `typed` (default: its name), waits for a row
 * showing `name`, Enter. */
async function pick(name, typed = name) {
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(typed);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: name }).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
}

/** Runs a command from the palette, as a user does: F1, type its title, Enter. */
async function palette(title) {
  await page.keyboard.press("F1");
  await pick(title, `>${title}`);
}

/**
 * A command that asks for a dataset, then the dataset. An editor the step before opened may
 * still take the focus as the command's quick pick opens, which closes the pick (VS Code does
 * that to a user too, who runs the command again): so do the same, a few times at most.
 */
async function paletteThenPick(title, name) {
  for (let attempt = 1; ; attempt++) {
    await palette(title);
    const input = page.locator(".quick-input-widget input");
    try {
      await input.waitFor({ state: "visible", timeout: 10_000 });
      await input.fill(name, { timeout: 10_000 });
    } catch (err) {
      if (attempt >= 3) throw err;
      await page.keyboard.press("Escape");
      continue;
    }
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: name }).first().waitFor({ state: "visible" });
    await page.keyboard.press("Enter");
    return;
  }
}

/** Types lines into the editor; Escape before each Enter so no open suggestion is accepted. */
async function typeLines(lines) {
  for (const [i, line] of lines.entries()) {
    if (line) await page.keyboard.type(line, { delay: 10 });
    if (i < lines.length - 1) {
      await page.keyboard.press("Escape");
      await page.keyboard.press("Enter");
    }
  }
}

async function quickOpen(file) {
  await page.keyboard.press("Control+P");
  await pick(path.basename(file), file);
  await page.locator(`.tabs-container .tab.active[aria-label*="${path.basename(file)}"]`).waitFor();
}

/** The Datasets tree's row for a dataset; its aria-label is "<name>, <status>". */
function datasetRow(name, status) {
  return page.locator(`.pane-body .monaco-list-row[aria-label="${name}, ${status}"]`).first();
}

/** Waits for a webview (any frame of the page) whose text matches, and returns that text. */
async function webviewText(pattern) {
  return waitFor(`a webview showing ${pattern}`, async () => {
    for (const frame of page.frames()) {
      const text = await frame.evaluate(() => document.body?.innerText ?? "").catch(() => "");
      if (pattern.test(text)) return text;
    }
    return undefined;
  });
}

/** Writes a new recipe file from outside the editor (as a git pull would), waits for its
 * dataset in the tree, and builds it with *weir: Build Dataset…*. */
/**
 * The notification saying `text`: a toast, or, when VS Code hid the toast (it shows three at
 * most and hides some on its own, as a user sees too), the same item in the notification
 * centre, expanded so its buttons show.
 */
async function notification(text) {
  const toast = page.locator(".notifications-toasts .notification-list-item", { hasText: text }).first();
  try {
    await toast.waitFor({ timeout: 15_000 });
    return toast;
  } catch {
    log(`no toast "${text}" in 15 s: looking in the notification centre`);
  }
  await palette("Notifications: Show Notifications");
  const item = page.locator(".notifications-center .notification-list-item", { hasText: text }).first();
  await item.waitFor();
  const expand = item.locator(".codicon-notifications-expand");
  if (await expand.isVisible()) await expand.click();
  return item;
}

async function buildNewRecipe(name, source) {
  fs.writeFileSync(path.join(project, "recipes", `${name}.py`), source);
  await datasetRow(name, "never built").waitFor();
  await palette("weir: Build Dataset…");
  await pick(name);
}

function flowFrame() {
  return page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
}

async function main() {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\` first`);

  // A fresh example project, and user settings as a user would set them.
  execFileSync(python, ["-m", "weir", "init", project], { env, stdio: "ignore" });
  const settingsFile = path.join(dirs.user, "User", "settings.json");
  const settings = {
    "weir.pythonPath": python,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "security.workspace.trust.enabled": false,
    "extensions.ignoreRecommendations": true,
    "telemetry.telemetryLevel": "off",
    "editor.autoClosingBrackets": "never",
    "editor.autoClosingQuotes": "never",
    "editor.autoIndent": "none",
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.wordBasedSuggestions": "off",
    "files.autoSave": "off",
    "window.restoreWindows": "none",
  };
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));

  const cs = (args, options = {}) => spawn(process.execPath, [codeServer, "--extensions-dir", dirs.extensions,
    "--user-data-dir", dirs.user, ...args], { env, ...options });
  await new Promise((resolve, reject) => {
    const p = cs(["--install-extension", vsix], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => { out += d; });
    p.stderr.on("data", (d) => { out += d; });
    p.on("exit", (code) => (code === 0 && /successfully installed/i.test(out) ? resolve() : reject(new Error(`--install-extension: ${out}`))));
  });
  log(`installed ${path.basename(vsix)}`);

  const port = await freePort();
  server = cs(["--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry",
    "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override",
    "--ignore-last-opened"], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const serverLog = fs.createWriteStream(path.join(artifacts, "code-server.log"));
  server.stdout.pipe(serverLog);
  server.stderr.pipe(serverLog);
  await waitFor("code-server's /healthz", async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 30_000);
  log(`code-server on port ${port}`);

  context = await chromium.launchPersistentContext(dirs.browser, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: !process.env.HEADED,
    viewport: { width: 1400, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ...(process.env.HEADED ? [] : ["--headless"])],
  });
  page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(project)}`);
  await page.locator(".monaco-workbench").waitFor();

  await step("activates-and-starts-the-daemon", async () => {
    // The status bar shows the daemon running, and the daemon wrote its address.
    await page.locator(".statusbar-item", { hasText: /^\s*weir\s*$/ }).first().waitFor();
    await waitFor(".weir/daemon.json", () => fs.existsSync(daemonJson));
  });

  await step("datasets-tree-shows-statuses", async () => {
    await page.locator('.activitybar .action-item a[aria-label^="weir"]').first().click();
    await datasetRow("orders_clean", "never built").waitFor();
    await datasetRow("raw_orders", "source").waitFor();
  });

  await step("codelens-over-a-recipe", async () => {
    await quickOpen("recipes/clean.py");
    // The language server's CodeLenses: "▶ Build · ○ never built" over each recipe.
    await page.locator(".contentWidgets .codelens-decoration a", { hasText: "Build" }).first().waitFor();
  });

  await step("codelens-build-changes-the-tree", async () => {
    // The second recipe in clean.py builds orders_clean: click its "▶ Build".
    const lenses = page.locator(".contentWidgets .codelens-decoration a", { hasText: "▶ Build" });
    await waitFor("two ▶ Build lenses", async () => (await lenses.count()) >= 2);
    await lenses.nth(1).click();
    await datasetRow("orders_clean", "up to date").waitFor();
    await datasetRow("customers", "up to date").waitFor();
  });

  await step("hover-shows-the-schema", async () => {
    const token = page.locator(".view-line", { hasText: "def orders_clean(" })
      .locator("span > span", { hasText: /^raw_orders$/ }).first();
    await token.hover();
    const hover = page.locator(".monaco-hover-content", { hasText: "order_id" }).first();
    await hover.waitFor();
    const text = await hover.innerText();
    if (!/customer_id/.test(text) || !/int64/.test(text)) throw new Error(`hover has no schema: ${text}`);
    await page.mouse.move(10, 10);
    await page.keyboard.press("Escape");
  });

  await step("completion-of-a-dataset-name", async () => {
    // A new recipe reading revenue_by_month (built by an SQL recipe in another file).
    await page.locator(".monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+End");
    await typeLines(["", "", "@recipe", "def scratch(revenue_b"]);
    // The language server's item: a dataset (a variable icon), not a word from the buffer
    // (word-based suggestions are off, and they would carry the text icon).
    const row = page.locator(".suggest-widget .monaco-list-row", { hasText: "revenue_by_month" })
      .filter({ has: page.locator(".codicon-symbol-variable") }).first();
    await waitFor("the suggest widget with revenue_by_month", async () => {
      if (await row.isVisible()) return true;
      await page.keyboard.press("Control+Space");
      await row.waitFor({ timeout: 3_000 });
      return true;
    });
    await page.keyboard.press("Enter"); // accepts the suggestion
    await typeLines(["):", "    return revenue_by_month", ""]);
    await page.locator(".view-line", { hasText: "def scratch(revenue_by_month):" }).waitFor();
  });

  await step("diagnostic-for-a-typo", async () => {
    await typeLines(["", "@recipe", "def scratch2(custmers):", "    return custmers", ""]);
    await page.locator(".monaco-editor .squiggly-error").first().waitFor();
    await page.keyboard.press("Control+Shift+M");
    const marker = page.locator(".markers-panel .monaco-list-row", { hasText: "custmers" }).first();
    await marker.waitFor();
    const text = await marker.innerText();
    if (!/customers/.test(text)) throw new Error(`the problem has no hint: ${text}`);
  });

  await step("flow-view-shows-the-graph", async () => {
    await page.keyboard.press("Control+Shift+M"); // close the Problems panel
    await palette("weir: Show Flow");
    const frame = flowFrame();
    await frame.locator('.node[data-name="orders_clean"]').waitFor();
    const nodes = await frame.locator(".node").count();
    if (nodes < 10) throw new Error(`only ${nodes} nodes in the Flow`);
    // Fitted to the panel (not to a frame that was not laid out yet): the graph spans the
    // canvas's width or height.
    await waitFor("the graph fitted to its canvas", async () => {
      const graph = await frame.locator("#viewport").boundingBox();
      const canvas = await frame.locator("#canvas").boundingBox();
      return graph && canvas && (graph.width >= 0.8 * canvas.width || graph.height >= 0.8 * canvas.height);
    });
    await waitFor("orders_clean drawn as up to date",
      async () => (await frame.locator('.node[data-name="orders_clean"]').getAttribute("data-status")) === "up to date");
  });

  await step("flow-node-click-opens-its-file", async () => {
    await flowFrame().locator('.node[data-name="top_products"]').click();
    await page.locator('.tabs-container .tab[aria-label*="top_products.sql"]').waitFor();
  });

  await step("flow-build-button-builds", async () => {
    const frame = flowFrame();
    await frame.locator('#panel button[data-build="required"]').click();
    await waitFor("top_products built (Flow node and tree)", async () =>
      (await frame.locator('.node[data-name="top_products"]').getAttribute("data-status")) === "up to date");
    await datasetRow("top_products", "up to date").waitFor();
  });

  await step("flow-view-follows-the-theme", async () => {
    // The Flow page's colours are the theme's: switch VS Code to a light theme and back.
    const background = async () => flowFrame().locator("body").evaluate((b) => {
      const [r, g, bl] = getComputedStyle(b).backgroundColor.match(/\d+/g).map(Number);
      return { light: b.classList.contains("vscode-light"), sum: r + g + bl };
    });
    const before = await background();
    const toggle = () => palette("Preferences: Toggle between Light/Dark Themes");
    const isLight = (c) => c.light && c.sum > 600;
    const isDark = (c) => !c.light && c.sum < 300;
    if (!isLight(before) && !isDark(before)) throw new Error(`the Flow page's colours are not the theme's: ${JSON.stringify(before)}`);
    const want = isLight(before) ? isDark : isLight;
    await toggle();
    await waitFor("the Flow page to follow the other theme", async () => want(await background()));
    await page.screenshot({ path: path.join(artifacts, "flow-view-other-theme.png") });
    await toggle();
    await waitFor("the Flow page to follow the first theme again", async () => !want(await background()));
  });

  await step("go-to-definition", async () => {
    // F12 on a dataset in the SQL recipe opens the recipe that builds it, at its def line.
    await page.locator('.tabs-container .tab[aria-label*="top_products.sql"]').click();
    await page.locator(".view-line", { hasText: "FROM orders_clean AS o" }).click();
    await page.keyboard.press("Home");
    for (let i = 0; i < "FROM or".length; i += 1) await page.keyboard.press("ArrowRight");
    await page.keyboard.press("F12");
    await page.locator('.tabs-container .tab.active[aria-label*="clean.py"]').waitFor();
    await page.locator(".statusbar-item", { hasText: /Ln 24, Col 1\b/ }).first().waitFor();
  });

  await step("command-build-dataset-with-quick-pick", async () => {
    await palette("weir: Build Dataset…");
    // The quick pick lists datasets with their status.
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "revenue_by_month" })
      .filter({ hasText: "never built" }).first().waitFor();
    await pick("revenue_by_month");
    await datasetRow("revenue_by_month", "up to date").waitFor();
  });

  await step("command-show-dataset", async () => {
    await paletteThenPick("weir: Show Dataset…", "revenue_by_month");
    // "Last builds" is the dataset page's own heading (the Flow page's side panel, open in
    // another webview, shows a schema too).
    const text = await webviewText(/revenue_by_month[\s\S]*Schema \(observed\)[\s\S]*Last builds/);
    if (!/up to date/.test(text)) throw new Error(`the dataset page lacks its status or builds: ${text.slice(0, 300)}`);
  });

  await step("command-plan", async () => {
    await paletteThenPick("weir: Plan…", "monthly_report");
    const text = await webviewText(/Plan: monthly_report/);
    if (!/monthly_report/.test(text) || !/never built/.test(text)) throw new Error(`the plan lacks what and why: ${text.slice(0, 300)}`);
  });

  await step("scenarios-view-and-run-scenario", async () => {
    // The example project's nightly scenario, in the weir view's Scenarios section (collapsed
    // at first, so the Datasets tree keeps its room: opened here, closed again after).
    const header = page.locator(".pane-header", { hasText: "Scenarios" }).first();
    await header.click();
    const nightly = () => page.locator(".pane-body .monaco-list-row", { hasText: "nightly" });
    await nightly().filter({ hasText: "never run" }).first().waitFor();
    await paletteThenPick("weir: Run Scenario…", "nightly");
    await page.locator(".notifications-toasts .notification-list-item",
      { hasText: "weir: scenario nightly succeeded" }).first().waitFor({ timeout: 60_000 });
    await nightly().filter({ hasText: "succeeded" }).first().waitFor();
    await header.click();
  });

  await step("failed-build-says-so-and-opens-the-recipe", async () => {
    await buildNewRecipe("broken",
      "from weir import recipe\n\n\n@recipe\ndef broken(orders_clean):\n    raise ValueError('boom: no such column')\n");
    await datasetRow("broken", "failed").waitFor({ timeout: 60_000 });
    const toast = await notification("weir: broken failed");
    if (!/ValueError: boom/.test(await toast.innerText())) throw new Error(`the failure does not say why: ${await toast.innerText()}`);
    await toast.locator(".monaco-button", { hasText: "Show log" }).waitFor();
    await toast.locator(".monaco-button", { hasText: "Open recipe" }).click();
    await page.locator('.tabs-container .tab.active[aria-label*="broken.py"]').waitFor();
    // An open notification centre takes the toasts the next steps wait for.
    if (await page.locator(".notifications-center .notification-list-item").first().isVisible()) {
      await palette("Notifications: Hide Notifications");
    }
  });

  await step("cancelling-the-progress-cancels-the-build", async () => {
    // The recipe waits on a FIFO nothing ever opens for writing: only the cancel ends it.
    const gate = path.join(dirs.work, "gate");
    execFileSync("mkfifo", [gate]);
    await buildNewRecipe("slow",
      `from weir import recipe\n\n\n@recipe\ndef slow(orders_clean):\n    open(${JSON.stringify(gate)}).read()\n    return orders_clean\n`);
    const progress = page.locator(".notifications-toasts .notification-list-item", { hasText: "weir: Build slow" }).first();
    await progress.waitFor();
    await datasetRow("slow", "building").waitFor(); // the job started in the daemon
    await progress.locator(".monaco-button", { hasText: "Cancel" }).click();
    await page.locator(".statusbar-item", { hasText: "weir: Build slow cancelled" }).first().waitFor({ timeout: 20_000 });
    await datasetRow("slow", "never built").waitFor();
  });

  await step("open-build-log-and-restart-the-daemon", async () => {
    await palette("weir: Open Build Log…");
    await pick("orders_clean");
    await page.locator(".tabs-container .tab.active[aria-label*='.log']").first().waitFor();
    await page.locator(".view-line", { hasText: "recipe orders_clean" }).first().waitFor();
    const pid = () => JSON.parse(fs.readFileSync(daemonJson, "utf8")).pid;
    const before = pid();
    await palette("weir: Stop Daemon");
    await page.locator(".statusbar-item", { hasText: "weir: stopped" }).first().waitFor();
    await waitFor("daemon.json removed", () => !fs.existsSync(daemonJson));
    await palette("weir: Start Daemon");
    await page.locator(".statusbar-item", { hasText: /^\s*weir\s*$/ }).first().waitFor();
    await waitFor("a new daemon", () => fs.existsSync(daemonJson) && pid() !== before);
    await datasetRow("orders_clean", "up to date").waitFor(); // the tree follows the new daemon
  });

  await step("select-environment-moves-to-its-daemon", async () => {
    // The example declares dev and prod; nothing was built in prod. Choosing prod: its own
    // daemon starts (.weir/env/prod/), the status bar, the views and the Flow panel say prod,
    // the tree shows prod's statuses and the language server's lenses too (it restarted with
    // WEIR_ENV=prod). Back to the default, all is as before.
    const prodJson = path.join(project, ".weir", "env", "prod", "daemon.json");
    const lenses = page.locator(".contentWidgets .codelens-decoration a");
    const lensSays = (text) => lenses.filter({ hasText: text }).count();
    // clean.py from the Recipes tree (weir.openItem), where its lenses show.
    await page.locator('.pane-body .monaco-list-row[aria-label*="orders_clean"]', { hasText: "recipes/clean.py:24" }).first().click();
    await page.locator(".tabs-container .tab.active[aria-label*='clean.py']").first().waitFor();
    await waitFor("a lens saying up to date", async () => (await lensSays("up to date")) > 0);
    await palette("weir: Select Environment…");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "(default)" }).first().waitFor();
    await pick("prod");
    await page.locator(".statusbar-item", { hasText: /weir · prod/ }).first().waitFor({ timeout: 60_000 });
    await waitFor(".weir/env/prod/daemon.json", () => fs.existsSync(prodJson));
    await page.locator(".pane-header", { hasText: "Datasets" }).locator(".description", { hasText: "prod" }).first().waitFor();
    await datasetRow("orders_clean", "never built").waitFor();
    await page.locator('.tabs-container .tab[aria-label*="weir Flow · prod"]').first().waitFor();
    await waitFor("prod's lenses (never built, none up to date)",
      async () => (await lensSays("never built")) > 0 && (await lensSays("up to date")) === 0);
    const workspaceSettings = JSON.parse(fs.readFileSync(path.join(project, ".vscode", "settings.json"), "utf8"));
    if (workspaceSettings["weir.environment"] !== "prod") throw new Error(`the workspace setting is ${JSON.stringify(workspaceSettings)}`);
    await page.screenshot({ path: path.join(artifacts, "environment-prod.png") });

    await palette("weir: Select Environment…");
    await pick("(default)");
    await page.locator(".statusbar-item", { hasText: /^\s*weir\s*$/ }).first().waitFor();
    await datasetRow("orders_clean", "up to date").waitFor();
    await waitFor("the default's lenses again", async () => (await lensSays("up to date")) > 0);
    if (!fs.existsSync(prodJson)) throw new Error("prod's daemon stopped: it serves the CLI too, and must keep running");
  });

  await step("rename-a-dataset", async () => {
    // F2 on the recipe `customers` renames the dataset: its def and every input named after it.
    // The Recipes tree opens the recipe at its def line (weir.openItem), the cursor at its start.
    await page.locator('.pane-body .monaco-list-row[aria-label*="customers"]', { hasText: "recipes/clean.py:17" }).first().click();
    await page.locator(".tabs-container .tab.active[aria-label*='clean.py']").first().waitFor();
    await page.locator(".statusbar-item", { hasText: /Ln 17, Col 1\b/ }).first().waitFor();
    for (let i = 0; i < "def ".length; i += 1) await page.keyboard.press("ArrowRight");
    await page.keyboard.press("F2");
    const input = page.locator(".rename-box input").first();
    await input.waitFor();
    await input.fill("clients");
    await input.press("Enter");
    await page.locator(".view-line", { hasText: "def clients(raw_customers: pd.DataFrame)" }).waitFor();
    await page.locator(".view-line", { hasText: "clients: pd.DataFrame) -> pd.DataFrame:" }).waitFor();
  });

  await step("says-when-weir-is-not-installed", async () => {
    // A Python without weir: the extension must say so and offer the install command.
    const bare = path.join(tmp, "python-without-weir");
    fs.writeFileSync(bare, "#!/bin/sh\nexec /usr/bin/python3 -I -S \"$@\"\n", { mode: 0o755 });
    await palette("Preferences: Open User Settings");
    await page.locator(".settings-editor").waitFor();
    await page.keyboard.type("weir.pythonPath");
    const input = page.locator(".settings-editor .setting-item", { hasText: "Python Path" }).locator("input").first();
    await input.fill(bare);
    await input.press("Tab");
    const toast = page.locator(".notifications-toasts .notification-list-item", { hasText: "weir is not installed in" }).first();
    await toast.waitFor();
    await toast.locator(".monaco-button", { hasText: "Install weir" }).waitFor();
  });
}

async function cleanup() {
  await context?.close().catch(() => undefined);
  // VS Code's logs, including every output channel ("weir", "weir language server"), are
  // artifacts too: they say what happened when a step failed.
  fs.cpSync(path.join(dirs.user, "logs"), path.join(artifacts, "vscode-logs"), { recursive: true, force: true });
  if (server?.pid) {
    try { process.kill(-server.pid, "SIGTERM"); } catch { /* already gone */ }
  }
  for (const environment of [[], ["--env", "prod"]]) { // the default's daemon, and prod's
    try {
      execFileSync(python, ["-m", "weir", "--project", project, ...environment, "daemon", "stop", "--now"], { env, stdio: "ignore", timeout: 20_000 });
    } catch { /* no daemon */ }
  }
  if (!process.env.KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);
}

try {
  await main();
} catch (err) {
  failed = true;
  console.error(err.stack ?? String(err));
} finally {
  await cleanup();
}
log(failed ? `FAILED (screenshots in ${artifacts})` : `all ${stepNo} steps passed (screenshots in ${artifacts})`);
process.exit(failed ? 1 : 0);
