/**
 * Every command of the extension, each a few lines over the daemon, the build runner and the
 * views. Errors end as one notification that says what to do.
 */
import * as path from "node:path";

import * as vscode from "vscode";

import type { BuildRequest, FlowNode, Mode } from "./api";
import type { BuildRunner } from "./builds";
import { describeRequest } from "./buildLog";
import type { Daemon } from "./daemon";
import { DaemonHttpError, type DaemonClient } from "./daemonClient";
import type { Documents } from "./documents";
import { selectEnvironment } from "./environmentPicker";
import { open, openDataset } from "./files";
import type { FlowPanel } from "./flowPanel";
import type { FlowStore } from "./flowStore";
import { errorText, type Logger } from "./log";
import { checksMarkdown, datasetMarkdown, planMarkdown } from "./render";
import type { ScenarioRunner } from "./scenarioRuns";
import type { ScenariosTree } from "./scenarioTree";
import { statusMenu } from "./statusBar";
import { chooseDatasets, chooseScenario } from "./targets";
import { DatasetItem, RecipeItem } from "./trees";

export interface CommandDeps {
  root: string;
  /** The interpreter that runs weir (resolved at each start). */
  python: () => string;
  daemon: Daemon;
  store: FlowStore;
  runner: BuildRunner;
  scenarioRunner: ScenarioRunner;
  scenarios: ScenariosTree;
  flowPanel: FlowPanel;
  documents: Documents;
  log: Logger;
}

const notSource = (n: FlowNode): boolean => n.kind !== "source";

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { daemon, store, runner, log } = deps;

  /**
   * The datasets a command is about (its argument's, else the user's pick) and the daemon's
   * client, starting the daemon if needed; undefined if the user cancels. Errors propagate to
   * `command`, which tells the user.
   */
  const choose = async (arg: unknown, title: string, filter?: (n: FlowNode) => boolean):
  Promise<{ names: string[]; client: DaemonClient } | undefined> => {
    const client = await daemon.ensureWithProgress();
    if (!store.flow) await store.refresh();
    if (!store.flow) throw new Error("the daemon did not send the Flow");
    const names = await chooseDatasets(arg, store.flow, deps.root, { title, filter, isBuilding: (n) => store.isBuilding(n) });
    return names ? { names, client } : undefined;
  };

  /** The scenario a command is about (its argument's, else the user's pick from the daemon's
   * list), starting the daemon if needed; undefined if the user cancels. */
  const scenario = async (arg: unknown, title: string) => {
    const client = await daemon.ensureWithProgress();
    const listed = deps.scenarios.scenarios.length ? deps.scenarios.scenarios : await client.scenarios();
    return chooseScenario(arg, listed, deps.root, title);
  };

  const build = (title: string, mode: Mode, plus = false) => async (arg?: unknown): Promise<void> => {
    const chosen = await choose(arg, title, mode === "downstream" ? undefined : notSource);
    if (!chosen) return;
    await runner.build({ targets: plus ? chosen.names.map((n) => `+${n}`) : chosen.names, mode });
  };

  const command = (id: string, fn: (...args: unknown[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (err) {
        log.showError(errorText(err));
      }
    });

  const withProgress = (title: string, task: () => Promise<void>) => () =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, task);

  return [
    command("weir.buildDataset", build("Build dataset", "required")),
    command("weir.buildUpstream", build("Build upstream (force-rebuild the dataset and everything it reads)", "force", true)),
    command("weir.buildDownstream", build("Build downstream (rebuild what depends on the dataset)", "downstream")),
    command("weir.buildStale", () => runner.build({ targets: [], stale: true })),

    command("weir.plan", async (arg?: unknown) => {
      const chosen = await choose(arg, "Plan: what would a build of… run, and why", notSource);
      if (!chosen) return;
      const request: BuildRequest = { targets: chosen.names, mode: "required" };
      const plan = await chosen.client.plan(request).catch((err: unknown) => {
        throw new Error(`weir plan failed: ${errorText(err)}`);
      });
      await deps.documents.show(`plan ${chosen.names.join(" ")}`, planMarkdown(describeRequest(request), plan));
    }),

    command("weir.showDataset", async (arg?: unknown) => {
      const chosen = await choose(arg, "Show dataset");
      const name = chosen?.names[0];
      if (!chosen || !name) return;
      await deps.documents.show(name, datasetMarkdown(await chosen.client.dataset(name)));
    }),

    command("weir.runChecks", async (arg?: unknown) => {
      const chosen = await choose(arg, "Run the checks of… (on their data now, without building)");
      if (!chosen) return;
      const label = chosen.names.join(" ");
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `weir: checking ${label}…` },
        () => chosen.client.check(chosen.names).catch((err: unknown) => {
          throw new Error(`weir check failed: ${errorText(err)}`);
        }));
      await deps.documents.show(`checks ${label}`, checksMarkdown(label, report));
      if (!report.ok) void vscode.window.showWarningMessage(`weir: checks of ${label} failed (the document has what they found).`);
    }),

    command("weir.openLogs", async (arg?: unknown) => {
      const chosen = await choose(arg, "Open the last build log of…", notSource);
      const name = chosen?.names[0];
      if (!chosen || !name) return;
      try {
        await open({ file: (await chosen.client.log(name)).path, line: 1 });
      } catch (err) {
        // 404: no build yet. Anything else (the daemon went away) is an error like any other.
        if (!(err instanceof DaemonHttpError && err.status === 404)) throw err;
        void vscode.window.showInformationMessage(`weir: ${err.message}. Build it first (weir: Build Dataset…).`);
      }
    }),

    command("weir.runScenario", async (arg?: unknown) => {
      const chosen = await scenario(arg, "Run scenario (now, through the daemon)");
      if (chosen) await deps.scenarioRunner.run(chosen.name);
    }),

    command("weir.openScenario", async (arg?: unknown) => {
      const chosen = await scenario(arg, "Open scenario file");
      if (chosen) await open({ file: path.join(deps.root, chosen.file), line: 1 });
    }),

    command("weir.showFlow", () => deps.flowPanel.show()),

    command("weir.startDaemon", withProgress("weir: starting the daemon…", () => daemon.start())),
    command("weir.stopDaemon", withProgress("weir: stopping the daemon (running builds finish first)…", () => daemon.stop())),
    command("weir.restartDaemon", withProgress("weir: restarting the daemon…", () => daemon.restart())),

    command("weir.refresh", () => Promise.all([store.refresh(), deps.scenarios.refresh()])),
    command("weir.showOutput", () => log.channel.show()),
    command("weir.statusMenu", () => statusMenu(daemon)),
    command("weir.selectEnvironment", () => selectEnvironment(deps.root, deps.python())),

    command("weir.openItem", async (arg?: unknown) => {
      if (arg instanceof RecipeItem) {
        await open({ file: path.join(deps.root, arg.entry.recipe.file), line: arg.entry.recipe.line });
      } else if (arg instanceof DatasetItem) {
        await openDataset(deps.root, arg.node.name, arg.node);
      }
    }),
  ];
}
