import { describe, expect, it } from "vitest";

import type { JobEvent, WaitEvent } from "../src/api";
import { describeRequest, endLine, jobLine, planLines, progressMessage, waitLine } from "../src/buildLog";
import { buildEvent, buildSummary, plan as recordedPlan, plannedCheck, plannedJob } from "./answers";

const job = (o: Partial<JobEvent>): JobEvent => buildEvent("job", o);

describe("describeRequest", () => {
  it("names the targets and a mode other than the default", () => {
    expect(describeRequest({ targets: ["orders_clean"] })).toBe("orders_clean");
    expect(describeRequest({ targets: ["+orders_clean"], mode: "force" })).toBe("+orders_clean (force)");
    expect(describeRequest({ targets: ["a", "b", "c", "d"] })).toBe("a, b and 2 more");
    expect(describeRequest({ targets: [], stale: true })).toBe("all stale datasets");
  });
});

describe("waitLine", () => {
  const wait = (o: Partial<WaitEvent>): WaitEvent => buildEvent("wait", o);

  it("says on what a build waits, as the CLI does", () => {
    expect(waitLine(wait({ writer: "b3", datasets: ["orders_clean"] })))
      .toBe("Waiting for build b3, which is writing orders_clean…");
    expect(waitLine(wait({ writer: null, pid: 77, command: "build x --no-daemon", datasets: ["a", "b"] })))
      .toBe("Waiting for a build without the daemon (pid 77, `weir build x --no-daemon`), which is writing a and b…");
  });
});

describe("planLines", () => {
  it("lists each dataset with its action and why", () => {
    const plan = recordedPlan({ targets: ["top"], up_to_date: [], notes: [], checks: [],
      jobs: [plannedJob({ recipe: "r:a", action: "run", outputs: ["a"], reasons: { a: ["recipe changed"] } }),
        plannedJob({ recipe: "r:top", action: "restore", outputs: ["top"], reasons: { top: ["input a changed"] } })] });
    expect(planLines(plan)).toEqual(["2 datasets to build:", "  run     a  — recipe changed", "  restore top  — input a changed"]);
  });

  it("lists the sources whose checks run first, with why", () => {
    const plan = recordedPlan({ targets: ["a"], up_to_date: [], notes: [],
      checks: [plannedCheck({ source: "raw", reasons: ["data changed"] })],
      jobs: [plannedJob({ recipe: "r:a", action: "run", outputs: ["a"], reasons: { a: ["input raw changed"] } })] });
    expect(planLines(plan)).toEqual(["1 dataset to build:", "  check   raw  — data changed", "  run     a  — input raw changed"]);
  });

  it("says when there is nothing to do", () => {
    expect(planLines(recordedPlan({ targets: ["a"], up_to_date: ["a"], jobs: [], notes: [] }))).toEqual(["Nothing to do: a up to date."]);
  });
});

describe("jobLine", () => {
  it("shows a start, a build with its rows and time, and a failure with its error", () => {
    expect(jobLine(job({ event: "start", status: "running", recipe: "recipes/clean.py:customers", outputs: ["customers"] })))
      .toBe("▶ customers  (recipes/clean.py:customers)");
    expect(jobLine(job({ event: "finish", recipe: "r", outputs: ["a", "b"], status: "built", seconds: 0.5, rows: { a: 1000, b: 234 } })))
      .toBe("✓ a, b built, 1,234 rows in 0.50 s");
    expect(jobLine(job({ event: "finish", recipe: "r", outputs: ["a"], status: "failed", seconds: 1, error: "KeyError: 'x'" })))
      .toBe("✗ r failed in 1.00 s: KeyError: 'x'");
    expect(jobLine(job({ event: "finish", recipe: "r", outputs: ["a"], status: "skipped" }))).toBe("– a skipped (an input failed)");
    expect(jobLine(job({ event: "finish", recipe: "r", outputs: ["a"], status: "interrupted" }))).toBe("■ a interrupted");
  });

  it("shows the warning checks a built output failed under it", () => {
    expect(jobLine(job({ event: "finish", recipe: "r", outputs: ["a"], status: "built", seconds: 0.5, rows: { a: 3 },
      warnings: ["check few failed on 'a': 3 rows (wanted at most 2)"] })))
      .toBe("✓ a built, 3 rows in 0.50 s\n    warning: check few failed on 'a': 3 rows (wanted at most 2)");
  });

  it("shows a source whose checks passed, with their warnings", () => {
    expect(jobLine(job({ event: "finish", recipe: "check:raw", outputs: ["raw"], status: "checked", seconds: 0.25,
      rows: { raw: 4 }, warnings: ["check few failed on 'raw': 4 rows (wanted at most 2)"] })))
      .toBe("✓ raw checked, 4 rows in 0.25 s\n    warning: check few failed on 'raw': 4 rows (wanted at most 2)");
  });
});

describe("endLine", () => {
  it("ends with the state, and the error and hint when the build could not run", () => {
    expect(endLine(buildSummary({ id: "b1", state: "succeeded" }), "Build a", 1.25)).toBe("✓ Build a (build b1) succeeded in 1.3 s");
    expect(endLine(buildSummary({ id: "b2", state: "error", error: { message: "unknown dataset 'x'", hint: "did you mean 'y'?" } }), "Build x", 0))
      .toBe("✗ Build x (build b2) could not run: unknown dataset 'x' (did you mean 'y'?)");
    expect(endLine(buildSummary({ id: "b3", state: "interrupted",
      error: { message: "the daemon stopped before this build finished (it was killed or crashed)", hint: "build again" } }), "Build a", 0))
      .toBe("■ Build a (build b3) interrupted: the daemon stopped before this build finished (it was killed or crashed)");
  });
});

describe("progressMessage", () => {
  it("names what runs now and counts the jobs", () => {
    expect(progressMessage(["orders_clean"], 1, 3)).toBe("orders_clean (1/3)");
    expect(progressMessage([], 1, 3)).toBe("1/3");
    expect(progressMessage([], 3, 3)).toBe("finishing (3/3)");
  });
});
