import { writeFileSync } from "node:fs";
import * as path from "node:path";

import { describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import type { BuildEvents } from "../src/api";
import { BuildRunner } from "../src/builds";
import type { FlowStore } from "../src/flowStore";
import { buildEvent, buildSummary, checkedEvent, plannedJob } from "./answers";
import { buildEvents } from "./apiChecks";
import { fakeDaemons, progressNotifications, type FakeDaemon, type Route } from "./fakeDaemon";

const mock = vscode as unknown as typeof import("./vscode");

const serve = fakeDaemons();
const notifications = progressNotifications();
const { progress } = notifications; // the same object in every test
let fake: FakeDaemon | undefined;

/** An event of a build's stream, as the daemon writes it (checked: the daemon could send it). */
function sse<K extends keyof BuildEvents>(res: import("node:http").ServerResponse, kind: K, data: BuildEvents[K]): void {
  checkedEvent(buildEvents, kind, data);
  res.write(`event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`);
}

const RECIPE = "recipes/clean.py:orders_clean";
const OUTPUTS = ["orders_clean"];

const startRoute = (id: string): Route => (req, _body, res) => {
  if (req.method !== "POST" || req.url !== "/api/builds") return false;
  res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify(buildSummary({ id, state: "queued" })));
  return true;
};

const plan = (id: string) => buildEvent("plan", { id, targets: OUTPUTS, up_to_date: [], notes: [], folders: [],
  jobs: [plannedJob({ recipe: RECIPE, action: "run", outputs: OUTPUTS, reasons: { orders_clean: ["recipe changed"] }, after: [] })] });
const jobStart = (id: string, recipe = RECIPE) => buildEvent("job", { id, event: "start", status: "running", recipe, outputs: OUTPUTS });
const end = (id: string, state: BuildEvents["end"]["state"]) => buildEvent("end", { id, state });

async function setup(routes: Route[]): Promise<{ runner: BuildRunner; lines: string[] }> {
  const served = await serve(routes);
  fake = served.fake;
  expect(await served.daemon.connect()).toBe(true);
  return { runner: new BuildRunner(served.daemon, { flow: undefined } as unknown as FlowStore, served.log), lines: served.lines };
}

