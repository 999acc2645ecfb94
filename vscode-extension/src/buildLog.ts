/**
 * What a build's events look like as text in the "weir" output channel and in the progress
 * notification. Pure functions: events in, strings out.
 */
import type { BuildRequest, BuildSummary, JobEvent, Plan, WaitEvent } from "./api";

/** "orders_clean", "+orders_clean", "3 targets", "all stale datasets". */
export function describeRequest(request: BuildRequest): string {
  const what = request.all ? "every dataset"
    : request.stale ? "all stale datasets"
      : request.targets.length <= 3 ? request.targets.join(", ")
        : `${request.targets.slice(0, 2).join(", ")} and ${request.targets.length - 2} more`;
  const mode = request.mode && request.mode !== "required" ? ` (${request.mode})` : "";
  return what + mode;
}

/** What a plan without jobs says (the output channel and the plan page both say it). */
export function nothingToDo(plan: Plan): string {
  return plan.targets.length
    ? `Nothing to do: ${plan.up_to_date.join(", ") || plan.targets.join(", ")} up to date.`
    : "Nothing to do: every dataset is up to date.";
}

export function planLines(plan: Plan): string[] {
  if (plan.jobs.length === 0) return [nothingToDo(plan)];
  const outputs = plan.jobs.flatMap((j) => j.outputs);
  const lines = [`${outputs.length} dataset${outputs.length === 1 ? "" : "s"} to build:`];
  // First: what reads these sources waits for their checks.
  for (const check of plan.checks) lines.push(`  ${"check".padEnd(7)} ${check.source}  — ${check.reasons.join(", ")}`);
  for (const job of plan.jobs) {
    for (const o of job.outputs) {
      const why = (job.reasons[o] ?? []).join(", ");
      lines.push(`  ${job.action.padEnd(7)} ${o}${why ? `  — ${why}` : ""}`);
    }
  }
  for (const note of plan.notes) lines.push(`  ${note}`);
  return lines;
}

export function jobLine(job: JobEvent): string {
  const outputs = job.outputs.join(", ");
  if (job.event === "start") return `▶ ${outputs}  (${job.recipe})`;
  const seconds = ` in ${job.seconds.toFixed(2)} s`;
  const counts = Object.values(job.rows);
  const total = counts.reduce((a, b) => a + b, 0);
  const rows = counts.length ? `, ${total.toLocaleString("en-US")} row${total === 1 ? "" : "s"}` : "";
  switch (job.status) {
    case "built": return `✓ ${outputs} built${rows}${seconds}` + job.warnings.map((w) => `\n    warning: ${w}`).join("");
    case "restored": return `↺ ${outputs} restored from an earlier build${rows}`;
    case "checked": return `✓ ${outputs} checked${rows}${seconds}` + job.warnings.map((w) => `\n    warning: ${w}`).join("");
    case "failed": return `✗ ${job.recipe} failed${seconds}: ${job.error ?? "error"}`;
    case "skipped": return `– ${outputs} skipped (an input failed)`;
    case "interrupted": return `■ ${outputs} interrupted`;
    default: return `· ${outputs} ${job.status}${rows}${seconds}`;
  }
}

/** The build's last line in the output channel; `label` is what was asked ("Build orders_clean"). */
/** What a build waits for, as the CLI says it: "Waiting for build b3, which is writing orders_clean…". */
export function waitLine(wait: WaitEvent): string {
  const who = wait.writer ? `build ${wait.writer}`
    : wait.pid !== null ? `a build without the daemon (pid ${wait.pid}${wait.command ? `, \`weir ${wait.command}\`` : ""})`
      : "another build";
  const names = wait.datasets;
  const what = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `Waiting for ${who}, which is writing ${what}…`;
}

export function endLine(summary: BuildSummary, label: string, seconds: number): string {
  switch (summary.state) {
    case "succeeded": return `✓ ${label} (build ${summary.id}) succeeded in ${seconds.toFixed(1)} s`;
    case "failed": return `✗ ${label} (build ${summary.id}) failed`;
    case "cancelled": return `■ ${label} (build ${summary.id}) cancelled`;
    case "interrupted": return `■ ${label} (build ${summary.id}) interrupted: ${summary.error?.message ?? "the daemon stopped"}`;
    case "error": return `✗ ${label} (build ${summary.id}) could not run: ${summary.error?.message ?? "error"}`
      + (summary.error?.hint ? ` (${summary.error.hint})` : "");
    default: return `${label} (build ${summary.id}): ${summary.state}`;
  }
}

/** The progress notification's message while jobs run: "orders_clean (2/5)". */
export function progressMessage(running: string[], done: number, total: number): string {
  if (running.length === 0) return total && done >= total ? `finishing (${done}/${total})` : `${done}/${total}`;
  return total ? `${running.join(", ")} (${done}/${total})` : running.join(", ");
}
