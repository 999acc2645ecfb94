import type { ServerResponse } from "node:http";

import { describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import type { ScenarioRunEvents } from "../src/api";
import { ScenarioRunner } from "../src/scenarioRuns";
import { checkedEvent, scenarioRunEvent, scenarioRunReport, stepOutcome } from "./answers";
import { scenarioRunEvents } from "./apiChecks";
import { fakeDaemons, progressNotifications, type FakeDaemon, type Route } from "./fakeDaemon";

const mock = vscode as unknown as typeof import("./vscode");

const serve = fakeDaemons();
const notifications = progressNotifications();
let fake: FakeDaemon | undefined;

/** An event of a run's stream, as the daemon writes it (checked: the daemon could send it). */
function sse<K extends keyof ScenarioRunEvents>(res: ServerResponse, kind: K, data: ScenarioRunEvents[K]): void {
  checkedEvent(scenarioRunEvents, kind, data);
  res.write(`event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`);
}

const json = (res: ServerResponse, status: number, body: unknown): true => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  return true;
};

/** POST /api/scenarios/nightly/runs answers the run `r1`, started (or skipped). */
const startRoute = (status: "running" | "skipped" = "running"): Route => (req, _body, res) =>
  req.method === "POST" && req.url === "/api/scenarios/nightly/runs"
  && json(res, 202, scenarioRunReport({ run_id: "r1", status, steps: [], reports: [],
    ...(status === "skipped" ? { skipped_for: "r0" } : {}) }));

const line = (text: string) => scenarioRunEvent("scenario", { event: "line", run_id: "r1", line: text });

async function setup(routes: Route[]): Promise<{ runner: ScenarioRunner; lines: string[] }> {
  const served = await serve(routes);
  fake = served.fake;
  expect(await served.daemon.connect()).toBe(true);
  return { runner: new ScenarioRunner(served.daemon, served.log), lines: served.lines };
}

describe("ScenarioRunner", () => {
  it("runs a scenario through the daemon: its lines in the channel and the progress, then its failure with its actions", async () => {
    const { runner, lines } = await setup([startRoute(), (req, _b, res) => {
      if (req.url !== "/api/scenario-runs/r1/events") return false;
      res.writeHead(200, { "content-type": "text/event-stream" });
      sse(res, "scenario", scenarioRunEvent("scenario", { event: "start", run_id: "r1" }));
      sse(res, "scenario", line("scenario nightly (VS Code): 2 steps"));
      sse(res, "scenario", line("✗ build orders_clean  failed: build b2 failed"));
      sse(res, "scenario", scenarioRunEvent("scenario", { event: "step", run_id: "r1",
        step: stepOutcome({ status: "failed", message: "build b2 failed" }) }));
      sse(res, "end", scenarioRunEvent("end", { run_id: "r1", status: "failed",
        steps: [stepOutcome({ status: "failed", message: "build b2 failed" })] }));
      res.end();
      return true;
    }]);
    const final = await runner.run("nightly");

    expect(final?.status).toBe("failed");
    expect(JSON.parse(fake!.requests.find((r) => r.method === "POST")!.body)).toEqual({ cause: "VS Code" });
    expect(mock.window.withProgress).toHaveBeenCalledWith(expect.objectContaining({ title: "weir: Run scenario nightly", cancellable: true }), expect.any(Function));
    expect(notifications.progress.report).toHaveBeenCalledWith({ message: "scenario nightly (VS Code): 2 steps" });
    expect(lines.some((l) => l.endsWith("── scenario run r1: Run scenario nightly"))).toBe(true);
    expect(lines.some((l) => l.endsWith("] ✗ build orders_clean  failed: build b2 failed"))).toBe(true);
    expect(lines.at(-1)).toMatch(/\] scenario nightly failed \(build orders_clean: build b2 failed\); report: \.weir\/reports\/nightly\/<run-3>\.json$/);
    await vi.waitFor(() => expect(mock.window.showErrorMessage).toHaveBeenCalledWith(
      "weir: scenario nightly failed (build orders_clean: build b2 failed)", "Show log", "Open scenario"));
  });

  it("says a run that succeeded in a notification", async () => {
    const { runner } = await setup([startRoute(), (req, _b, res) => {
      if (req.url !== "/api/scenario-runs/r1/events") return false;
      res.writeHead(200, { "content-type": "text/event-stream" });
      sse(res, "end", scenarioRunEvent("end", { run_id: "r1", status: "succeeded" }));
      res.end();
      return true;
    }]);
    expect((await runner.run("nightly", "Run scenario nightly"))?.status).toBe("succeeded");
    await vi.waitFor(() => expect(mock.window.showInformationMessage).toHaveBeenCalledWith("weir: scenario nightly succeeded", "Show log"));
  });

  it("cancels the run in the daemon when the notification's Cancel is pressed", async () => {
    let stream: ServerResponse | undefined;
    const { runner } = await setup([startRoute(), (req, _b, res) => {
      if (req.url === "/api/scenario-runs/r1/events") {
        stream = res;
        res.writeHead(200, { "content-type": "text/event-stream" });
        sse(res, "scenario", line("scenario nightly (VS Code): 2 steps"));
        return true; // held open until the cancel arrives
      }
      if (req.method === "POST" && req.url === "/api/scenario-runs/r1/cancel") {
        json(res, 200, scenarioRunReport({ run_id: "r1", status: "running" }));
        sse(stream!, "end", scenarioRunEvent("end", { run_id: "r1", status: "cancelled" }));
        stream!.end();
        return true;
      }
      return false;
    }]);
    const running = runner.run("nightly");
    await vi.waitFor(() => expect(notifications.progress.report).toHaveBeenCalled());
    notifications.source.cancel();
    expect((await running)?.status).toBe("cancelled");
    expect(fake!.requests.some((r) => r.method === "POST" && r.url === "/api/scenario-runs/r1/cancel")).toBe(true);
    expect(mock.window.setStatusBarMessage).toHaveBeenCalledWith("$(circle-slash) weir: scenario nightly cancelled", 5000);
    expect(mock.window.showErrorMessage).not.toHaveBeenCalled();
  });

  it("says a start skipped because the scenario runs already, and one the daemon refused", async () => {
    const { runner } = await setup([startRoute("skipped"), (req, _b, res) =>
      req.method === "POST" && req.url === "/api/scenarios/weekly/runs" && json(res, 404, { detail: "unknown scenario 'weekly'" })]);
    expect((await runner.run("nightly"))?.status).toBe("skipped");
    expect(mock.window.showWarningMessage).toHaveBeenCalledWith(
      "weir: scenario nightly is running already (run r0): this start was skipped");
    expect(mock.window.withProgress).not.toHaveBeenCalled();
    expect(await runner.run("weekly")).toBeUndefined();
    expect(mock.window.showErrorMessage).toHaveBeenCalledWith("weir: Run scenario weekly could not start: unknown scenario 'weekly'", "Show Output");
  });
});
