/**
 * The extension's entry point: find the weir project, make sure weir runs in the chosen Python,
 * then start the language server and connect to (or start) the project's daemon — both in the
 * environment `weir.environment` chooses — and wire the views and commands to them. Everything
 * created here is owned by the activation context.
 */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";

import type { Flow } from "./api";
import { BuildRunner } from "./builds";
import { registerCommands } from "./commands";
import { Daemon } from "./daemon";
import { Documents } from "./documents";
import { activeEnvironment } from "./environment";
import { FlowPanel } from "./flowPanel";
import { FlowStore } from "./flowStore";
import { createClient } from "./languageClient";
import { errorText, Logger } from "./log";
import { findProjectRoot } from "./project";
import {
  checkWeir, explain, resolveInterpreter, type Interpreter, type PythonExtensionApi,
} from "./python";
import { ScenarioRunner } from "./scenarioRuns";
import { ScenariosTree } from "./scenarioTree";
import { readSettings } from "./settings";
import { StatusBar } from "./statusBar";
import { DatasetsTree, RecipesTree } from "./trees";

const PYTHON_EXTENSION = "ms-python.python";

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = vscode.window.createOutputChannel("weir");
  const log = new Logger(channel, () => readSettings().logLevel);
  context.subscriptions.push(channel);

  const root = await findProjectRoot();
  if (!root) {
    log.info("no weir.yaml in this workspace: nothing to do");
    return;
  }
  void vscode.commands.executeCommand("setContext", "weir.active", true);
  log.info(`weir project at ${root}`);

  let interpreter: Interpreter = { path: "python3", source: "default" };
  let client: LanguageClient | undefined;

  const daemon = new Daemon(root, () => interpreter.path, log);
  const store = new FlowStore(daemon, log);
  const runner = new BuildRunner(daemon, store, log);
  const scenarioRunner = new ScenarioRunner(daemon, log);
  const documents = new Documents();
  const flowPanel = new FlowPanel(context.extensionUri, daemon, store, runner, log);
  const datasets = new DatasetsTree(store, daemon);
  const recipes = new RecipesTree(store, daemon);
  const scenarios = new ScenariosTree(daemon, log);
  const statusBar = new StatusBar(daemon, store);
  const rootUri = vscode.Uri.file(root);
  let recipeFilesOf: Flow | undefined;
  const views = [
    vscode.window.createTreeView("weir.datasets", { treeDataProvider: datasets, showCollapseAll: true }),
    vscode.window.createTreeView("weir.recipes", { treeDataProvider: recipes, showCollapseAll: true }),
    vscode.window.createTreeView("weir.scenarios", { treeDataProvider: scenarios }),
  ];
  context.subscriptions.push(daemon, store, documents, flowPanel, datasets, recipes, scenarios, statusBar,
    vscode.workspace.registerTextDocumentContentProvider(Documents.scheme, documents),
    ...views,
    // Beside each view's title, whose statuses they are ("Datasets  prod").
    daemon.onDidChangeEnvironment((environment) => {
      for (const view of views) view.description = environment;
    }),
    daemon.onDidChangeState((state) => {
      void vscode.commands.executeCommand("setContext", "weir.daemonRunning", state === "running");
    }),
    store.onDidChange(() => {
      // The store changes on every job event; the recipe files only with a new Flow.
      if (store.flow === recipeFilesOf) return;
      recipeFilesOf = store.flow;
      const files = new Set((store.flow?.nodes ?? []).flatMap((n) => (n.recipe ? [vscode.Uri.joinPath(rootUri, n.recipe.file).fsPath] : [])));
      void vscode.commands.executeCommand("setContext", "weir.recipeFiles", [...files]);
    }),
    ...registerCommands({
      root, python: () => interpreter.path, daemon, store, runner, scenarioRunner, scenarios, flowPanel, documents, log,
    }),
  );

  const python = await pythonExtension();

  /** Finds the interpreter, checks weir in it, and (re)starts the language server and daemon,
   * in the environment the settings choose (the daemon lets go of another's first). */
  const start = async (): Promise<void> => {
    await client?.stop().catch(() => undefined);
    client = undefined;
    const settings = readSettings();
    const environment = activeEnvironment(settings.environment, process.env);
    if (daemon.switchEnvironment(environment)) log.info(`working in ${environment ? `the environment ${environment}` : "no environment"}`);
    interpreter = await resolveInterpreter(settings.pythonPath, python, rootUri);
    const check = await checkWeir(interpreter.path);
    if (!check.ok) {
      const { message, install } = explain(check, interpreter);
      log.error(`${message}\n${check.detail}`);
      statusBar.problem = message;
      void offerFix(message, install, log, () => void start());
      return;
    }
    statusBar.problem = undefined;
    log.info(`weir ${check.version} in ${interpreter.path} (from ${interpreter.source})`);
    client = createClient({
      python: interpreter.path, root, debug: settings.logLevel === "debug", environment,
      runBuild: (request, label) => runner.build(request, label),
      runScenario: (name, label) => scenarioRunner.run(name, label),
    });
    try {
      await client.start();
    } catch (err) {
      log.showError(`weir: the language server did not start (${interpreter.path} -m weir lsp): ${errorText(err)}`);
    }
    if (!(await daemon.connect())) {
      if (settings.daemonAutostart) daemon.start().catch((err: unknown) => log.showError(errorText(err)));
      else daemon.startPolling();
    }
  };

  context.subscriptions.push(
    { dispose: () => void client?.stop() },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("weir.environment")) {
        log.info("weir.environment changed: moving the daemon and the language server to it");
        void start();
      } else if (e.affectsConfiguration("weir.pythonPath") || e.affectsConfiguration("weir.logLevel")) {
        log.info("settings changed: restarting the language server");
        void start();
      }
    }),
  );
  const onInterpreter = python?.environments?.onDidChangeActiveEnvironmentPath;
  if (onInterpreter) {
    // Always listen: the setting may be cleared later, and then the Python extension decides.
    context.subscriptions.push(onInterpreter(() => {
      if (readSettings().pythonPath) return; // weir.pythonPath wins over the selection
      log.info("the Python interpreter changed: restarting the language server");
      void start();
    }));
  }
  await start();
}

