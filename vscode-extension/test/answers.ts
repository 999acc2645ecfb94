/**
 * The daemon's answers and events for the unit tests' fakes, made from the payloads recorded
 * from a real daemon (test/payloads/, by tests/test_wire_payloads.py): a test names only what it
 * cares about, the rest is what the daemon really sent, and every fake is checked against the
 * API's validators as it is made — a fake that the real daemon could not send throws.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

import type {
  BuildEvents, BuildSummary, DaemonEvents, DatasetDetail, Flow, Health, HistoryEntry, Plan, PlannedCheck, PlannedJob,
  ScenarioList, ScenarioRunEvents, ScenarioRunReport, ScenarioSummary, StepOutcome,
} from "../src/api";
import * as checks from "./apiChecks";
import { valid, type Check, type Shape } from "./check";

export const PAYLOADS = path.join(__dirname, "payloads");

/** A recorded payload (test/payloads/NAME.json), as the daemon sent it. */
export function recorded(name: string): unknown {
  return JSON.parse(readFileSync(path.join(PAYLOADS, `${name}.json`), "utf8"));
}

/** Every recorded payload's name. */
export function recordings(): string[] {
  return readdirSync(PAYLOADS).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}

/** A recorded event stream: [{event, data}…]. */
export function stream(name: string): { event: string; data: Record<string, unknown> }[] {
  return recorded(name) as { event: string; data: Record<string, unknown> }[];
}

const copy = <T>(value: T): T => structuredClone(value);

/** `base` with `overrides`, checked: a fake must be something the daemon could send. */
function made<T>(check: Check<T>, base: unknown, overrides: Partial<T>, what: string): T {
  return valid(check, { ...copy(base as object), ...overrides }, what);
}

const BUILD_STREAMS = ["build-events", "failed-build-events", "error-build-events", "wait-build-events"];

/** The first recorded event of `kind` whose data has the overrides' `event` and `status` (a
 * failed job's finish, with its traceback, for a failed job), else the first of its kind. */
function recordedEvent(streams: string[], kind: string, overrides: Record<string, unknown>): unknown {
  const all = streams.flatMap(stream).filter((e) => e.event === kind);
  const like = (e: { data: Record<string, unknown> }): boolean =>
    ["event", "status", "state"].every((k) => overrides[k] === undefined || e.data[k] === overrides[k]);
  const found = all.find(like) ?? all[0];
  if (!found) throw new Error(`no "${kind}" event was recorded`);
  return found.data;
}

/** An event of a build's stream (GET /api/builds/{id}/events). */
export function buildEvent<K extends keyof BuildEvents>(kind: K, overrides: Partial<BuildEvents[K]> = {}): BuildEvents[K] {
  const check = (checks.buildEvents as Shape<BuildEvents>)[kind];
  return made(check, recordedEvent(BUILD_STREAMS, kind, overrides), overrides, `$(${kind} event)`);
}

/** An event of the daemon's stream (GET /api/events). */
export function daemonEvent<K extends keyof DaemonEvents>(kind: K, overrides: Partial<DaemonEvents[K]> = {}): DaemonEvents[K] {
  const check = (checks.daemonEvents as Shape<DaemonEvents>)[kind];
  return made(check, recordedEvent(["events"], kind, overrides), overrides, `$(${kind} event)`);
}

/** Checks a fake event's data as the stream `checks` validates it (for events a test writes). */
export function checkedEvent<M>(shape: Shape<M>, kind: string, data: unknown): void {
  const problems = checks.event(shape, kind, data, `$(${kind} event)`);
  if (problems.length) throw new TypeError(`not what the daemon sends:\n  ${problems.join("\n  ")}`);
}

export const buildSummary = (o: Partial<BuildSummary> = {}): BuildSummary =>
  made(checks.buildSummary, recorded("build-queued"), o, "$(build summary)");

export const plan = (o: Partial<Plan> = {}): Plan => made(checks.plan, recorded("plan"), o, "$(plan)");

export const plannedJob = (o: Partial<PlannedJob> = {}): PlannedJob =>
  made(checks.plannedJob, (recorded("plan") as Plan).jobs[0], o, "$(planned job)");

export const plannedCheck = (o: Partial<PlannedCheck> = {}): PlannedCheck =>
  made(checks.plannedCheck, (recorded("plan") as Plan).checks[0], o, "$(planned check)");

export const health = (o: Partial<Health> = {}): Health => made(checks.health, recorded("health"), o, "$(health)");

export const flow = (o: Partial<Flow> = {}): Flow => made(checks.flow, recorded("flow"), o, "$(flow)");

export const datasetDetail = (o: Partial<DatasetDetail> = {}): DatasetDetail =>
  made(checks.datasetDetail, recorded("dataset"), o, "$(dataset)");

export const historyEntry = (o: Partial<HistoryEntry> = {}): HistoryEntry =>
  made(checks.historyEntry, (recorded("dataset") as DatasetDetail).builds[0], o, "$(history entry)");

export const scenarioSummary = (o: Partial<ScenarioSummary> = {}): ScenarioSummary =>
  made(checks.scenarioSummary, (recorded("scenarios") as ScenarioList).scenarios[0], o, "$(scenario)");

export const scenarioRunReport = (o: Partial<ScenarioRunReport> = {}): ScenarioRunReport =>
  made(checks.scenarioRunReport, recorded("scenario-run"), o, "$(scenario run)");

export const stepOutcome = (o: Partial<StepOutcome> = {}): StepOutcome =>
  made(checks.stepOutcome, (recorded("scenario-run") as ScenarioRunReport).steps[0], o, "$(step outcome)");

/** An event of a scenario run's stream (GET /api/scenario-runs/{id}/events). */
export function scenarioRunEvent<K extends keyof ScenarioRunEvents>(kind: K,
  overrides: Partial<ScenarioRunEvents[K]> = {}): ScenarioRunEvents[K] {
  const check = (checks.scenarioRunEvents as Shape<ScenarioRunEvents>)[kind];
  return made(check, recordedEvent(["scenario-events"], kind, overrides), overrides, `$(${kind} event)`);
}
