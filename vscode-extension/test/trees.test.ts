import { describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import type { Daemon } from "../src/daemon";
import type { FlowStore } from "../src/flowStore";
import { ColumnItem, DatasetItem, DatasetsTree } from "../src/trees";
import { datasetDetail } from "./answers";
import { flow } from "./fixtures";

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
