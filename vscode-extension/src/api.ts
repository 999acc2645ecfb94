/**
 * The shapes of the daemon's HTTP API (docs/http-api.md) that the extension reads. Only the
 * fields the extension uses are typed; the daemon may send more.
 */

/** A dataset's state as `weir status` names it. */
export type Status = "source" | "up to date" | "stale" | "never built" | "failed" | "invalid";

export interface RecipeRef {
  name: string;
  kind: string; // "python" | "sql"
  file: string; // relative to the project root
  line: number; // 1-based
}

export interface FlowNode {
  name: string;
  kind: "source" | "dataset" | "folder";
  connection: string;
  path: string;
  format?: string;
  tags: string[];
  description?: string | null;
  recipe: RecipeRef | null;
  /** Where the dataset is defined: its YAML file, or its recipe (daemons since 0.1 say so). */
  definition?: { file: string; line: number };
  inputs: string[];
  status?: Status;
  reasons?: string[];
  /** A build is writing it right now (so a view opened mid-build shows it building). */
  building?: boolean;
}

export interface Flow {
  project: string | null;
  nodes: FlowNode[];
  edges: { from: string; to: string }[];
}

/** A column as the daemon sends it: [name, type, nullable]. */
export type Column = [string, string, boolean];

export interface BuildHistoryEntry {
  status: string;
  started?: number | null;
  finished?: number | null;
  rows?: number | null;
}

export interface DatasetDetail {
  name: string;
  description?: string | null;
  kind: string;
  connection: string;
  path: string;
  format?: string;
  tags: string[];
  recipe: { file: string; line: number; kind: string } | null;
  inputs: string[];
  consumers: string[];
  status: Status;
  reasons: string[];
  schema: Column[] | null;
  declared_schema: Column[] | null;
  rows: number | null;
  built_at: number | null;
  builds: BuildHistoryEntry[];
}

export type BuildMode = "required" | "only" | "force" | "missing" | "downstream";

/** The body of POST /api/builds. */
export interface BuildRequest {
  targets: string[];
  mode?: BuildMode;
  all?: boolean;
  stale?: boolean;
}

/** `interrupted`: the daemon died while the build was queued or running (seen after a restart). */
export type BuildState = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "error" | "interrupted";
export const FINAL_STATES: readonly BuildState[] = ["succeeded", "failed", "cancelled", "error", "interrupted"];

export interface BuildSummary {
  id: string;
  state: BuildState;
  error?: { message: string; hint?: string | null } | null;
}

export interface PlanJob {
  recipe: string;
  action: "run" | "restore";
  outputs: string[];
  reasons: Record<string, string[]>;
  after?: string[];
}

/** The `plan` event of a build, and `weir plan --json`. */
export interface Plan {
  targets: string[];
  up_to_date: string[];
  jobs: PlanJob[];
  notes: string[];
  /** Datasets that need a connection that cannot be used now (reported failed by the build). */
  blocked?: string[];
}

/** A `job` event: a recipe (`recipe` is its id, "recipes/clean.py:customers") started or finished. */
export interface JobEvent {
  event: "start" | "finish";
  recipe: string;
  outputs: string[];
  status?: string; // built | restored | failed | skipped | interrupted
  seconds?: number;
  /** Rows written, per output. */
  rows?: Record<string, number> | null;
  error?: string | null;
  traceback?: string | null;
  log_path?: string | null;
}

/** Lines a running recipe printed (the daemon follows its log file). */
export interface LogEvent {
  recipe: string;
  outputs: string[];
  lines: string[];
}

/** What .weir/daemon.json says about a running daemon. */
export interface DaemonInfo {
  pid: number;
  url: string;
  token: string;
}
