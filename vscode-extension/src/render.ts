/**
 * Markdown for the read-only documents the extension opens: a dataset's card (schema, status,
 * last builds), a build plan (what would run and why) and what checks said. Pure functions.
 */
import type { CheckReport, Column, DatasetDetail, Plan } from "./api";
import { nothingToDo } from "./buildLog";

function cell(text: unknown): string {
  return String(text ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function when(seconds: number | null | undefined): string {
  return seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) : "—";
}

function schemaTable(columns: Column[]): string[] {
  return ["| column | type | nullable |", "|---|---|---|",
    ...columns.map(([name, type, nullable]) => `| ${cell(name)} | ${cell(type)} | ${nullable ? "yes" : "no"} |`)];
}

export function datasetMarkdown(d: DatasetDetail): string {
  const out = [`# ${d.name}`, ""];
  if (d.description) out.push(d.description, "");
  const reasons = d.reasons.length ? ` — ${d.reasons.join(", ")}` : "";
  out.push(`**${d.status}**${reasons}`, "");
  out.push("| | |", "|---|---|",
    `| kind | ${cell(d.kind)} |`,
    `| stored at | \`${cell(d.connection)}:${cell(d.path)}\`${d.format ? ` (${cell(d.format)})` : ""} |`);
  if (d.recipe) out.push(`| recipe | \`${cell(d.recipe.file)}:${d.recipe.line}\` (${cell(d.recipe.kind)}) |`);
  if (d.rows !== null && d.rows !== undefined) out.push(`| rows | ${d.rows.toLocaleString("en-US")} |`);
  if (d.built_at) out.push(`| built | ${when(d.built_at)} |`);
  if (d.tags.length) out.push(`| tags | ${d.tags.map(cell).join(", ")} |`);
  out.push(`| inputs | ${d.inputs.map(cell).join(", ") || "—"} |`,
    `| used by | ${d.consumers.map(cell).join(", ") || "—"} |`, "");
  const schema = d.schema ?? d.declared_schema;
  out.push(`## Schema${d.schema ? " (observed)" : d.declared_schema ? " (declared)" : ""}`, "");
  out.push(...(schema?.length ? schemaTable(schema) : ["No schema yet: build the dataset."]), "");
  if (d.checks.length) {
    out.push(`## Checks${d.checked_at ? ` (${when(d.checked_at)})` : ""}`, "");
    out.push("| check | | |", "|---|---|---|", ...d.checks.map((c) =>
      `| ${cell(c.name)} | ${c.passed ? "passed" : c.severity === "error" ? "**failed**" : "warning"} | ${cell(c.message)} |`), "");
  }
  out.push("## Last builds", "");
  if (d.builds.length) {
    out.push("| finished | status | rows |", "|---|---|---|",
      ...d.builds.map((b) => `| ${when(b.finished ?? b.started)} | ${cell(b.status)} | ${b.rows ?? ""} |`));
  } else {
    out.push("Never built.");
  }
  return out.join("\n") + "\n";
}

export function planMarkdown(label: string, plan: Plan): string {
  const out = [`# Plan: ${label}`, ""];
  for (const note of plan.notes) out.push(`> ${note}`, "");
  if (plan.jobs.length === 0) {
    out.push(nothingToDo(plan));
    return out.join("\n") + "\n";
  }
  const runs = plan.jobs.filter((j) => j.action === "run").length;
  const restores = plan.jobs.length - runs;
  out.push(`${runs} recipe${runs === 1 ? "" : "s"} to run${restores ? `, ${restores} to restore from earlier builds` : ""}, in this order:`, "");
  out.push("| # | action | dataset | why | after |", "|---|---|---|---|---|");
  let i = 0;
  for (const job of plan.jobs) {
    for (const o of job.outputs) {
      i += 1;
      out.push(`| ${i} | ${job.action} | ${cell(o)} | ${cell((job.reasons[o] ?? []).join(", "))} | ${cell((job.after ?? []).join(", "))} |`);
    }
  }
  if (plan.up_to_date.length) out.push("", `Up to date, not rebuilt: ${plan.up_to_date.join(", ")}.`);
  return out.join("\n") + "\n";
}

/** What `weir: Run Checks…` found: each dataset's checks, the failing ones with examples. */
export function checksMarkdown(label: string, report: CheckReport): string {
  const failed = report.datasets.flatMap((d) => d.checks).filter((c) => !c.passed && c.severity === "error").length;
  const warned = report.datasets.flatMap((d) => d.checks).filter((c) => !c.passed && c.severity === "warning").length;
  const out = [`# Checks: ${label}`, ""];
  if (!report.datasets.length) {
    out.push("None of these datasets has checks (add `checks:` to its YAML).");
    return out.join("\n") + "\n";
  }
  out.push(report.ok ? `**passed**${warned ? ` — ${warned} warning${warned === 1 ? "" : "s"}` : ""}`
    : `**${failed} failed**${warned ? `, ${warned} warning${warned === 1 ? "" : "s"}` : ""}`, "");
  for (const d of report.datasets) {
    out.push(`## ${d.name}`, "");
    if (d.error !== null) {
      out.push(`Not checked: ${d.error}`, "");
      continue;
    }
    out.push("| check | | |", "|---|---|---|", ...d.checks.map((c) =>
      `| ${cell(c.name)} | ${c.passed ? "passed" : c.severity === "error" ? "**failed**" : "warning"} | ${cell(c.message)} |`), "");
    for (const c of d.checks.filter((x) => !x.passed && x.examples.length)) {
      const columns = Object.keys(c.examples[0] ?? {});
      out.push(`${c.name}, for example:`, "", `| ${columns.map(cell).join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`,
        ...c.examples.map((e) => `| ${columns.map((k) => cell(e[k])).join(" | ")} |`), "");
    }
  }
  return out.join("\n") + "\n";
}