export function deactivate(): void {
  // Everything is in context.subscriptions; VS Code disposes it. The daemon keeps running: it
  // serves the CLI and other windows too (weir: Stop Daemon stops it).
}

async function pythonExtension(): Promise<(PythonExtensionApi & {
  environments?: { onDidChangeActiveEnvironmentPath?: vscode.Event<unknown> };
}) | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
  if (!ext) return undefined;
  try {
    return (ext.isActive ? ext.exports : await ext.activate()) as PythonExtensionApi;
  } catch {
    return undefined;
  }
}

async function offerFix(message: string, install: string | undefined, log: Logger, retry: () => void): Promise<void> {
  const actions = install ? ["Install weir", "Choose Interpreter…", "Show Output"] : ["Choose Interpreter…", "Show Output"];
  const choice = await vscode.window.showErrorMessage(message, ...actions);
  if (choice === "Install weir" && install) {
    const terminal = vscode.window.createTerminal("weir: install");
    terminal.show();
    terminal.sendText(install);
    const again = await vscode.window.showInformationMessage("weir: when the install in the terminal has finished, start weir.", "Start weir");
    if (again) retry();
  } else if (choice === "Choose Interpreter…") {
    const hasPython = vscode.extensions.getExtension(PYTHON_EXTENSION) !== undefined;
    await vscode.commands.executeCommand(hasPython ? "python.setInterpreter" : "workbench.action.openSettings", hasPython ? undefined : "weir.pythonPath");
  } else if (choice === "Show Output") {
    log.channel.show(true);
  }
}
