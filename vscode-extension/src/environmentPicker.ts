/**
 * **weir: Select Environment…**: lists weir.yaml's environments, and writes the one chosen to
 * the workspace's `weir.environment` setting. The extension follows the setting (extension.ts),
 * so a change made by hand in settings.json does the same as the picker.
 */
import * as vscode from "vscode";

import { ENV_VARIABLE, environmentItems, listEnvironments } from "./environment";
import { exec, type Exec } from "./python";

export async function selectEnvironment(root: string, python: string, run: Exec = exec): Promise<void> {
  const listed = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: "weir: reading weir.yaml's environments" },
    () => listEnvironments(python, root, run));
  if (!listed.ok) throw new Error(`cannot list weir.yaml's environments: ${listed.message}`);
  const config = vscode.workspace.getConfiguration("weir");
  const setting = config.get<string>("environment", "");
  if (listed.environments.length === 0 && !setting.trim()) {
    void vscode.window.showInformationMessage("weir: weir.yaml declares no environments "
      + "(`environments: {dev: {branch: dev}, prod: {branch: main}}`; docs/project-format.md).");
    return;
  }
  const items = environmentItems(listed.environments, setting, process.env[ENV_VARIABLE]);
  const choice = await vscode.window.showQuickPick(items, {
    title: "weir: Select Environment",
    placeHolder: "The environment to work in: its daemon, statuses, variables and builds",
  });
  if (!choice || choice.value === setting.trim()) return;
  // "(default)" removes the workspace's value, unless a user-wide one would then win: then the
  // workspace says "" (the default) explicitly.
  const userWide = config.inspect<string>("environment")?.globalValue;
  const value = choice.value || (userWide ? "" : undefined);
  await config.update("environment", value, vscode.ConfigurationTarget.Workspace);
}
