/**
 * Runs a scenario through the daemon the way a build from the editor runs (builds.ts): a
 * cancellable progress notification showing the run's lines as they come (cancelling cancels
 * the run in the daemon), every line in the "weir" output channel, and one notification with
 * the outcome — "Show log" and "Open scenario" when it failed.
 */
import * as path from "node:path";

import * as vscode from "vscode";

import type { ScenarioRunEvents, ScenarioRunReport } from "./api";
import type { Daemon } from "./daemon";
import type { DaemonClient } from "./daemonClient";
import { open } from "./files";
import { errorText, timestamp, type Logger } from "./log";
import { runOutcome } from "./scenarioModel";

/** What a run started from VS Code says started it, in its history. */
export const CAUSE = "VS Code";

export class ScenarioRunner {
  constructor(private readonly daemon: Daemon, private readonly log: Logger) {}

  /** Runs the scenario and follows it to its end; its report (undefined if it never started). */
  async run(name: string, label = `Run scenario ${name}`): Promise<ScenarioRunReport | undefined> {
    let client: DaemonClient;
    let started: ScenarioRunReport;
    try {
      client = await this.daemon.ensureWithProgress();
      started = await client.runScenario(name, CAUSE);
    } catch (err) {
      this.log.showError(`weir: ${label} could not start: ${errorText(err)}`);
      return undefined;
    }
    if (started.status === "skipped") {
      const said = `weir: scenario ${name} is running already (run ${started.skipped_for ?? "?"}): this start was skipped`;
      this.log.build(`[${timestamp()}] ${said}`);
      void vscode.window.showWarningMessage(said);
      return started;
    }
    return this.follow(client, started, label);
  }

  private async follow(client: DaemonClient, started: ScenarioRunReport, label: string): Promise<ScenarioRunReport> {
    this.log.build("");
    this.log.build(`[${timestamp()}] ── scenario run ${started.run_id}: ${label}`);
    const final = await vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification, title: `weir: ${label}`, cancellable: true,
    }, (progress, token) => new Promise<ScenarioRunReport>((resolve) => {
      token.onCancellationRequested(() => {
        this.log.build(`[${timestamp()}] cancelling scenario run ${started.run_id}…`);
        client.cancelScenario(started.run_id).catch((err: unknown) => this.log.error(`cancel failed: ${errorText(err)}`));
      });
      const stream = client.stream(`/api/scenario-runs/${encodeURIComponent(started.run_id)}/events`, (kind, data) => {
        if (kind === "scenario") {
          const event = data as ScenarioRunEvents["scenario"];
          if (event.event === "line" && event.line !== undefined) {
            this.log.build(`[${timestamp()}] ${event.line}`);
            progress.report({ message: event.line });
          }
        } else if (kind === "end") {
          stream.close();
          resolve(data as ScenarioRunEvents["end"]);
        }
      }, (error) => {
        // The stream broke before `end` (the daemon stopped): ask how it went, if it can say.
        client.scenarioRun(started.run_id).then(resolve, () => resolve({
          ...started, status: "failed", error: `lost the daemon while following the run${error ? `: ${error.message}` : ""}`,
        }));
      });
    }));
    const outcome = runOutcome(final);
    this.log.build(`[${timestamp()}] ${outcome}${final.reports.length ? `; report: ${final.reports.join(", ")}` : ""}`);
    void this.tell(client, final, outcome);
    return final;
  }

  private async tell(client: DaemonClient, final: ScenarioRunReport, outcome: string): Promise<void> {
    if (final.status === "cancelled") {
      vscode.window.setStatusBarMessage(`$(circle-slash) weir: ${outcome}`, 5_000);
      return;
    }
    const choice = final.status === "succeeded"
      ? await vscode.window.showInformationMessage(`weir: ${outcome}`, "Show log")
      : await vscode.window.showErrorMessage(`weir: ${outcome}`, "Show log", "Open scenario");
    if (choice === "Show log") {
      this.log.channel.show(true);
    } else if (choice === "Open scenario") {
      const listed = await client.scenarios().catch(() => []);
      const file = listed.find((s) => s.name === final.scenario)?.file ?? `scenarios/${final.scenario}.yaml`;
      await open({ file: path.join(this.daemon.root, file), line: 1 });
    }
  }
}
