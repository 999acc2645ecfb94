/**
 * The daemon's HTTP API as the extension reads it: the TypeScript mirror of weir/wire.py, where
 * every shape that crosses a process boundary is defined once (docs/http-api.md lists them).
 *
 * test/apiChecks.ts has a runtime validator for each type here, tied to it at compile time (a
 * type changed without its validator, or the other way round, fails `npm run typecheck`), and
 * test/payloads.test.ts checks every payload recorded from a real daemon (test/payloads/, by
 * tests/test_wire_payloads.py) against them, and these enums against the daemon's own. The unit
 * tests' fakes pass the same validators, so neither these types nor the fakes can drift from
 * the real API.
 *
 * Every enum is complete. A field the extension does not use may be left out (the daemon sends
 * more, and extra keys are fine), but a field typed here is typed as the daemon sends it:
 * required when it always comes, `| null` when it may be null, optional only when it may be
 * missing.
 */

// -- enums (weir.wire's, value for value; GET /api/wire has them from the daemon) --------------

/** A dataset's status, as `weir status`, the API, the Flow page and the editor name it. */
export const DATASET_STATES = ["source", "up to date", "stale", "never built", "failed", "invalid"] as const;
export type DatasetState = (typeof DATASET_STATES)[number];

/** Where a daemon build is. `error`: it could not start; `interrupted`: its daemon died. */
export const BUILD_STATES = ["queued", "running", "succeeded", "failed", "cancelled", "error", "interrupted"] as const;
export type BuildState = (typeof BUILD_STATES)[number];
export const FINAL_STATES: readonly BuildState[] = ["succeeded", "failed", "cancelled", "error", "interrupted"];

/** What became of one recipe's job in a build (`running`/`restoring` while it runs);
 * `checked`: a source's checks passed, before the jobs that read it. */
