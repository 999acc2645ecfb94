/**
 * What the weir views show, as plain data: datasets grouped by tag, recipes with their outputs,
 * the icon and words for a status. No VS Code objects here, so it is tested on literal Flows.
 */
import type { DatasetState, Flow, FlowNode, PartitionCounts, RecipeRef } from "./api";

export const UNTAGGED = "untagged";

/** Tag → its datasets (a dataset with two tags is in both groups); tags sorted, untagged last. */
export function groupByTag(nodes: FlowNode[]): [string, FlowNode[]][] {
  const groups = new Map<string, FlowNode[]>();
  for (const node of nodes) {
    const tags = node.tags.length ? node.tags : [UNTAGGED];
    for (const tag of tags) {
      const list = groups.get(tag) ?? [];
      list.push(node);
      groups.set(tag, list);
    }
  }
  const byName = (a: FlowNode, b: FlowNode): number => a.name.localeCompare(b.name);
  return [...groups.entries()]
    .map(([tag, list]): [string, FlowNode[]] => [tag, [...list].sort(byName)])
    .sort(([a], [b]) => (a === UNTAGGED ? 1 : b === UNTAGGED ? -1 : a.localeCompare(b)));
}

export interface RecipeEntry {
  recipe: RecipeRef;
  outputs: FlowNode[];
}

/** Every recipe once, with the datasets it builds, sorted by file then line. */
export function recipes(flow: Flow): RecipeEntry[] {
  const byName = new Map<string, RecipeEntry>();
  for (const node of flow.nodes) {
    if (!node.recipe) continue;
    const entry = byName.get(node.recipe.name) ?? { recipe: node.recipe, outputs: [] };
    entry.outputs.push(node);
    byName.set(node.recipe.name, entry);
  }
  return [...byName.values()].sort((a, b) => a.recipe.file.localeCompare(b.recipe.file)
    || a.recipe.line - b.recipe.line);
}

/** How a recipe of each kind looks in the views: a codicon and the language's name ("R recipe
 * split"). A kind newer than this extension looks like a function, named as the daemon says. */
export function recipeLook(kind: RecipeRef["kind"]): { icon: string; language: string } {
  switch (kind) {
    case "python": return { icon: "symbol-function", language: "Python" };
    case "sql": return { icon: "database", language: "SQL" };
    case "r": return { icon: "graph-line", language: "R" };
    default: return { icon: "symbol-function", language: kind };
  }
}

/** The datasets built by recipes in `file` (relative to the root). */
export function outputsOfFile(flow: Flow, file: string): string[] {
  return flow.nodes.filter((n) => n.recipe?.file === file).map((n) => n.name);
}

/** A dataset's status, or `building` while a build writes it. */
export type DisplayStatus = "building" | DatasetState;

export function displayStatus(node: FlowNode, building: boolean): DisplayStatus {
  if (building) return "building";
  // A source whose checks failed on the data it holds is marked failed, like an output.
  if (node.status === "source" || (node.kind === "source" && node.status !== "failed")) return "source";
  return node.status;
}

/** A codicon and a theme colour per status: the Testing view's colours, which every theme sets. */
export function statusIcon(status: DisplayStatus, kind: FlowNode["kind"]): { id: string; color?: string } {
  switch (status) {
    case "building": return { id: "sync~spin", color: "charts.blue" };
    case "source": return { id: kind === "folder" ? "folder" : "database", color: "descriptionForeground" };
    case "up to date": return { id: "pass-filled", color: "testing.iconPassed" };
    case "stale": return { id: "warning", color: "list.warningForeground" };
    case "never built": return { id: "circle-large-outline", color: "disabledForeground" };
    case "failed": return { id: "error", color: "testing.iconFailed" };
    case "invalid": return { id: "circle-slash", color: "errorForeground" };
    default: return { id: "question" }; // a state newer than this extension
  }
}

/** The words beside a dataset in the tree: "stale · recipe changed"; a partitioned one's
 * counts, "stale · 363 up to date, 2 stale" (its reason) or "up to date · 365 partitions". */
export function statusDescription(node: FlowNode, building: boolean): string {
  const status = displayStatus(node, building);
  if (status === "building") return "building…";
  const counted = node.partitions ? ` · ${partitionCount(node.partitions)}` : "";
  if (status === "source") return (node.kind === "folder" ? "folder" : "source") + counted;
  const reasons = node.reasons ?? [];
  return reasons.length && status !== "up to date" ? `${status} · ${reasons.join(", ")}` : status + counted;
}

/** The states a partition count is said in, in order (weir.flow.partition_status.summary's). */
const PARTITION_ORDER: readonly DatasetState[] = ["up to date", "stale", "never built", "failed"];

/** "334 up to date, 30 stale, 1 failed": what `weir status` says of a partitioned dataset. */
export function partitionSummary(counts: PartitionCounts): string {
  return PARTITION_ORDER.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(", ");
}

/** "365 partitions" (or "1 partition"). */
export function partitionCount(counts: PartitionCounts): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return `${total} partition${total === 1 ? "" : "s"}`;
}

/** A partitioned dataset in a tooltip: "partitioned by day (event_date) — 365 partitions:
 * 363 up to date, 2 stale"; "" for one that is not partitioned. */
export function partitionsLine(node: FlowNode): string {
  if (!node.partitioning) return "";
  if (!node.partitions) return `partitioned by ${node.partitioning}`;
  const byState = partitionSummary(node.partitions);
  return `partitioned by ${node.partitioning} — ${partitionCount(node.partitions)}${byState ? `: ${byState}` : ""}`;
}
