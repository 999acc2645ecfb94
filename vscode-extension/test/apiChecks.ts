/**
 * A runtime validator for every type of src/api.ts, each tied to its type at compile time (see
 * check.ts): the payloads recorded from a real daemon (payloads.test.ts) and the unit tests'
 * fakes (answers.ts) are checked with these, so the types, the fakes and the real API agree.
 */
import {
  ACTIONS, BUILD_STATES, DATASET_STATES, JOB_EVENTS, JOB_STATUSES, MODES, NODE_KINDS, SCENARIO_EVENT_KINDS,
  SCENARIO_RUN_STATUSES, SEVERITIES, STATUS_CAUSES, STEP_STATUSES, type DatasetChecks, type DatasetStatus,
  type ScenarioEvent, type ScenarioList, type ScenarioRunEvents, type ScenarioRunReport, type ScenarioRuns,
  type ScenarioSummary, type StepOutcome, type StatusChange, type StatusReport,
  type Announced, type ApiError, type BuildChange, type BuildEvents, type BuildLog,
  type BuildRequest, type BuildSummary, type Column, type DaemonEvents, type DaemonInfo,
  type CheckResult, type DatasetDetail, type DatasetScenarioRun, type DatasetSummary, type Diagnostic, type ErrorReport, type Flow,
  type FlowChange, type FlowNode, type Health, type Hello, type HistoryEntry, type JobEvent,
  type LogEvent, type WaitEvent, type Plan, type PlanEvent, type PlannedCheck, type PlannedJob, type RecipeRef, type ResultEvent,
  type Vocabulary,
} from "../src/api";
import { arr, both, bool, int, json, nullable, num, obj, oneOf, opt, rec, str, tuple, type Check, type Shape } from "./check";

const strings = arr(str);

export const daemonInfo = obj<DaemonInfo>({ pid: int, host: str, port: int, url: str, token: str, started: num });

export const health = obj<Health>({
  project: nullable(str), root: str, version: str, pid: int, flow_version: int, errors: int, started: num,
  environment: nullable(str),
});

export const apiError = obj<ApiError>({ detail: str });

export const vocabulary = obj<Vocabulary>({
  enums: obj<Vocabulary["enums"]>({
    DatasetState: rec(oneOf(DATASET_STATES)), BuildState: rec(oneOf(BUILD_STATES)),
    JobStatus: rec(oneOf(JOB_STATUSES)), Mode: rec(oneOf(MODES)), Action: rec(oneOf(ACTIONS)),
    NodeKind: rec(oneOf(NODE_KINDS)), Severity: rec(oneOf(SEVERITIES)),
    StatusCause: rec(oneOf(STATUS_CAUSES)),
  }),
  final_build_states: arr(oneOf(BUILD_STATES)),
  ok_job_statuses: arr(oneOf(JOB_STATUSES)),
});

export const diagnostic = obj<Diagnostic>({
  file: str, line: int, col: int, end_line: nullable(int), end_col: nullable(int), code: str,
  subject: nullable(str), suggestion: nullable(str), message: str, hint: nullable(str),
  severity: oneOf(SEVERITIES),
});

export const recipeRef = obj<RecipeRef>({ name: str, id: str, kind: str, file: str, line: int });

export const flowNode = obj<FlowNode>({
  name: str, kind: oneOf(NODE_KINDS), connection: str, storage: nullable(str), keep: bool,
  path: str, format: str, tags: strings,
  zone: nullable(str), description: nullable(str), recipe: nullable(recipeRef),
  definition: obj<FlowNode["definition"]>({ file: str, line: int }), inputs: strings,
  status: oneOf(DATASET_STATES), reasons: strings, building: bool,
  partitioning: nullable(str), partitions: nullable(rec(int)),
});

export const flow = obj<Flow>({
  project: nullable(str), environment: nullable(str), executor: opt(str), nodes: arr(flowNode),
  edges: arr(obj<Flow["edges"][number]>({ from: str, to: str })),
  flow_version: int, diagnostics: arr(diagnostic),
});

