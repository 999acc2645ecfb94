/**
 * The language server's commands as the extension reads them. The server's CodeLenses carry
 * `weir.build` with one argument, `{root, targets, mode, label}`, and `weir.scenario.run` with
 * `{root, scenario, label}`; the extension runs those builds and scenario runs itself (see
 * languageClient.ts).
 */
import type { BuildRequest, Mode } from "./api";

/** The arguments of the server's `weir.build` command (one object). */
export interface ServerBuildArgs {
  root: string;
  targets: string[];
  mode?: Mode;
  /** What the CodeLens says it builds ("Build upstream orders_clean"). */
  label?: string;
}

/** The build a `weir.build` CodeLens asks for, if it is for `root`; else undefined. */
export function buildFromCommand(root: string, args: unknown[]):
{ request: BuildRequest; label?: string } | undefined {
  const first = args[0] as Partial<ServerBuildArgs> | undefined;
  if (!first || typeof first !== "object" || !Array.isArray(first.targets)) return undefined;
  if (first.root !== undefined && normalise(first.root) !== normalise(root)) return undefined;
  return {
    request: { targets: first.targets.map(String), mode: first.mode ?? "required" },
    label: typeof first.label === "string" && first.label ? first.label : undefined,
  };
}

/** The arguments of the server's `weir.scenario.run` command (one object). */
export interface ServerScenarioArgs {
  root: string;
  scenario: string;
  /** What the CodeLens says it does ("Run scenario nightly"). */
  label?: string;
}

/** The scenario a `weir.scenario.run` CodeLens asks to run, if it is for `root`; else undefined. */
export function scenarioFromCommand(root: string, args: unknown[]): { name: string; label?: string } | undefined {
  const first = args[0] as Partial<ServerScenarioArgs> | undefined;
  if (!first || typeof first !== "object" || typeof first.scenario !== "string" || !first.scenario) return undefined;
  if (first.root !== undefined && normalise(first.root) !== normalise(root)) return undefined;
  return { name: first.scenario, label: typeof first.label === "string" && first.label ? first.label : undefined };
}

function normalise(p: string): string {
  return p.replace(/[\\/]+$/, "");
}
