import { describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import type { Daemon } from "../src/daemon";
import type { FlowStore } from "../src/flowStore";
import { ColumnItem, DatasetItem, DatasetsTree, RecipeItem, RecipesTree } from "../src/trees";
import { datasetDetail } from "./answers";
import { flow, node } from "./fixtures";

describe("DatasetsTree", () => {
  it("asks the daemon for an expanded dataset's schema once per Flow, not on every redraw", async () => {
    const changes = new vscode.EventEmitter<void>();
    const store = { flow, onDidChange: changes.event, isBuilding: () => false } as unknown as FlowStore & { flow: typeof flow };
    const dataset = vi.fn(async () => datasetDetail({ kind: "dataset", schema: [["order_id", "int64", false]], declared_schema: null }));
    const daemon = { state: "running", client: { dataset } } as unknown as Daemon;
    const tree = new DatasetsTree(store, daemon);
    const item = new DatasetItem(flow.nodes[2], "tag:untagged");

    const columns = await tree.getChildren(item);
    expect(columns).toHaveLength(1);
    expect(columns[0]).toBeInstanceOf(ColumnItem);
    expect((columns[0] as ColumnItem).parentId).toBe("tag:untagged/dataset:orders_clean");
    await tree.getChildren(item);
    expect(dataset).toHaveBeenCalledTimes(1);

    store.flow = { ...flow }; // a build ended: a new Flow, maybe a new schema
    await tree.getChildren(item);
    expect(dataset).toHaveBeenCalledTimes(2);
    tree.dispose();
  });
});

describe("RecipesTree", () => {
  it("shows an R recipe with its own icon and language", () => {
    const cohorts = node("cohorts", {
      recipe: { name: "cohorts", id: "recipes/cohorts.R", kind: "r", file: "recipes/cohorts.R", line: 3 },
    });
    const store = { flow: { ...flow, nodes: [cohorts] }, onDidChange: new vscode.EventEmitter<void>().event };
    const tree = new RecipesTree(store as unknown as FlowStore, { state: "running" } as unknown as Daemon);
    const item = tree.getTreeItem(new RecipeItem({ recipe: cohorts.recipe!, outputs: [cohorts] }));
    expect((item.iconPath as vscode.ThemeIcon).id).toBe("graph-line");
    expect(item.tooltip).toBe("R recipe cohorts — builds cohorts");
    expect(item.description).toBe("recipes/cohorts.R:3");
    tree.dispose();
  });
});
