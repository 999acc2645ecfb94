/**
 * The status-bar item: the environment the window works in, the daemon's state and how many
 * builds are queued or running. A click opens a small menu of the actions that make sense in
 * that state.
 */
import * as vscode from "vscode";

import type { Daemon, DaemonState } from "./daemon";
import { environmentSuffix } from "./environment";
import type { FlowStore } from "./flowStore";

/** The item's text and tooltip; `environment` is the daemon's, named as "weir · prod" (an
 * environment's statuses are its own, so the user must see whose they are). */
export function statusText(state: DaemonState, builds: number, url?: string, environment?: string):
{ text: string; tooltip: string } {
  const weir = `weir${environmentSuffix(environment)}`;
  const daemon = `weir daemon${environment ? ` in ${environment}` : ""}`;
  switch (state) {
    case "running":
      return builds > 0
        ? { text: `$(sync~spin) ${weir}: ${builds} build${builds === 1 ? "" : "s"}`,
          tooltip: `${daemon} at ${url ?? "?"}: ${builds} build${builds === 1 ? "" : "s"} queued or running` }
        : { text: `$(pass) ${weir}`, tooltip: `${daemon} running at ${url ?? "?"}` };
    case "starting":
      return { text: `$(loading~spin) ${weir}: starting`, tooltip: `Starting the ${daemon}…` };
    case "stopping":
      return { text: `$(loading~spin) ${weir}: stopping`, tooltip: `Stopping the ${daemon}…` };
    default:
      return { text: `$(circle-slash) ${weir}: stopped`, tooltip: `The ${daemon} is not running: click to start it` };
  }
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("weir.status", vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[];
  private problemText: string | undefined;

  constructor(private readonly daemon: Daemon, private readonly store: FlowStore) {
    this.item.name = "weir";
    this.subscriptions = [
      daemon.onDidChangeState(() => this.update()),
      daemon.onDidChangeEnvironment(() => this.update()),
      store.onDidChange(() => this.update()),
    ];
    this.update();
    this.item.show();
  }

  /** A problem that stops weir altogether (weir not installed): shown until cleared. */
  set problem(message: string | undefined) {
    this.problemText = message;
    this.update();
  }

  private update(): void {
    if (this.problemText) {
      this.item.text = "$(error) weir";
      this.item.tooltip = this.problemText;
      this.item.command = "weir.showOutput";
      return;
    }
    const { text, tooltip } = statusText(this.daemon.state, this.store.activeBuilds, this.daemon.client?.url,
      this.daemon.environment);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = "weir.statusMenu";
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}

/** The status-bar item's menu. */
export async function statusMenu(daemon: Daemon): Promise<void> {
  const running = daemon.state === "running";
  const items: (vscode.QuickPickItem & { command: string })[] = running
    ? [
      { label: "$(type-hierarchy) Show Flow", command: "weir.showFlow" },
      { label: "$(run-all) Build All Stale", command: "weir.buildStale" },
      { label: "$(output) Show Output", command: "weir.showOutput" },
      { label: "$(server-environment) Select Environment…", command: "weir.selectEnvironment" },
      { label: "$(debug-restart) Restart Daemon", command: "weir.restartDaemon" },
      { label: "$(debug-stop) Stop Daemon", command: "weir.stopDaemon" },
    ]
    : [
      { label: "$(debug-start) Start Daemon", command: "weir.startDaemon" },
      { label: "$(server-environment) Select Environment…", command: "weir.selectEnvironment" },
      { label: "$(output) Show Output", command: "weir.showOutput" },
    ];
  const title = `weir${environmentSuffix(daemon.environment)}`;
  const choice = await vscode.window.showQuickPick(items, { title, placeHolder: "weir daemon" });
  if (choice) await vscode.commands.executeCommand(choice.command);
}