export const datasetSummary = obj<DatasetSummary>({
  name: str, kind: oneOf(NODE_KINDS), status: nullable(oneOf(DATASET_STATES)), reasons: strings, building: bool,
});

const column: Check<Column> = tuple(str, str, bool);

export const historyEntry = obj<HistoryEntry>({
  run_id: str, status: str, started: nullable(num), finished: nullable(num), rows: nullable(int), error: nullable(str),
});

export const checkResult = obj<CheckResult>({
  name: str, kind: str, severity: oneOf(SEVERITIES), passed: bool, failing: int, message: str,
  examples: arr(rec(json)),
});

export const datasetScenarioRun = obj<DatasetScenarioRun>({
  scenario: str, run_id: str, status: oneOf(SCENARIO_RUN_STATUSES), started: num, finished: nullable(num), built: bool,
  checked: bool,
});

export const datasetDetail = obj<DatasetDetail>({
  name: str, description: nullable(str), kind: oneOf(NODE_KINDS), connection: str, path: str, format: str,
  tags: strings, recipe: nullable(recipeRef), inputs: strings, consumers: strings,
  status: oneOf(DATASET_STATES), reasons: strings, building: bool, schema: nullable(arr(column)),
  declared_schema: nullable(arr(column)), rows: nullable(int), built_at: nullable(num), builds: arr(historyEntry),
  checks: arr(checkResult), checked_at: nullable(num), scenario_runs: arr(datasetScenarioRun),
});

export const datasetChecks = obj<DatasetChecks>({ name: str, checks: arr(checkResult), error: nullable(str) });

export const buildLog = obj<BuildLog>({ name: str, status: str, path: str, log: str });

export const flowChange = obj<FlowChange>({
  version: int, files: strings, added: strings, removed: strings, changed: strings, errors: int, seconds: num,
});

export const hello = obj<Hello>({ flow_version: int });

export const datasetStatus = obj<DatasetStatus>({
  name: str, status: oneOf(DATASET_STATES), reasons: strings, built_at: nullable(num), rows: nullable(int),
  partitions: opt(rec(int)),
});

export const statusReport = obj<StatusReport>({ project: str, flow_version: int, datasets: arr(datasetStatus) });

export const statusChange = obj<StatusChange>({
  flow_version: int, cause: oneOf(STATUS_CAUSES), changed: arr(datasetStatus), removed: strings,
});

export const buildRequest = obj<BuildRequest>({
  targets: strings, mode: opt(oneOf(MODES)), all: opt(bool), stale: opt(bool), jobs: opt(int), fail_fast: opt(bool),
  by: opt(str), executor: opt(str),
});

// as the daemon echoes it: every field, `by` and `executor` when someone said them
const fullRequest = obj<Required<Omit<BuildRequest, "by" | "executor">> &
  Pick<BuildRequest, "by" | "executor">>({
  targets: strings, mode: oneOf(MODES), all: bool, stale: bool, jobs: int, fail_fast: bool,
  by: opt(str), executor: opt(str),
});

export const errorReport = obj<ErrorReport>({ message: str, hint: nullable(str), diagnostics: opt(arr(diagnostic)) });

export const buildSummary = obj<BuildSummary>({
  id: str, state: oneOf(BUILD_STATES), request: fullRequest, created: num, started: nullable(num),
  finished: nullable(num), error: nullable(errorReport), run_id: nullable(str),
});

const reasons = rec(strings);

export const plannedJob = obj<PlannedJob>({
  recipe: str, action: oneOf(ACTIONS), outputs: strings, reasons, after: strings, reused_from: rec(str),
});

export const plannedCheck = obj<PlannedCheck>({ source: str, reasons: strings });

