/**
 * The "Scenarios" view of the weir activity bar: each scenario with its last outcome (icon),
 * whether it runs, and its next run (in local time). It asks the daemon for the list
 * (GET /api/scenarios) when it connects, when the Flow changes (a scenario file saved) and when
 * a run starts, ends or is skipped (`scenario` events), so it is live from the event stream.
 */
import * as vscode from "vscode";

import type { DaemonEvents, ScenarioSummary } from "./api";
import { coalesced } from "./coalesce";
import type { Daemon } from "./daemon";
import { errorText, type Logger } from "./log";
import { scenarioDescription, scenarioIcon, scenarioTooltip } from "./scenarioModel";

export class ScenarioItem {
  constructor(readonly scenario: ScenarioSummary) {}
  get id(): string { return `scenario:${this.scenario.name}`; }
}

/** The events after which the list is asked for again (a `line` or `step` changes nothing). */
const CHANGES_LIST = new Set(["start", "end", "skipped"]);

export class ScenariosTree implements vscode.TreeDataProvider<ScenarioItem>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<ScenarioItem | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subscriptions: vscode.Disposable[];
  private listValue: ScenarioSummary[] = [];

  constructor(private readonly daemon: Daemon, private readonly log: Logger) {
    this.subscriptions = [
      daemon.onEvent(({ kind, data }) => {
        if (kind === "hello" || kind === "flow") void this.refresh();
        else if (kind === "scenario" && CHANGES_LIST.has((data as DaemonEvents["scenario"]).event)) void this.refresh();
      }),
      daemon.onDidChangeState((state) => {
        if (state !== "stopped") return;
        this.listValue = [];
        this.emitter.fire(undefined);
      }),
    ];
  }

  /** The scenarios as the daemon last listed them (none while it does not run). */
  get scenarios(): readonly ScenarioSummary[] {
    return this.listValue;
  }

  /** Asks the daemon for the list again; calls meanwhile share one request and one follow-up. */
  readonly refresh = coalesced(async () => {
    const client = this.daemon.client;
    if (!client) return;
    try {
      const list = await client.scenarios();
      if (client !== this.daemon.client) return; // another environment's daemon meanwhile
      this.listValue = list;
      this.emitter.fire(undefined);
    } catch (err) {
      this.log.warn(`could not read the scenarios from the daemon: ${errorText(err)}`);
    }
  });

  getTreeItem(element: ScenarioItem): vscode.TreeItem {
    const s = element.scenario;
    const item = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.None);
    item.id = element.id;
    item.description = scenarioDescription(s);
    const icon = scenarioIcon(s);
    item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    item.tooltip = new vscode.MarkdownString(scenarioTooltip(s));
    item.accessibilityInformation = { label: `${s.name}, ${item.description}` };
    item.contextValue = s.running ? "weir.scenario.running" : "weir.scenario";
    item.command = { command: "weir.openScenario", title: "Open Scenario File", arguments: [element] };
    return item;
  }

  getChildren(element?: ScenarioItem): ScenarioItem[] {
    if (element || this.daemon.state !== "running") return [];
    return this.listValue.map((s) => new ScenarioItem(s));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.emitter.dispose();
  }
}