export const JOB_STATUSES = ["running", "restoring", "built", "restored", "checked", "failed", "skipped", "interrupted"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const OK_JOB_STATUSES: readonly JobStatus[] = ["built", "restored", "checked"];

/** What a build builds, in Dataiku's names. */
export const MODES = ["required", "only", "force", "missing", "downstream"] as const;
export type Mode = (typeof MODES)[number];

export const ACTIONS = ["run", "restore"] as const;
export type Action = (typeof ACTIONS)[number];

export const NODE_KINDS = ["source", "dataset", "folder"] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

export const SEVERITIES = ["error", "warning"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Why the daemon's statuses changed: the Flow's files, a commit to the state store, the poll. */
export const STATUS_CAUSES = ["edit", "commit", "poll"] as const;
export type StatusCause = (typeof STATUS_CAUSES)[number];

/** Whether a `job` event says a job started or finished (the event's, not a wire enum). */
export const JOB_EVENTS = ["start", "finish"] as const;
export type JobEventKind = (typeof JOB_EVENTS)[number];

/** Where a scenario run is (weir.wire.ScenarioRunReport's `status`, a string there):
 * `running` while it runs; `skipped` a start while it ran already (not run, recorded);
 * `interrupted` its daemon died while it ran. */
export const SCENARIO_RUN_STATUSES = ["running", "succeeded", "failed", "cancelled", "skipped", "interrupted"] as const;
export type ScenarioRunStatus = (typeof SCENARIO_RUN_STATUSES)[number];

/** What became of one step of a scenario run (`skipped`: its `if:` said no, or a cancel). */
export const STEP_STATUSES = ["succeeded", "failed", "skipped"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** What a `scenario` event says (weir.wire.ScenarioEventKind, which GET /api/wire does not list). */
export const SCENARIO_EVENT_KINDS = ["start", "line", "step", "end", "skipped"] as const;
export type ScenarioEventKind = (typeof SCENARIO_EVENT_KINDS)[number];

// -- the daemon ---------------------------------------------------------------------------------

/** What .weir/daemon.json says about a running daemon (wire.DaemonInfo). */
export interface DaemonInfo {
  pid: number;
  host: string;
  port: number;
  url: string;
  token: string;
  started: number;
}

/** GET /api/health. */
export interface Health {
  project: string | null;
  root: string;
  version: string;
  pid: number;
  flow_version: number;
  errors: number;
  started: number;
  environment: string | null; // weir.yaml's environment the daemon serves (weir --env), if any
}

/** The body of an error answer (4xx, 5xx): the daemon's own words. */
export interface ApiError {
  detail: string;
}

/** GET /api/wire: every enum as {MEMBER: value}, and which states are final or ok. */
export interface Vocabulary {
  enums: {
    DatasetState: Record<string, DatasetState>;
    BuildState: Record<string, BuildState>;
    JobStatus: Record<string, JobStatus>;
    Mode: Record<string, Mode>;
    Action: Record<string, Action>;
    NodeKind: Record<string, NodeKind>;
    Severity: Record<string, Severity>;
    StatusCause: Record<string, StatusCause>;
  };
  final_build_states: BuildState[];
  ok_job_statuses: JobStatus[];
}

// -- the Flow -----------------------------------------------------------------------------------

/** `file:line: message` plus a hint; `file` relative to the project root. */
export interface Diagnostic {
  file: string;
  line: number; // 1-based; 0 for the file as a whole
  col: number; // 0-based
  end_line: number | null;
  end_col: number | null;
  /** What a program reads (stable: "unknown-input", "cycle"…); the message is for people. */
  code: string;
  /** What it is about: "dataset:NAME", "recipe:FILE:FUNCTION", "connection:NAME"… */
  subject: string | null;
  /** The replacement a quick fix would write, where weir knows the closest name. */
  suggestion: string | null;
  message: string;
  hint: string | null;
  severity: Severity;
}

export interface RecipeRef {
  name: string;
  /** What build events call the recipe: "recipes/clean.py:customers". */
  id: string;
  kind: string; // "python" | "sql" | "r"
  file: string; // relative to the project root
  line: number; // 1-based
}

export interface FlowNode {
  name: string;
  kind: NodeKind;
  connection: string;
  /** The connection's type (filesystem, sqlite, s3…); null when the connection is not declared. */
  storage: string | null;
  /** `keep: true`: `weir clean` leaves it. */
  keep: boolean;
  path: string;
  format: string;
  tags: string[];
  zone: string | null;
  description: string | null;
  recipe: RecipeRef | null;
  /** Where the dataset is defined: its YAML file, or its recipe. */
  definition: { file: string; line: number };
  inputs: string[];
  status: DatasetState;
  reasons: string[];
  /** A build is writing it right now (so a view opened mid-build shows it building). */
  building: boolean;
  /** A partitioned dataset: what it is cut by, in words ("day (event_date)"); else null. */
  partitioning: string | null;
  /** A partitioned dataset: how many of its partitions are in each state (a source's:
   * `{"source": how many it has}`); null when not partitioned. */
  partitions: PartitionCounts | null;
}

/** Partitions by state: `{"up to date": 363, "stale": 2}` (weir.wire.DatasetStatus.partitions). */
export type PartitionCounts = Record<string, number>;

/** GET /api/flow: the datasets in topological order. */
export interface Flow {
  project: string | null; // null: weir.yaml cannot be read
  environment: string | null; // the environment the Flow was read in, if any
  executor?: string; // where its builds' recipes run when not locally: a Dask scheduler
  nodes: FlowNode[];
  edges: { from: string; to: string }[];
  flow_version: number;
  diagnostics: Diagnostic[];
}

/** One dataset of GET /api/datasets. */
export interface DatasetSummary {
  name: string;
  kind: NodeKind;
  status: DatasetState | null;
  reasons: string[];
  building: boolean;
}

/** A column as the daemon sends it: [name, type, nullable]. */
export type Column = [string, string, boolean];

/** One past build of a dataset. */
export interface HistoryEntry {
  run_id: string;
  /** A JobStatus, or `recovered` for a dataset `weir state repair` vouched for. */
  status: string;
  started: number | null;
  finished: number | null;
  rows: number | null;
  error: string | null;
}

/** GET /api/datasets/{name}. */
export interface DatasetDetail {
  name: string;
  description: string | null;
  kind: NodeKind;
  connection: string;
  path: string;
  format: string;
  tags: string[];
  recipe: RecipeRef | null;
  inputs: string[];
  consumers: string[];
  status: DatasetState;
  reasons: string[];
  building: boolean;
  /** Observed at the last build. */
  schema: Column[] | null;
  declared_schema: Column[] | null;
  rows: number | null;
  built_at: number | null;
  builds: HistoryEntry[]; // newest first
  /** What its data-quality checks said when they last ran (a build, or `weir check`). */
  checks: CheckResult[];
  checked_at: number | null;
  /** The scenario runs that built or checked it, newest first (a run going on included). */
  scenario_runs: DatasetScenarioRun[];
}

/** A scenario run that built or checked a dataset (weir.wire.DatasetScenarioRun). */
export interface DatasetScenarioRun {
  scenario: string;
  run_id: string;
  status: ScenarioRunStatus;
  started: number;
  /** null while it runs. */
  finished: number | null;
  /** A step of it built the dataset. */
  built: boolean;
  /** A step of it ran the dataset's checks. */
  checked: boolean;
}

/** One data-quality check's verdict on a dataset's data. */
export interface CheckResult {
  name: string;
  kind: string;
  severity: Severity;
  passed: boolean;
  /** The rows (or values) that broke it. */
  failing: number;
  message: string;
  /** Up to five of them, column → value. */
  examples: Record<string, unknown>[];
}

/** POST /api/checks: datasets' checks run on their data now, without building. */
export interface CheckReport {
  ok: boolean;
  datasets: DatasetChecks[];
}

export interface DatasetChecks {
  name: string;
  checks: CheckResult[];
  /** Why they could not run (no data yet, its storage cannot be used); null when they ran. */
  error: string | null;
}

/** GET /api/datasets/{name}/log: the last build's log. */
export interface BuildLog {
  name: string;
  status: string;
  path: string;
  log: string;
}

/** A `flow` event: what one batch of file changes changed. */
export interface FlowChange {
  version: number;
  files: string[];
  added: string[];
  removed: string[];
  changed: string[];
  errors: number;
  seconds: number;
}

/** One dataset's status in GET /api/status and a `status` event (rows, built_at: last success). */
export interface DatasetStatus {
  name: string;
  status: DatasetState;
  reasons: string[];
  built_at: number | null;
  rows: number | null;
  /** A partitioned dataset's partitions by state; missing for one that is not partitioned. */
  partitions?: PartitionCounts;
}

/** GET /api/status: every dataset's status, in Flow order, from the daemon's kept snapshot. */
export interface StatusReport {
  project: string;
  flow_version: number;
  datasets: DatasetStatus[];
}

/** A `status` event: the datasets whose status changed, as they are now, and those gone. */
export interface StatusChange {
  flow_version: number;
  cause: StatusCause;
  changed: DatasetStatus[];
  removed: string[];
}

/** The first event of GET /api/events. */
export interface Hello {
  flow_version: number;
}

// -- builds -------------------------------------------------------------------------------------

/** The body of POST /api/builds and POST /api/plan (the daemon fills in what is left out). */
export interface BuildRequest {
  targets: string[];
  mode?: Mode;
  all?: boolean;
  stale?: boolean;
  jobs?: number;
  fail_fast?: boolean;
  by?: string; // who asks, in words (the build's trigger in `weir log`)
  executor?: string; // where its recipes run: "local" or "dask://HOST:PORT" (default: the env's)
}

/** A user error: why a build could not start. `diagnostics`: a broken project's errors. */
export interface ErrorReport {
  message: string;
  hint: string | null;
  diagnostics?: Diagnostic[];
}

/** One daemon build: POST /api/builds, GET /api/builds, the `end` event. */
export interface BuildSummary {
  id: string;
  state: BuildState;
  // `by` and `executor` when said
  request: Required<Omit<BuildRequest, "by" | "executor">> & Pick<BuildRequest, "by" | "executor">;
  created: number;
  started: number | null;
  finished: number | null;
  error: ErrorReport | null;
  run_id: string | null;
}

export interface PlannedJob {
  recipe: string; // the recipe's id
  action: Action;
  outputs: string[];
  reasons: Record<string, string[]>; // output -> why it is built
  after: string[]; // recipe ids that must finish first
  /** A restore's outputs copied from another environment's data (output -> environment). */
  reused_from: Record<string, string>;
}

/** A source's checks, run before the jobs that read it (their job's recipe is `check:SOURCE`). */
export interface PlannedCheck {
  source: string;
  reasons: string[]; // why they are due: "data changed", "checks changed"…
}

/** POST /api/plan, and a build's `plan` event. */
export interface Plan {
  targets: string[];
  up_to_date: string[];
  jobs: PlannedJob[];
  notes: string[];
  /** Datasets that need a connection that cannot be used now (reported failed by the build). */
  blocked: string[];
  /** The sources whose checks run first. */
  checks: PlannedCheck[];
}

/** What every event of a build's stream says besides its own shape: the build's id. */
interface OfBuild {
  id: string;
}

/** A build's `plan` event: its plan, the project root and the folders among its outputs;
 * when its recipes run on a Dask cluster, the scheduler's address and its workers and threads. */
export interface PlanEvent extends Plan, OfBuild {
  root: string;
  folders: string[];
  executor?: string;
  workers?: number;
  threads?: number;
}

/** A `job` event: a recipe (`recipe` is its id) started or finished. */
export interface JobEvent extends OfBuild {
  event: JobEventKind;
  recipe: string;
  outputs: string[];
  status: JobStatus;
  seconds: number;
  /** Rows written, per output (a folder's: its files). */
  rows: Record<string, number>;
  error: string | null;
  traceback: string | null;
  log_path: string | null;
  /** The `warning` checks its outputs failed (they were published all the same). */
  warnings: string[];
  /** The partition of its outputs it builds ("day=2026-12-01"); missing when they are not
   * partitioned (a partitioned output has a job per partition, side by side). */
  partition?: string;
}

/** Lines a running recipe printed (the daemon follows its log file). */
export interface LogEvent extends OfBuild {
  recipe: string;
  outputs: string[];
  lines: string[];
  /** The partition its job builds; missing when its outputs are not partitioned. */
  partition?: string;
}

/** A build's `wait` event: it must write datasets another build is writing now; it waits
 * for that build to commit them, then plans again. `writer`: the daemon's id of that build;
 * for a build without the daemon, its `pid` and `command`; neither when it is unknown. */
export interface WaitEvent extends OfBuild {
  datasets: string[];
  writer: string | null;
  pid: number | null;
  command: string | null;
}

/** A build's `result` event: how the run went, once it has run. */
export interface ResultEvent extends OfBuild {
  ok: boolean;
  run_id: string | null;
  seconds: number;
  cancelled: boolean;
}

/** A build's `build` event: it was queued, or reached a final state. */
export interface BuildChange {
  id: string;
  state: BuildState;
}

/** GET /api/builds/{id}/events: each event's data, by its kind; the stream ends with `end`. */
export interface BuildEvents {
  build: BuildChange;
  wait: WaitEvent;
  plan: PlanEvent;
  job: JobEvent;
  log: LogEvent;
  result: ResultEvent;
  end: BuildSummary;
}

// -- scenarios ----------------------------------------------------------------------------------

/** One scenario of GET /api/scenarios (wire.ScenarioSummary): its triggers and steps in words,
 * when its time triggers next start it, how its last run went and the run in progress. */
export interface ScenarioSummary {
  name: string;
  file: string; // relative to the project root
  description: string;
  triggers: string[];
  steps: string[];
  next_run: number | null; // epoch seconds; null: no time trigger
  last_run: string | null;
  last_status: ScenarioRunStatus | null;
  last_finished: number | null;
  running: string | null; // the run id while it runs
}

/** GET /api/scenarios (a scenario file with a mistake is not listed). */
export interface ScenarioList {
  scenarios: ScenarioSummary[];
}

/** The body of POST /api/scenarios/{name}/runs: what started it, said in its history. */
export interface ScenarioStart {
  cause?: string;
}

/** One step of a run (wire.StepOutcome): what it built (dataset, rows) and what its checks said. */
export interface StepOutcome {
  name: string;
  kind: string; // build, check, clear, python, set_variables, run_scenario
  status: StepStatus;
  started: number | null;
  finished: number | null;
  message: string;
  attempts: number;
  built: [string, number | null][];
  checks: DatasetChecks[];
  /** A failure's log excerpt: the recipe's error and traceback, what it printed. */
  log: string;
}

/** A scenario run (wire.ScenarioRunReport): the POST's answer (`running`, or `skipped` with
 * `skipped_for`), GET /api/scenario-runs/{id}, a run's `end` event. */
export interface ScenarioRunReport {
  scenario: string;
  run_id: string;
  cause: string;
  status: ScenarioRunStatus;
  started: number;
  finished: number;
  commit: string | null;
  variables: Record<string, unknown>;
  steps: StepOutcome[];
  reports: string[]; // the report files written, project-relative
  skipped_for?: string;
  error?: string;
}

/** GET /api/scenarios/{name}/runs: newest first, a run in progress first of all. */
export interface ScenarioRuns {
  scenario: string;
  runs: ScenarioRunReport[];
}

/** A `scenario` event (wire.ScenarioEvent), on a run's own stream and on GET /api/events:
 * `line` a line of its output, `step` a step's outcome, `status` its end's. */
export interface ScenarioEvent {
  event: ScenarioEventKind;
  scenario: string;
  run_id: string;
  cause: string;
  line?: string;
  step?: StepOutcome;
  status?: ScenarioRunStatus;
}

/** GET /api/scenario-runs/{id}/events: each event's data, by its kind; it ends with `end`. */
export interface ScenarioRunEvents {
  scenario: ScenarioEvent;
  end: ScenarioRunReport;
}

/** On GET /api/events, a build's events also say which build they are about. */
export type Announced<T> = T & { build: string };

/** GET /api/events: each event's data, by its kind. */
export interface DaemonEvents {
  hello: Hello;
  flow: FlowChange;
  status: StatusChange;
  build: Announced<BuildChange>;
  wait: Announced<WaitEvent>;
  plan: Announced<PlanEvent>;
  job: Announced<JobEvent>;
  log: Announced<LogEvent>;
  result: Announced<ResultEvent>;
  scenario: ScenarioEvent;
}