const planShape: Shape<Plan> = {
  targets: strings, up_to_date: strings, jobs: arr(plannedJob), notes: strings, blocked: strings, checks: arr(plannedCheck),
};
export const plan = obj<Plan>(planShape);

export const planEvent = obj<PlanEvent>({
  ...planShape, id: str, root: str, folders: strings, executor: opt(str), workers: opt(int), threads: opt(int),
});

export const jobEvent = obj<JobEvent>({
  id: str, event: oneOf(JOB_EVENTS), recipe: str, outputs: strings, status: oneOf(JOB_STATUSES), seconds: num,
  rows: rec(int), error: nullable(str), traceback: nullable(str), log_path: nullable(str), warnings: strings,
  partition: opt(str),
});

export const logEvent = obj<LogEvent>({
  id: str, recipe: str, outputs: strings, lines: strings, partition: opt(str),
});

export const waitEvent = obj<WaitEvent>({
  id: str, datasets: strings, writer: nullable(str), pid: nullable(int), command: nullable(str),
});

export const resultEvent = obj<ResultEvent>({ id: str, ok: bool, run_id: nullable(str), seconds: num, cancelled: bool });

export const buildChange = obj<BuildChange>({ id: str, state: oneOf(BUILD_STATES) });

/** A build's own event stream, by kind. */
export const buildEvents: Shape<BuildEvents> = {
  build: buildChange, wait: waitEvent, plan: planEvent, job: jobEvent, log: logEvent, result: resultEvent,
  end: buildSummary,
};

const runStatus = oneOf(SCENARIO_RUN_STATUSES);

export const scenarioSummary = obj<ScenarioSummary>({
  name: str, file: str, description: str, triggers: strings, steps: strings, next_run: nullable(num),
  last_run: nullable(str), last_status: nullable(runStatus), last_finished: nullable(num), running: nullable(str),
});

export const scenarioList = obj<ScenarioList>({ scenarios: arr(scenarioSummary) });

export const stepOutcome = obj<StepOutcome>({
  name: str, kind: str, status: oneOf(STEP_STATUSES), started: nullable(num), finished: nullable(num),
  message: str, attempts: int, built: arr(tuple(str, nullable(int))), checks: arr(datasetChecks), log: str,
});

export const scenarioRunReport = obj<ScenarioRunReport>({
  scenario: str, run_id: str, cause: str, status: runStatus, started: num, finished: num, commit: nullable(str),
  variables: rec(json), steps: arr(stepOutcome), reports: strings, skipped_for: opt(str), error: opt(str),
});

export const scenarioRuns = obj<ScenarioRuns>({ scenario: str, runs: arr(scenarioRunReport) });

export const scenarioEvent = obj<ScenarioEvent>({
  event: oneOf(SCENARIO_EVENT_KINDS), scenario: str, run_id: str, cause: str, line: opt(str),
  step: opt(stepOutcome), status: opt(runStatus),
});

/** A scenario run's own event stream, by kind. */
export const scenarioRunEvents: Shape<ScenarioRunEvents> = { scenario: scenarioEvent, end: scenarioRunReport };

/** As a build's event on /api/events: also which build it is about. */
const announced = <T>(item: Check<T>): Check<Announced<T>> => both(item, obj<{ build: string }>({ build: str }));

/** GET /api/events, by kind. */
export const daemonEvents: Shape<DaemonEvents> = {
  hello, flow: flowChange, status: statusChange, build: announced(buildChange), wait: announced(waitEvent),
  plan: announced(planEvent),
  job: announced(jobEvent), log: announced(logEvent), result: announced(resultEvent), scenario: scenarioEvent,
};

/** An event of a stream whose events are validated by `checks`: its kind must be one of them. */
export function event<M>(checks: Shape<M>, kind: string, data: unknown, path = "$"): string[] {
  const item = (checks as Record<string, Check<unknown> | undefined>)[kind];
  return item ? item(data, path) : [`${path}: an event "${kind}" the extension does not know`];
}
