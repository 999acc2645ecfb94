/**
 * What a build's events look like as text in the "weir" output channel and in the progress
 * notification. Pure functions: events in, strings out.
 */
import type { BuildRequest, BuildSummary, JobEvent, Plan } from "./api";

/** "orders_clean", "+orders_clean", "3 targets", "all stale datasets". */
export function describeRequest(request: BuildRequest): string {
  const what = request.all ? "every dataset"
    : request.stale ? "all stale datasets"
      : request.targets.length <= 3 ? request.targets.join(", ")
        : `${request.targets.slice(0, 2).join(", ")} and ${request.targets.length - 2} more`;
  const mode = request.mode && request.mode !== "required" ? ` (${request.mode})` : "";
  return what + mode;
}

export function planLines(plan: Plan): string[] {
  if (plan.jobs.length === 0) {
    return [plan.targets.length
      ? `Nothing to do: ${plan.up_to_date.join(", ") || plan.targets.join(", ")} up to date.`
      : "Nothing to do: every dataset is up to date."];
  }
  const outputs = plan.jobs.flatMap((j) => j.outputs);
  const lines = [`${outputs.length} dataset${outputs.length === 1 ? "" : "s"} to build:`];
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
  if (job.event === "start") return `▶ ${job.recipe} → ${outputs}`;
  const seconds = job.seconds !== undefined ? ` in ${job.seconds.toFixed(2)} s` : "";
  const rows = job.rows !== undefined && job.rows !== null ? `, ${job.rows.toLocaleString("en-US")} rows` : "";
  switch (job.status) {
    case "built": return `✓ ${outputs} built${rows}${seconds}`;
    case "restored": return `↺ ${outputs} restored from an earlier build${rows}`;
    case "failed": return `✗ ${job.recipe} failed${seconds}: ${job.error ?? "error"}`;
    case "skipped": return `– ${outputs} skipped (an input failed)`;
    case "cancelled": return `■ ${outputs} cancelled`;
    default: return `· ${outputs} ${job.status ?? "finished"}${rows}${seconds}`;
  }
}

/** The last line of the build, and whether it is a failure the user must hear about. */
export function endLine(summary: BuildSummary, label: string, seconds: number): string {
  switch (summary.state) {
    case "succeeded": return `✓ build ${summary.id} of ${label} succeeded in ${seconds.toFixed(1)} s`;
    case "failed": return `✗ build ${summary.id} of ${label} failed`;
    case "cancelled": return `■ build ${summary.id} of ${label} cancelled`;
    case "error": return `✗ build ${summary.id} of ${label}: ${summary.error?.message ?? "error"}`
      + (summary.error?.hint ? ` (${summary.error.hint})` : "");
    default: return `build ${summary.id} of ${label}: ${summary.state}`;
  }
}

/** The progress notification's message while jobs run: "orders_clean (2/5)". */
export function progressMessage(running: string[], done: number, total: number): string {
  const now = running.length ? running.join(", ") : "waiting";
  return total ? `${now} (${done}/${total})` : now;
}
