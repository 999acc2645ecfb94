import { describe, expect, it } from "vitest";

import {
  displayStatus, groupByTag, outputsOfFile, partitionsLine, partitionSummary, recipeLook, recipes, statusDescription, statusIcon, UNTAGGED,
} from "../src/treeModel";
import { flow, node } from "./fixtures";

describe("groupByTag", () => {
  it("groups by tag, sorted, with untagged datasets last; a dataset with two tags is in both", () => {
    const groups = groupByTag(flow.nodes).map(([tag, nodes]) => [tag, nodes.map((n) => n.name)]);
    expect(groups).toEqual([
      ["kpi", ["top_products"]],
      ["raw", ["raw_orders"]],
      ["report", ["top_products"]],
      [UNTAGGED, ["customers", "orders_clean", "test", "train"]],
    ]);
  });

  it("has no groups for no datasets", () => {
    expect(groupByTag([])).toEqual([]);
  });
});

describe("recipes", () => {
  it("lists each recipe once with all its outputs, by file then line", () => {
    expect(recipes(flow).map((r) => [r.recipe.name, r.outputs.map((o) => o.name)])).toEqual([
      ["customers", ["customers"]],
      ["orders_clean", ["orders_clean"]],
      ["split", ["train", "test"]],
      ["top_products", ["top_products"]],
    ]);
  });
});

describe("recipeLook", () => {
  it("gives each recipe kind its icon and its language's name, R's included", () => {
    expect(["python", "sql", "r", "julia"].map(recipeLook)).toEqual([
      { icon: "symbol-function", language: "Python" },
      { icon: "database", language: "SQL" },
      { icon: "graph-line", language: "R" },
      { icon: "symbol-function", language: "julia" }, // newer than this extension
    ]);
  });
});

describe("outputsOfFile", () => {
  it("finds the datasets a recipe file builds", () => {
    expect(outputsOfFile(flow, "recipes/clean.py")).toEqual(["customers", "orders_clean"]);
    expect(outputsOfFile(flow, "recipes/nothing.py")).toEqual([]);
  });
});

describe("statuses", () => {
  it("shows building over any stored status, and sources as sources", () => {
    expect(displayStatus(node("x", { status: "stale" }), true)).toBe("building");
    expect(displayStatus(node("x", { kind: "source" }), false)).toBe("source");
    expect(displayStatus(node("x", { status: "invalid" }), false)).toBe("invalid");
  });

  it("marks a source whose checks failed on its data as failed, with the check", () => {
    const failed = node("raw", { kind: "source", status: "failed", reasons: ["check range(amount) failed"] });
    expect(displayStatus(failed, false)).toBe("failed");
    expect(statusDescription(failed, false)).toBe("failed · check range(amount) failed");
  });

  it("gives each status its own icon and a theme colour", () => {
    const ids = (["building", "up to date", "stale", "never built", "failed", "invalid"] as const)
      .map((s) => statusIcon(s, "dataset").id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(statusIcon("failed", "dataset").color).toBe("testing.iconFailed");
    expect(statusIcon("source", "folder").id).toBe("folder");
  });

  it("says why a dataset is stale, but not why it is up to date", () => {
    expect(statusDescription(flow.nodes[2], false)).toBe("stale · recipe changed");
    expect(statusDescription(node("x", { status: "up to date", reasons: ["built"] }), false)).toBe("up to date");
    expect(statusDescription(node("x", { status: "stale" }), true)).toBe("building…");
  });
});

describe("partitions", () => {
  const daily = (partitions: Record<string, number> | null, status: "up to date" | "stale" = "stale") => node("daily", {
    partitioning: "day (event_date)", partitions, status,
    reasons: status === "stale" && partitions ? [partitionSummary(partitions)] : [] });

  it("words the counts as `weir status` does, the states in its order", () => {
    expect(partitionSummary({ failed: 1, stale: 30, "up to date": 334 })).toBe("334 up to date, 30 stale, 1 failed");
    expect(partitionSummary({ source: 3 })).toBe("");
  });

  it("shows a partitioned dataset's counts beside its status and in its tooltip", () => {
    expect(statusDescription(daily({ "up to date": 2, stale: 1 }), false)).toBe("stale · 2 up to date, 1 stale");
    expect(statusDescription(daily({ "up to date": 365 }, "up to date"), false)).toBe("up to date · 365 partitions");
    expect(statusDescription(node("events", { kind: "source", status: "source", partitions: { source: 1 } }), false))
      .toBe("source · 1 partition");
    expect(partitionsLine(daily({ "up to date": 2, stale: 1 })))
      .toBe("partitioned by day (event_date) — 3 partitions: 2 up to date, 1 stale");
    expect(partitionsLine(daily(null))).toBe("partitioned by day (event_date)"); // counts not known
    expect(partitionsLine(node("plain"))).toBe("");
  });
});
