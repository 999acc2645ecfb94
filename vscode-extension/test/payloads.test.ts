/**
 * src/api.ts against the real daemon: every payload recorded from one (test/payloads/, written
 * by tests/test_wire_payloads.py with WEIR_RECORD_PAYLOADS=1) must pass the validator of its
 * type, and the enums must be the daemon's, value for value. A payload recorded without a
 * validator here fails too, so a new shape of the API cannot go unchecked.
 */
import { describe, expect, it } from "vitest";

import {
  ACTIONS, BUILD_STATES, DATASET_STATES, FINAL_STATES, JOB_STATUSES, MODES, NODE_KINDS, OK_JOB_STATUSES,
  SEVERITIES, STATUS_CAUSES, type Vocabulary,
} from "../src/api";
import { recorded, recordings } from "./answers";
import * as checks from "./apiChecks";
import { arr, type Check, type Shape } from "./check";

const RE_RECORD = "the payloads were recorded from the daemon: make src/api.ts (and test/apiChecks.ts) agree with "
  + "them, or re-record them (WEIR_RECORD_PAYLOADS=1 pytest tests/test_wire_payloads.py)";

type Problems = (payload: unknown) => string[];

const answer = <T>(check: Check<T>): Problems => (payload) => check(payload, "$");

/** An event stream's recording: [{event, data}…], each data checked by its kind. */
const eventStream = <M>(shape: Shape<M>): Problems => (payload) => {
  if (!Array.isArray(payload)) return ["$: expected a list of {event, data}"];
  return (payload as { event: string; data: unknown }[])
    .flatMap((e, i) => checks.event(shape, e.event, e.data, `$[${i}].data`));
};

/** GET /api/builds/{id}: a build's summary, and its events so far, each saying its kind. */
const buildWithEvents: Problems = (payload) => {
  const events = (payload as { events?: unknown }).events;
  if (!Array.isArray(events)) return ["$.events: missing"];
  return [...checks.buildSummary(payload, "$"), ...(events as { kind: string }[])
    .flatMap((e, i) => checks.event(checks.buildEvents, e.kind, e, `$.events[${i}]`))];
};

/** Each recording's validator, by its file name. */
const BY_NAME: Record<string, Problems> = {
  daemon: answer(checks.daemonInfo),
  health: answer(checks.health),
  wire: answer(checks.vocabulary),
  "http-error": answer(checks.apiError),
  flow: answer(checks.flow),
  datasets: answer(arr(checks.datasetSummary)),
  status: answer(checks.statusReport),
  dataset: answer(checks.datasetDetail),
  "dataset-failed": answer(checks.datasetDetail),
  "dataset-scenario": answer(checks.datasetDetail),
  "dataset-log": answer(checks.buildLog),
  plan: answer(checks.plan),
  "build-queued": answer(checks.buildSummary),
  builds: answer(arr(checks.buildSummary)),
  build: buildWithEvents,
  "build-events": eventStream(checks.buildEvents),
  "failed-build-events": eventStream(checks.buildEvents),
  "error-build-events": eventStream(checks.buildEvents),
  "wait-build-events": eventStream(checks.buildEvents),
  events: eventStream(checks.daemonEvents),
  scenarios: answer(checks.scenarioList),
  "scenario-run-started": answer(checks.scenarioRunReport),
  "scenario-run": answer(checks.scenarioRunReport),
  "scenario-runs": answer(checks.scenarioRuns),
  "scenario-events": eventStream(checks.scenarioRunEvents),
};

describe("the recorded payloads", () => {
  it("are all checked, and all there", () => {
    expect(recordings()).toEqual(Object.keys(BY_NAME).sort());
  });

  it.each(Object.keys(BY_NAME).sort())("%s.json has the shape src/api.ts gives it", (name) => {
    const problems = BY_NAME[name](recorded(name));
    expect(problems, `${name}.json:\n  ${problems.join("\n  ")}\n${RE_RECORD}`).toEqual([]);
  });

  it("cover every kind of event a build and the daemon's stream send", () => {
    const kinds = (name: string) => new Set((recorded(name) as { event: string }[]).map((e) => e.event));
    const ofBuilds = new Set([...kinds("build-events"), ...kinds("wait-build-events")]);
    expect([...ofBuilds].sort()).toEqual(Object.keys(checks.buildEvents).sort());
    expect([...kinds("events")].sort()).toEqual(Object.keys(checks.daemonEvents).sort());
    expect([...kinds("scenario-events")].sort()).toEqual(Object.keys(checks.scenarioRunEvents).sort());
  });
});

describe("the enums", () => {
  const wire = recorded("wire") as Vocabulary;
  const values = (e: keyof Vocabulary["enums"]): string[] => Object.values(wire.enums[e]);

  it("are the daemon's, value for value (GET /api/wire, from weir/wire.py)", () => {
    expect(values("DatasetState")).toEqual([...DATASET_STATES]);
    expect(values("BuildState")).toEqual([...BUILD_STATES]);
    expect(values("JobStatus")).toEqual([...JOB_STATUSES]);
    expect(values("Mode")).toEqual([...MODES]);
    expect(values("Action")).toEqual([...ACTIONS]);
    expect(values("NodeKind")).toEqual([...NODE_KINDS]);
    expect(values("Severity")).toEqual([...SEVERITIES]);
    expect(values("StatusCause")).toEqual([...STATUS_CAUSES]);
    expect(Object.keys(wire.enums).sort()).toEqual(
      ["Action", "BuildState", "DatasetState", "JobStatus", "Mode", "NodeKind", "Severity", "StatusCause"]);
  });

  it("say which build states are final and which job statuses succeeded as the daemon does", () => {
    expect([...FINAL_STATES]).toEqual(wire.final_build_states);
    expect([...OK_JOB_STATUSES]).toEqual(wire.ok_job_statuses);
  });
});
