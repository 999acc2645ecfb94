/**
 * The "weir" activity-bar views: Datasets (grouped by tag, a status icon each, the schema as
 * children) and Recipes (each with the datasets it builds). Both redraw when the FlowStore
 * changes, i.e. live from the daemon's event stream.
 */
import * as vscode from "vscode";

import type { Column, DatasetDetail, Flow, FlowNode } from "./api";
import type { Daemon } from "./daemon";
import type { FlowStore } from "./flowStore";
import { errorText } from "./log";
import {
  displayStatus, groupByTag, partitionsLine, partitionSummary, recipeLook, recipes, statusDescription, statusIcon, type RecipeEntry,
} from "./treeModel";

export class TagItem {
  constructor(readonly tag: string, readonly nodes: FlowNode[]) {}
  get id(): string { return `tag:${this.tag}`; }
}

export class DatasetItem {
  constructor(readonly node: FlowNode, readonly parentId: string) {}
  get id(): string { return `${this.parentId}/dataset:${this.node.name}`; }
}

export class RecipeItem {
  constructor(readonly entry: RecipeEntry) {}
  get id(): string { return `recipe:${this.entry.recipe.name}`; }
}

export class ColumnItem {
  constructor(readonly column: Column, readonly parentId: string) {}
}

export class InfoItem {
  constructor(readonly text: string, readonly icon = "info") {}
}

export type WeirElement = TagItem | DatasetItem | RecipeItem | ColumnItem | InfoItem;

abstract class WeirTree implements vscode.TreeDataProvider<WeirElement>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<WeirElement | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly subscription: vscode.Disposable;
  /** Datasets' details (for their schema) as of `detailsOf`'s Flow: the tree redraws on every
   * event of a build, and an expanded dataset must not cost a request each time. */
  private details = new Map<string, Promise<DatasetDetail>>();
  private detailsOf: Flow | undefined;

  constructor(protected readonly store: FlowStore, protected readonly daemon: Daemon) {
    this.subscription = store.onDidChange(() => this.emitter.fire(undefined));
  }

  getTreeItem(element: WeirElement): vscode.TreeItem {
    if (element instanceof TagItem) {
      const item = new vscode.TreeItem(element.tag, vscode.TreeItemCollapsibleState.Expanded);
      item.id = element.id;
      item.iconPath = new vscode.ThemeIcon("tag");
      item.description = `${element.nodes.length}`;
      item.contextValue = "weir.tag";
      return item;
    }
    if (element instanceof DatasetItem) return this.datasetItem(element);
    if (element instanceof RecipeItem) {
      const { recipe, outputs } = element.entry;
      const item = new vscode.TreeItem(recipe.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = element.id;
      item.description = `${recipe.file}:${recipe.line}`;
      const look = recipeLook(recipe.kind);
      item.iconPath = new vscode.ThemeIcon(look.icon);
      item.tooltip = `${look.language} recipe ${recipe.name} — builds ${outputs.map((o) => o.name).join(", ")}`;
      item.contextValue = "weir.recipe";
      item.command = { command: "weir.openItem", title: "Open", arguments: [element] };
      return item;
    }
    if (element instanceof ColumnItem) {
      const [name, type, nullable] = element.column;
      const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.None);
      item.id = `${element.parentId}/column:${name}`;
      item.description = `${type}${nullable ? "" : " · not null"}`;
      item.iconPath = new vscode.ThemeIcon("symbol-field");
      item.contextValue = "weir.column";
      return item;
    }
    const item = new vscode.TreeItem(element.text, vscode.TreeItemCollapsibleState.None);
    item.iconPath = new vscode.ThemeIcon(element.icon);
    return item;
  }

  async getChildren(element?: WeirElement): Promise<WeirElement[]> {
    if (element instanceof TagItem) return element.nodes.map((n) => new DatasetItem(n, element.id));
    if (element instanceof RecipeItem) return element.entry.outputs.map((n) => new DatasetItem(n, element.id));
    if (element instanceof DatasetItem) return this.schema(element);
    if (element) return [];
    const flow = this.store.flow;
    if (!flow || this.daemon.state !== "running") return [];
    if (flow.project === null) {
      return [new InfoItem("The project has errors: see the Problems panel", "error")];
    }
    return this.roots();
  }

  protected abstract roots(): WeirElement[];

  private datasetItem(element: DatasetItem): vscode.TreeItem {
    const node = element.node;
    const building = this.store.isBuilding(node.name);
    const status = displayStatus(node, building);
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = element.id;
    item.description = statusDescription(node, building);
    const icon = statusIcon(status, node.kind);
    item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    item.accessibilityInformation = { label: `${node.name}, ${status}` };
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${node.name}** — ${status}`);
    // (a partitioned dataset's reason is its counts, which its partitions line says)
    const reasons = (node.reasons ?? []).filter((r) => !node.partitions || r !== partitionSummary(node.partitions));
    if (reasons.length) tooltip.appendMarkdown(` (${reasons.join(", ")})`);
    if (node.partitioning) tooltip.appendMarkdown(`\n\n${partitionsLine(node)}`);
    if (node.description) tooltip.appendMarkdown(`\n\n${node.description}`);
    tooltip.appendMarkdown(`\n\n\`${node.connection}:${node.path}\``);
    if (node.recipe) tooltip.appendMarkdown(`\n\nbuilt by \`${node.recipe.file}:${node.recipe.line}\``);
    item.tooltip = tooltip;
    item.contextValue = node.kind === "source" ? "weir.source" : node.kind === "folder" ? "weir.folder" : "weir.dataset";
    item.command = { command: "weir.openItem", title: "Open", arguments: [element] };
    return item;
  }

  private async schema(element: DatasetItem): Promise<WeirElement[]> {
    try {
      const detail = await this.detail(element.node.name);
      if (!detail) return [];
      const columns = detail.schema ?? detail.declared_schema;
      if (!columns?.length) {
        return [new InfoItem(detail.kind === "folder" ? "a folder of files" : "no schema yet: build it", "circle-slash")];
      }
      return columns.map((c) => new ColumnItem(c, element.id));
    } catch (err) {
      return [new InfoItem(`cannot read the schema: ${errorText(err)}`, "error")];
    }
  }

  /** A dataset's detail, asked once per Flow (a build's end or a file change brings a new one). */
  private detail(name: string): Promise<DatasetDetail> | undefined {
    const client = this.daemon.client;
    if (!client) return undefined;
    if (this.detailsOf !== this.store.flow) {
      this.details.clear();
      this.detailsOf = this.store.flow;
    }
    const known = this.details.get(name);
    if (known) return known;
    const asked = client.dataset(name);
    this.details.set(name, asked);
    // A failure is not kept: the next redraw asks again.
    asked.catch(() => { if (this.details.get(name) === asked) this.details.delete(name); });
    return asked;
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

export class DatasetsTree extends WeirTree {
  protected roots(): WeirElement[] {
    return groupByTag(this.store.flow?.nodes ?? []).map(([tag, nodes]) => new TagItem(tag, nodes));
  }
}

export class RecipesTree extends WeirTree {
  protected roots(): WeirElement[] {
    const flow = this.store.flow;
    return flow ? recipes(flow).map((e) => new RecipeItem(e)) : [];
  }
}