describe("BuildRunner", () => {
  it("follows a failing build: plan, jobs and the recipe's log in the channel, then one error with its actions", async () => {
    let logFile = "";
    const { runner, lines } = await setup([startRoute("b7"), (req, _b, res) => {
      if (req.url !== "/api/builds/b7/events") return false;
      logFile = path.join(fake!.root, "orders_clean.log");
      writeFileSync(logFile, "weir: python recipe orders_clean\nTraceback (most recent call last):\nKeyError: 'amount'\n");
      res.writeHead(200, { "content-type": "text/event-stream" });
      sse(res, "plan", plan("b7"));
      sse(res, "job", jobStart("b7"));
      sse(res, "job", buildEvent("job", { id: "b7", event: "finish", recipe: RECIPE, outputs: OUTPUTS, status: "failed",
        seconds: 0.2, error: "KeyError: 'amount'", log_path: logFile }));
      sse(res, "end", end("b7", "failed"));
      res.end();
      return true;
    }]);
    const final = await runner.build({ targets: ["orders_clean"], mode: "required" });

    expect(final?.state).toBe("failed");
    expect(JSON.parse(fake!.requests.find((r) => r.method === "POST")!.body)).toEqual({ by: "editor", targets: ["orders_clean"], mode: "required" });
    expect(mock.window.withProgress).toHaveBeenCalledWith(expect.objectContaining({ title: "weir: Build orders_clean", cancellable: true }), expect.any(Function));
    expect(lines.join("\n")).toContain("  run     orders_clean  — recipe changed");
    expect(lines.join("\n")).toContain("✗ recipes/clean.py:orders_clean failed in 0.20 s: KeyError: 'amount'");
    expect(lines).toContain("    │ KeyError: 'amount'");
    expect(lines.at(-1)).toMatch(/✗ Build orders_clean \(build b7\) failed$/);
    expect(progress.report).toHaveBeenCalledWith({ message: "orders_clean (0/1)", increment: undefined });
    await vi.waitFor(() => expect(mock.window.showErrorMessage).toHaveBeenCalledWith(
      "weir: orders_clean failed: KeyError: 'amount'", "Show log", "Open recipe"));
  });

  it("streams a recipe's printed lines into the channel as they come, and not again at its end", async () => {
    const { runner, lines } = await setup([startRoute("b6"), (req, _b, res) => {
      if (req.url !== "/api/builds/b6/events") return false;
      res.writeHead(200, { "content-type": "text/event-stream" });
      sse(res, "plan", plan("b6"));
      sse(res, "job", jobStart("b6"));
      sse(res, "log", buildEvent("log", { id: "b6", recipe: RECIPE, outputs: OUTPUTS, lines: ["loading 3 files", "cleaning"] }));
      sse(res, "job", buildEvent("job", { id: "b6", event: "finish", recipe: RECIPE, outputs: OUTPUTS, status: "built",
        seconds: 0.1, log_path: path.join(fake!.root, "does-not-exist.log") }));
      sse(res, "end", end("b6", "succeeded"));
      res.end();
      return true;
    }]);
    const final = await runner.build({ targets: ["orders_clean"], mode: "required" });
    expect(final?.state).toBe("succeeded");
    const start = lines.findIndex((l) => l.includes("▶ orders_clean"));
    const finish = lines.findIndex((l) => l.includes("✓ orders_clean"));
    expect(lines.slice(start + 1, finish)).toEqual(["    │ loading 3 files", "    │ cleaning"]);
    expect(lines.filter((l) => l.includes("│ cleaning"))).toHaveLength(1);
  });

  it("cancels the build in the daemon when the notification's Cancel is pressed", async () => {
    let stream: import("node:http").ServerResponse | undefined;
    const { runner, lines } = await setup([startRoute("b8"), (req, _b, res) => {
      if (req.url === "/api/builds/b8/events") {
        stream = res;
        res.writeHead(200, { "content-type": "text/event-stream" });
        sse(res, "plan", plan("b8"));
        sse(res, "job", jobStart("b8", "r"));
        return true; // held open until the cancel arrives
      }
      if (req.method === "POST" && req.url === "/api/builds/b8/cancel") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(buildSummary({ id: "b8", state: "running" })));
        sse(stream!, "job", buildEvent("job", { id: "b8", event: "finish", recipe: "r", outputs: OUTPUTS, status: "interrupted" }));
        sse(stream!, "end", end("b8", "cancelled"));
        stream!.end();
        return true;
      }
      return false;
    }]);
    const building = runner.build({ targets: ["orders_clean"] });
    await vi.waitFor(() => expect(progress.report).toHaveBeenCalledWith(expect.objectContaining({ message: "orders_clean (0/1)" })));
    notifications.source.cancel();
    const final = await building;

    expect(final?.state).toBe("cancelled");
    expect(fake!.requests.some((r) => r.method === "POST" && r.url === "/api/builds/b8/cancel")).toBe(true);
    expect(lines.join("\n")).toContain("■ orders_clean interrupted");
    expect(mock.window.setStatusBarMessage).toHaveBeenCalledWith("$(circle-slash) weir: Build orders_clean cancelled", 5000);
    expect(mock.window.showErrorMessage).not.toHaveBeenCalled();
  });

  it("says why a build could not start (the daemon's own message) instead of failing silently", async () => {
    const { runner } = await setup([(req, _b, res) => {
      if (req.method !== "POST") return false;
      res.writeHead(422, { "content-type": "application/json" }).end(JSON.stringify({ detail: "unknown mode 'fast'" }));
      return true;
    }]);
    expect(await runner.build({ targets: ["x"] })).toBeUndefined();
    expect(mock.window.showErrorMessage).toHaveBeenCalledWith("weir: Build x could not start: unknown mode 'fast'", "Show Output");
  });

  it("reports a build that could not be planned with the daemon's message and hint", async () => {
    const { runner } = await setup([startRoute("b9"), (req, _b, res) => {
      if (req.url !== "/api/builds/b9/events") return false;
      res.writeHead(200, { "content-type": "text/event-stream" });
      sse(res, "end", buildEvent("end", { id: "b9", state: "error",
        error: { message: "unknown dataset 'ordres'", hint: "did you mean 'orders'?" } }));
      res.end();
      return true;
    }]);
    await runner.build({ targets: ["ordres"] }, "Build ordres");
    await vi.waitFor(() => expect(mock.window.showErrorMessage).toHaveBeenCalledWith(
      "weir: Build ordres could not run: unknown dataset 'ordres' — did you mean 'orders'?", "Show log"));
  });
});
