import { describe, expect, it } from "vitest";
import * as vscode from "vscode";

import { namesFromArgument, pickItems } from "../src/targets";
import { recipes } from "../src/treeModel";
import { DatasetItem, RecipeItem } from "../src/trees";
import { flow } from "./fixtures";

describe("namesFromArgument", () => {
  it("reads a tree item, a recipe file's URI, a name or a list of names", () => {
    expect(namesFromArgument(new DatasetItem(flow.nodes[2], "tag:x"), flow, "/p")).toEqual(["orders_clean"]);
    const split = recipes(flow).find((r) => r.recipe.name === "split")!;
    expect(namesFromArgument(new RecipeItem(split), flow, "/p")).toEqual(["train", "test"]);
    expect(namesFromArgument(vscode.Uri.file("/p/recipes/clean.py"), flow, "/p")).toEqual(["customers", "orders_clean"]);
    expect(namesFromArgument("top_products", flow, "/p")).toEqual(["top_products"]);
    expect(namesFromArgument(["a", "b"], flow, "/p")).toEqual(["a", "b"]);
  });

  it("names nothing for no argument or a file without recipes (so the user is asked)", () => {
    expect(namesFromArgument(undefined, flow, "/p")).toBeUndefined();
    expect(namesFromArgument(vscode.Uri.file("/p/README.md"), flow, "/p")).toEqual([]);
  });
});

describe("pickItems", () => {
  it("puts the active file's datasets first and shows each one's status and why", () => {
    const items = pickItems(flow, () => false, "recipes/top_products.sql");
    expect(items.map((i) => i.name)).toEqual(["top_products", "customers", "orders_clean", "raw_orders", "test", "train"]);
    expect(items[0]).toMatchObject({ label: "$(circle-large-outline) top_products", description: "never built", picked: true });
    expect(items.find((i) => i.name === "orders_clean")?.description).toBe("stale · recipe changed");
  });

  it("filters (builds leave sources out) and shows a dataset being built", () => {
    const items = pickItems(flow, (n) => n === "customers", undefined, (n) => n.kind !== "source");
    expect(items.map((i) => i.name)).not.toContain("raw_orders");
    expect(items.find((i) => i.name === "customers")?.label).toBe("$(sync~spin) customers");
  });
});
