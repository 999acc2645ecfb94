/** A literal Flow shaped like the example project's, for the views' and pickers' tests. */
import type { Flow, FlowNode } from "../src/api";

export function node(name: string, extra: Partial<FlowNode> = {}): FlowNode {
  return { name, kind: "dataset", connection: "local", path: `shop/${name}.parquet`, tags: [], recipe: null, inputs: [], ...extra };
}

export const flow: Flow = {
  project: "shop",
  nodes: [
    node("raw_orders", { kind: "source", tags: ["raw"], status: "source", connection: "landing", path: "orders.csv" }),
    node("customers", { recipe: { name: "customers", kind: "python", file: "recipes/clean.py", line: 17 }, status: "up to date" }),
    node("orders_clean", { recipe: { name: "orders_clean", kind: "python", file: "recipes/clean.py", line: 24 },
      inputs: ["raw_orders", "customers"], status: "stale", reasons: ["recipe changed"] }),
    node("top_products", { recipe: { name: "top_products", kind: "sql", file: "recipes/top_products.sql", line: 1 },
      inputs: ["orders_clean"], tags: ["report", "kpi"], status: "never built" }),
    node("train", { recipe: { name: "split", kind: "python", file: "recipes/split.py", line: 3 }, status: "failed" }),
    node("test", { recipe: { name: "split", kind: "python", file: "recipes/split.py", line: 3 }, status: "failed" }),
  ],
  edges: [],
};
