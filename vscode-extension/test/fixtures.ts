/**
 * A literal Flow shaped like the example project's, for the views' and pickers' tests. Every
 * node is checked against the API's validator as it is made (and fakes.test.ts checks the whole
 * Flow), so it is a Flow the daemon could send.
 */
import type { Flow, FlowNode } from "../src/api";
import { flowNode } from "./apiChecks";
import { valid } from "./check";

export function node(name: string, extra: Partial<FlowNode> = {}): FlowNode {
  return valid(flowNode, {
    name, kind: "dataset", connection: "local", storage: "filesystem", keep: false, path: `shop/${name}.parquet`,
    format: "parquet", tags: [],
    zone: null, description: null, recipe: null, definition: { file: `datasets/${name}.yaml`, line: 1 },
    inputs: [], status: "never built", reasons: [], building: false, partitioning: null, partitions: null, ...extra,
  }, `$(node ${name})`);
}

const recipe = (name: string, kind: string, file: string, line: number, fn = name) =>
  ({ recipe: { name, id: kind === "sql" ? file : `${file}:${fn}`, kind, file, line }, definition: { file, line } });

export const flow: Flow = {
  project: "shop",
  environment: null,
  nodes: [
    node("raw_orders", { kind: "source", tags: ["raw"], status: "source", connection: "landing", path: "orders.csv", format: "csv" }),
    node("customers", { ...recipe("customers", "python", "recipes/clean.py", 17), status: "up to date" }),
    node("orders_clean", { ...recipe("orders_clean", "python", "recipes/clean.py", 24),
      inputs: ["raw_orders", "customers"], status: "stale", reasons: ["recipe changed"] }),
    node("top_products", { ...recipe("top_products", "sql", "recipes/top_products.sql", 1),
      inputs: ["orders_clean"], tags: ["report", "kpi"], status: "never built" }),
    node("train", { ...recipe("split", "python", "recipes/split.py", 3), status: "failed" }),
    node("test", { ...recipe("split", "python", "recipes/split.py", 3), status: "failed" }),
  ],
  edges: [
    { from: "raw_orders", to: "orders_clean" }, { from: "customers", to: "orders_clean" },
    { from: "orders_clean", to: "top_products" },
  ],
  flow_version: 1,
  diagnostics: [],
};
