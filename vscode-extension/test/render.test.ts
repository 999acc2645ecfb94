import { describe, expect, it } from "vitest";

import { checksMarkdown, datasetMarkdown, planMarkdown } from "../src/render";
import { datasetDetail, historyEntry, plan, plannedJob } from "./answers";

const detail = datasetDetail({
  name: "orders_clean", description: "Completed orders", kind: "dataset", connection: "local", path: "shop/orders_clean.parquet",
  format: "parquet", tags: [], inputs: ["raw_orders"], consumers: ["top_products"], status: "stale", reasons: ["recipe changed"],
  recipe: { name: "orders_clean", id: "recipes/clean.py:orders_clean", file: "recipes/clean.py", line: 24, kind: "python" },
  schema: [["order_id", "int64", false], ["note|x", "string", true]], declared_schema: null, rows: 3580, built_at: 1_700_000_000,
  builds: [historyEntry({ status: "built", finished: 1_700_000_000, rows: 3580 })],
  checks: [{ name: "unique(order_id)", kind: "unique", severity: "error", passed: true, failing: 0, message: "", examples: [] },
    { name: "big", kind: "sql", severity: "warning", passed: false, failing: 2, message: "2 rows returned by the query", examples: [] }],
  checked_at: 1_700_000_000,
});

describe("datasetMarkdown", () => {
  const md = datasetMarkdown(detail);

  it("shows the last checks, a failed warning as a warning", () => {
    expect(md).toContain("## Checks");
    expect(md).toContain("| unique(order_id) | passed |  |");
    expect(md).toContain("| big | warning | 2 rows returned by the query |");
  });

  it("shows status and why, the recipe, rows and the observed schema", () => {
    expect(md).toContain("**stale** — recipe changed");
    expect(md).toContain("| recipe | `recipes/clean.py:24` (python) |");
    expect(md).toContain("| rows | 3,580 |");
    expect(md).toContain("## Schema (observed)");
    expect(md).toContain("| order_id | int64 | no |");
  });

  it("escapes a pipe in a column name so the table holds", () => {
    expect(md).toContain("| note\\|x | string | yes |");
  });

  it("lists the last builds, or says it was never built", () => {
    expect(md).toContain("| 2023-11-14 22:13:20 | built | 3580 |");
    expect(datasetMarkdown({ ...detail, builds: [], schema: null })).toContain("Never built.");
    expect(datasetMarkdown({ ...detail, builds: [], schema: null })).toContain("No schema yet");
  });
});

describe("planMarkdown", () => {
  it("tables the jobs in order with why and what they wait for", () => {
    const md = planMarkdown("top", plan({ targets: ["top"], up_to_date: ["raw"], notes: ["a note"], jobs: [
      plannedJob({ recipe: "r:a", action: "run", outputs: ["a"], reasons: { a: ["never built"] }, after: [] }),
      plannedJob({ recipe: "r:top", action: "restore", outputs: ["top"], reasons: { top: ["input a changed"] }, after: ["r:a"] })] }));
    expect(md).toContain("1 recipe to run, 1 to restore from earlier builds");
    expect(md).toContain("| 2 | restore | top | input a changed | r:a |");
    expect(md).toContain("> a note");
    expect(md).toContain("Up to date, not rebuilt: raw.");
  });
});

describe("checksMarkdown", () => {
  it("says what failed, with the rows that broke it, and what could not be checked", () => {
    const md = checksMarkdown("orders orders_clean", { ok: false, datasets: [
      { name: "orders", error: null, checks: [
        { name: "range(amount)", kind: "range", severity: "error", passed: false, failing: 1, message: "1 row out of range",
          examples: [{ id: 2, "note|x": "-3.0" }] },
        { name: "few", kind: "row_count", severity: "warning", passed: false, failing: 1, message: "4 rows (wanted at most 3)", examples: [] }] },
      { name: "orders_clean", error: "no data at shop/orders_clean.parquet", checks: [] }] });
    expect(md).toContain("**1 failed**, 1 warning");
    expect(md).toContain("| range(amount) | **failed** | 1 row out of range |");
    expect(md).toContain("| few | warning | 4 rows (wanted at most 3) |");
    expect(md).toContain("| id | note\\|x |");
    expect(md).toContain("| 2 | -3.0 |");
    expect(md).toContain("Not checked: no data at shop/orders_clean.parquet");
  });

  it("says passed, and that there is nothing to check", () => {
    expect(checksMarkdown("a", { ok: true, datasets: [{ name: "a", error: null, checks: [
      { name: "unique(id)", kind: "unique", severity: "error", passed: true, failing: 0, message: "", examples: [] }] }] }))
      .toContain("**passed**");
    expect(checksMarkdown("b", { ok: true, datasets: [] })).toContain("None of these datasets has checks");
  });
});
