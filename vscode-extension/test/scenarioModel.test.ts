import { describe, expect, it } from "vitest";

import { localTime, runOutcome, scenarioDescription, scenarioIcon, scenarioTooltip } from "../src/scenarioModel";
import { scenarioRunReport, scenarioSummary, stepOutcome } from "./answers";

/** Epoch seconds of a local wall-clock time (what the user's clock says, whatever its zone). */
const local = (y: number, m: number, d: number, h: number, min: number): number => new Date(y, m - 1, d, h, min).getTime() / 1000;
const NOW = new Date(2026, 11, 2, 14, 30);

describe("a scenario in the Scenarios view", () => {
  it("has its last outcome as its icon, and spins while it runs", () => {
    expect(scenarioIcon(scenarioSummary({ last_status: "succeeded", running: null }))).toEqual({ id: "pass-filled", color: "testing.iconPassed" });
    expect(scenarioIcon(scenarioSummary({ last_status: "failed", running: null }))).toEqual({ id: "error", color: "testing.iconFailed" });
    expect(scenarioIcon(scenarioSummary({ last_status: null, last_run: null, running: null })).id).toBe("circle-large-outline");
    // its daemon died while it ran: not a failure of the scenario's, but not a success either
    expect(scenarioIcon(scenarioSummary({ last_status: "interrupted", running: null }))).toEqual({ id: "debug-disconnect", color: "testing.iconErrored" });
    expect(scenarioIcon(scenarioSummary({ last_status: "failed", running: "r2" })).id).toBe("sync~spin");
  });

  it("says its last outcome and its next run in local time: the time today, the date another day", () => {
    const today = scenarioSummary({ last_status: "succeeded", running: null, next_run: local(2026, 12, 2, 23, 5) });
    expect(scenarioDescription(today, NOW)).toBe("succeeded · next 23:05");
    const tomorrow = scenarioSummary({ last_status: "failed", running: null, next_run: local(2026, 12, 3, 3, 0) });
    expect(scenarioDescription(tomorrow, NOW)).toBe("failed · next 2026-12-03 03:00");
    expect(scenarioDescription(scenarioSummary({ running: "r1", next_run: null }), NOW)).toBe("running…");
    expect(scenarioDescription(scenarioSummary({ last_status: null, running: null, next_run: null }), NOW)).toBe("never run");
    expect(localTime(local(2027, 1, 1, 0, 0), NOW)).toBe("2027-01-01 00:00");
  });

  it("has what starts it, its steps and its last and next runs in its tooltip", () => {
    const tip = scenarioTooltip(scenarioSummary({ running: null, last_status: "failed", last_run: "r7",
      last_finished: local(2026, 12, 2, 3, 1), next_run: local(2026, 12, 3, 3, 0) }), NOW);
    expect(tip).toContain("**nightly** — the customers, every night");
    expect(tip).toContain("triggers: cron 0 3 * * * (UTC)");
    expect(tip).toContain("steps: build orders_clean, check orders");
    expect(tip).toContain("last run: failed at 03:01 (r7)");
    expect(tip).toContain("next run: 2026-12-03 03:00");
    expect(tip).toContain("`scenarios/nightly.yaml`");
  });
});

describe("a run's outcome", () => {
  it("names the steps that failed, with their message", () => {
    expect(runOutcome(scenarioRunReport({ status: "succeeded" }))).toBe("scenario nightly succeeded");
    const failed = scenarioRunReport({ status: "failed", steps: [
      stepOutcome({ name: "build orders_clean", status: "failed", message: "build b3 failed: orders_clean" }),
      stepOutcome({ name: "check orders", kind: "check", status: "skipped", message: "if: success" })] });
    expect(runOutcome(failed)).toBe("scenario nightly failed (build orders_clean: build b3 failed: orders_clean)");
    expect(runOutcome(scenarioRunReport({ status: "failed", error: "the project has errors" })))
      .toBe("scenario nightly failed (the project has errors)");
  });
});
