/**
 * Every command of the extension, each a few lines over the daemon, the build runner and the
 * views. Errors end as one notification that says what to do.
 */
import * as path from "node:path";

import * as vscode from "vscode";

import type { BuildMode, BuildRequest, Flow, FlowNode, Plan } from "./api";
import type { BuildRunner } from "./builds";
import { describeRequest } from "./buildLog";
import type { Daemon } from "./daemon";
import type { Documents } from "./documents";
import { locate, open } from "./files";
import type { FlowPanel } from "./flowPanel";
import type { FlowStore } from "./flowStore";
import type { Logger } from "./log";
import { datasetMarkdown, planMarkdown } from "./render";
import { statusMenu } from "./statusBar";
import { chooseDatasets } from "./targets";
import { DatasetItem, RecipeItem } from "./trees";

export interface CommandDeps {
  root: string;
  daemon: Daemon;
  store: FlowStore;
  runner: BuildRunner;
  flowPanel: FlowPanel;
  documents: Documents;
  log: Logger;
}

const notSource = (n: FlowNode): boolean => n.kind !== "source";

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { daemon, store, runner, log } = deps;

  /** The Flow, starting the daemon if needed; undefined after telling the user why not. */
  const flow = async (): Promise<Flow | undefined> => {
    try {
      if (daemon.state !== "running") {
        await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification,
          title: "weir: starting the daemon…" }, () => daemon.ensure());
      }
      if (!store.flow) await store.refresh();
      if (!store.flow) throw new Error("the daemon did not send the Flow");
      return store.flow;
    } catch (err) {
      fail(err, log);
      return undefined;
    }
  };

  const build = (title: string, mode: BuildMode, plus = false) => async (arg?: unknown): Promise<void> => {
    const f = await flow();
    if (!f) return;
    const names = await chooseDatasets(arg, f, deps.root, { title, many: false, isBuilding: (n) => store.isBuilding(n),
      filter: mode === "downstream" ? undefined : notSource });
    if (!names) return;
    await runner.build({ targets: plus ? names.map((n) => `+${n}`) : names, mode });
  };

  const command = (id: string, fn: (...args: unknown[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (err) {
        fail(err, log);
      }
    });

  return [
    command("weir.buildDataset", build("Build dataset", "required")),
    command("weir.buildUpstream", build("Build upstream (force-rebuild the dataset and everything it reads)", "force", true)),
    command("weir.buildDownstream", build("Build downstream (rebuild what depends on the dataset)", "downstream")),
    command("weir.buildStale", () => runner.build({ targets: [], stale: true })),

    command("weir.plan", async (arg?: unknown) => {
      const f = await flow();
      if (!f) return;
      const names = await chooseDatasets(arg, f, deps.root, { title: "Plan: what would a build of… run, and why",
        many: false, isBuilding: (n) => store.isBuilding(n), filter: notSource });
      if (!names) return;
      const request: BuildRequest = { targets: names, mode: "required" };
      const plan = await planOf(deps, request);
      if (plan) await deps.documents.show(`plan ${names.join(" ")}`, planMarkdown(describeRequest(request), plan));
    }),

    command("weir.showDataset", async (arg?: unknown) => {
      const f = await flow();
      if (!f || !daemon.client) return;
      const names = await chooseDatasets(arg, f, deps.root, { title: "Show dataset", many: false,
        isBuilding: (n) => store.isBuilding(n) });
      if (!names?.[0]) return;
      const detail = await daemon.client.dataset(names[0]);
      await deps.documents.show(names[0], datasetMarkdown(detail));
    }),

    command("weir.openLogs", async (arg?: unknown) => {
      const f = await flow();
      if (!f || !daemon.client) return;
      const names = await chooseDatasets(arg, f, deps.root, { title: "Open the last build log of…", many: false,
        isBuilding: (n) => store.isBuilding(n), filter: notSource });
      if (!names?.[0]) return;
      try {
        const answer = await daemon.client.log(names[0]);
        await open({ file: answer.path, line: 1 });
      } catch (err) {
        void vscode.window.showInformationMessage(`weir: ${errorText(err)}. Build it first (weir: Build Dataset…).`);
      }
    }),

    command("weir.showFlow", () => deps.flowPanel.show()),

    command("weir.startDaemon", () => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification,
      title: "weir: starting the daemon…" }, () => daemon.start())),
    command("weir.stopDaemon", () => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification,
      title: "weir: stopping the daemon (running builds finish first)…" }, () => daemon.stop())),
    command("weir.restartDaemon", () => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification,
      title: "weir: restarting the daemon…" }, () => daemon.restart())),

    command("weir.refresh", () => store.refresh()),
    command("weir.showOutput", () => log.channel.show()),
    command("weir.statusMenu", () => statusMenu(daemon)),

    command("weir.openItem", async (arg?: unknown) => {
      if (arg instanceof RecipeItem) {
        await open({ file: path.join(deps.root, arg.entry.recipe.file), line: arg.entry.recipe.line });
      } else if (arg instanceof DatasetItem) {
        const where = await locate(deps.root, arg.node);
        if (where) await open(where);
        else void vscode.window.showInformationMessage(`weir: no file defines ${arg.node.name}.`);
      }
    }),
  ];
}

/** What a build would run and why, from the daemon (`POST /api/plan`, as `weir plan --json`). */
async function planOf(deps: CommandDeps, request: BuildRequest): Promise<Plan | undefined> {
  const client = deps.daemon.client;
  if (!client) return undefined;
  try {
    return await client.plan(request);
  } catch (err) {
    const why = errorText(err);
    deps.log.error(`weir plan: ${why}`);
    void vscode.window.showErrorMessage(`weir plan failed: ${why}`);
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function fail(err: unknown, log: Logger): void {
  const message = errorText(err);
  log.error(message);
  void vscode.window.showErrorMessage(message.startsWith("weir") ? message : `weir: ${message}`, "Show Output")
    .then((choice) => { if (choice) log.channel.show(true); });
}
