/**
 * What a command is about: the argument VS Code passes (a tree item, a file's URI, a dataset
 * or scenario name, nothing) turned into dataset names or a scenario, asking with a quick pick
 * when it is not clear.
 */
import * as path from "node:path";

import * as vscode from "vscode";

import type { Flow, FlowNode, ScenarioSummary } from "./api";
import { scenarioDescription, scenarioIcon } from "./scenarioModel";
import { ScenarioItem } from "./scenarioTree";
import { displayStatus, outputsOfFile, statusDescription, statusIcon } from "./treeModel";
import { DatasetItem, RecipeItem } from "./trees";

/** Names named by the argument itself, without asking; undefined when it names nothing. */
export function namesFromArgument(arg: unknown, flow: Flow, root: string): string[] | undefined {
  if (arg instanceof DatasetItem) return [arg.node.name];
  if (arg instanceof RecipeItem) return arg.entry.outputs.map((n) => n.name);
  if (typeof arg === "string") return [arg];
  if (Array.isArray(arg) && arg.every((a) => typeof a === "string")) return arg as string[];
  if (arg instanceof vscode.Uri) return outputsOfFile(flow, relative(root, arg.fsPath));
  return undefined;
}

/** A path as the Flow names files: relative to the project root, with forward slashes. */
function relative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}

export interface PickItem extends vscode.QuickPickItem {
  name: string;
}

/** A quick-pick row: status icon, name, status and why; the active file's datasets first. */
export function pickItems(flow: Flow, isBuilding: (name: string) => boolean, activeFile?: string,
  filter: (n: FlowNode) => boolean = () => true): PickItem[] {
  const mine = new Set(activeFile ? outputsOfFile(flow, activeFile) : []);
  return flow.nodes.filter(filter)
    .sort((a, b) => Number(mine.has(b.name)) - Number(mine.has(a.name)) || a.name.localeCompare(b.name))
    .map((n) => {
      const building = isBuilding(n.name);
      return {
        name: n.name,
        label: `$(${statusIcon(displayStatus(n, building), n.kind).id}) ${n.name}`,
        description: statusDescription(n, building),
        detail: n.description ?? undefined,
        picked: mine.has(n.name),
      };
    });
}

/** The argument's datasets, or the one the user picks (undefined if they cancel). */
export async function chooseDatasets(arg: unknown, flow: Flow, root: string, options: {
  title: string; isBuilding: (name: string) => boolean; filter?: (n: FlowNode) => boolean;
}): Promise<string[] | undefined> {
  const named = namesFromArgument(arg, flow, root);
  if (named && named.length > 0) return named;
  const active = vscode.window.activeTextEditor?.document.uri;
  const items = pickItems(flow, options.isBuilding, active?.scheme === "file" ? relative(root, active.fsPath) : undefined,
    options.filter);
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`weir: no dataset to choose from for “${options.title}”.`);
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(items, {
    title: options.title, matchOnDescription: true, placeHolder: "A dataset (status · why)",
  });
  return chosen ? [chosen.name] : undefined;
}

/** The scenario the argument names (a tree item, its name, its file's URI), else undefined. */
export function scenarioFromArgument(arg: unknown, listed: readonly ScenarioSummary[], root: string):
ScenarioSummary | undefined {
  if (arg instanceof ScenarioItem) return listed.find((s) => s.name === arg.scenario.name) ?? arg.scenario;
  if (typeof arg === "string") return listed.find((s) => s.name === arg);
  if (arg instanceof vscode.Uri) return listed.find((s) => s.file === relative(root, arg.fsPath));
  return undefined;
}

/** The argument's scenario, or the one the user picks from those listed (undefined: none). */
export async function chooseScenario(arg: unknown, listed: readonly ScenarioSummary[], root: string,
  title: string): Promise<ScenarioSummary | undefined> {
  const named = scenarioFromArgument(arg, listed, root);
  if (named) return named;
  if (listed.length === 0) {
    void vscode.window.showInformationMessage("weir: the project has no scenario that reads (scenarios/NAME.yaml; see the Problems panel).");
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(listed.map((s) => ({
    scenario: s,
    label: `$(${scenarioIcon(s).id}) ${s.name}`,
    description: scenarioDescription(s),
    detail: s.description || undefined,
  })), { title, matchOnDescription: true, placeHolder: "A scenario (last outcome · next run)" });
  return chosen?.scenario;
}
