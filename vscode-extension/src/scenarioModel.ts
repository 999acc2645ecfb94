/**
 * What the Scenarios view says of a scenario, as plain data: its icon (running, or how its last
 * run went), the words beside it (last outcome, next run in local time) and its tooltip, and
 * what a scenario run's end tells the user. No VS Code objects here, so it is tested on literal
 * scenarios.
 */
import type { ScenarioRunReport, ScenarioSummary } from "./api";

/** A codicon and a theme colour: the Testing view's colours, as the Datasets view uses them. */
export function scenarioIcon(s: ScenarioSummary): { id: string; color?: string } {
  if (s.running) return { id: "sync~spin", color: "charts.blue" };
  switch (s.last_status) {
    case null: return { id: "circle-large-outline", color: "disabledForeground" };
    case "succeeded": return { id: "pass-filled", color: "testing.iconPassed" };
    case "failed": return { id: "error", color: "testing.iconFailed" };
    case "cancelled": return { id: "circle-slash", color: "disabledForeground" };
    case "skipped": return { id: "debug-step-over", color: "disabledForeground" };
    case "interrupted": return { id: "debug-disconnect", color: "testing.iconErrored" };
    default: return { id: "question" }; // a status newer than this extension
  }
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** An epoch time in local time: "14:05" today, "2026-12-03 03:00" another day. */
export function localTime(epochSeconds: number, now = new Date()): string {
  const d = new Date(epochSeconds * 1000);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth()
    && d.getDate() === now.getDate();
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** The words beside a scenario in the tree: "running…", or its last outcome, then its next run. */
export function scenarioDescription(s: ScenarioSummary, now = new Date()): string {
  const parts = [s.running ? "running…" : s.last_status ?? "never run"];
  if (s.next_run !== null) parts.push(`next ${localTime(s.next_run, now)}`);
  return parts.join(" · ");
}

/** The tooltip: what it does, what starts it, its steps, its last run. */
export function scenarioTooltip(s: ScenarioSummary, now = new Date()): string {
  const lines = [`**${s.name}**${s.description ? ` — ${s.description}` : ""}`];
  lines.push(`triggers: ${s.triggers.length ? s.triggers.join("; ") : "none (run it by hand)"}`);
  lines.push(`steps: ${s.steps.join(", ")}`);
  if (s.running) lines.push(`running now (run ${s.running})`);
  if (s.last_status && s.last_finished !== null) {
    lines.push(`last run: ${s.last_status} at ${localTime(s.last_finished, now)} (${s.last_run ?? ""})`);
  }
  if (s.next_run !== null) lines.push(`next run: ${localTime(s.next_run, now)}`);
  lines.push(`\`${s.file}\``);
  return lines.join("\n\n");
}

/** What a run's end says in one line: "scenario nightly failed (build x: …)". */
export function runOutcome(report: ScenarioRunReport): string {
  const failed = report.steps.filter((s) => s.status === "failed")
    .map((s) => (s.message ? `${s.name}: ${s.message}` : s.name));
  const why = report.error ?? (failed.length ? failed.join("; ") : "");
  return `scenario ${report.scenario} ${report.status}${why ? ` (${why})` : ""}`;
}
