/**
 * Which of weir.yaml's environments (`environments: dev: …, prod: …`) the window works in, and
 * what that changes for the processes the extension runs: the CLI gets `--env NAME`, the
 * language server `WEIR_ENV=NAME`, and the daemon is found where that environment's daemon
 * writes its daemon.json. Each environment has its own state and its own daemon, so this is
 * all it takes to see prod's statuses or build in dev. Pure, but for listing the environments,
 * which asks weir's own parser of weir.yaml in the project's Python.
 */
import * as path from "node:path";

import type { Exec } from "./python";

/** The variable weir reads for the environment it runs in (weir.wire.ENV_VARIABLE). */
export const ENV_VARIABLE = "WEIR_ENV";

/** The environment to work in: the `weir.environment` setting, else the editor's own
 * WEIR_ENV (as a terminal started from it would run), else none (the project as its files say). */
export function activeEnvironment(setting: string, env: NodeJS.ProcessEnv): string | undefined {
  return setting.trim() || env[ENV_VARIABLE]?.trim() || undefined;
}

/** The arguments of `python -m weir …` for a command in `environment`. The flag, rather than
 * the variable, so that the command line in the log says which environment a command ran in;
 * weir sets WEIR_ENV from it for all the command starts (the daemon's workers). */
export function weirArgs(root: string, environment: string | undefined, command: string[]): string[] {
  return ["-m", "weir", "--project", root, ...(environment ? ["--env", environment] : []), ...command];
}

/** Where the environment's daemon says where it listens (weir.wire.state_dir): `.weir/daemon.json`
 * with no environment, `.weir/env/NAME/daemon.json` in one. */
export function daemonInfoPath(root: string, environment: string | undefined): string {
  return path.join(root, ".weir", ...(environment ? ["env", environment] : []), "daemon.json");
}

/** The process environment of the language server: the editor's, with WEIR_ENV saying the
 * chosen environment (the server reads its variables, connections and state there). */
export function serverEnv(base: NodeJS.ProcessEnv, environment: string | undefined): NodeJS.ProcessEnv {
  const env = { ...base };
  if (environment) env[ENV_VARIABLE] = environment;
  else delete env[ENV_VARIABLE];
  return env;
}

/** The words that follow "weir" where the extension names the environment: " · prod", or
 * nothing with none (the status bar, the views, the Flow panel's title). */
export function environmentSuffix(environment: string | undefined): string {
  return environment ? ` · ${environment}` : "";
}

// -- weir.yaml's environments --------------------------------------------------------------------

/** One environment as weir.yaml declares it (weir.model.environments.Environment). */
export interface EnvironmentInfo {
  name: string;
  branch: string | null;
  description: string;
}

/** weir.yaml's environments, or why they cannot be listed (weir.yaml does not parse). */
export type EnvironmentList =
  | { ok: true; environments: EnvironmentInfo[] }
  | { ok: false; message: string };

/** Reads weir.yaml with weir's own parser (what the CLI and the daemon read), without loading
 * the Flow: a fraction of a second, and no command of the CLI lists environments. A mistake
 * elsewhere in weir.yaml does not hide the environments it declares. */
const LIST_ENVIRONMENTS = `
import json, sys
from pathlib import Path
from weir.model.config_files import parse_project_config
config, diags = parse_project_config("weir.yaml", (Path(sys.argv[1]) / "weir.yaml").read_text(encoding="utf-8"))
envs = config.environments.values() if config else []
print(json.dumps({"environments": [{"name": e.name, "branch": e.branch, "description": e.description} for e in envs],
                  "error": None if config else (diags[0].message if diags else "weir.yaml cannot be read")}))
`;

export async function listEnvironments(python: string, root: string, run: Exec): Promise<EnvironmentList> {
  const r = await run(python, ["-c", LIST_ENVIRONMENTS, root], root);
  if (r.spawnError) return { ok: false, message: `cannot run ${python}: ${r.spawnError.message}` };
  if (r.code !== 0) return { ok: false, message: lastLine(r.stderr) };
  return parseEnvironmentList(r.stdout);
}

/** The probe's answer: the last line of its stdout (whatever the interpreter prints first). */
export function parseEnvironmentList(stdout: string): EnvironmentList {
  try {
    const answer = JSON.parse(lastLine(stdout)) as { environments: EnvironmentInfo[]; error: string | null };
    if (answer.error) return { ok: false, message: `weir.yaml: ${answer.error}` };
    return { ok: true, environments: answer.environments };
  } catch {
    return { ok: false, message: `unexpected answer listing the environments: ${lastLine(stdout)}` };
  }
}

function lastLine(text: string): string {
  return text.split("\n").filter((l) => l.trim()).pop()?.trim() ?? "no output";
}

// -- the picker ----------------------------------------------------------------------------------

/** One choice of **weir: Select Environment…**; `value` is what the setting gets ("" for the default). */
export interface EnvironmentItem {
  label: string;
  description?: string;
  detail?: string;
  value: string;
}

/**
 * The picker's choices: "(default)" first — what an empty setting means, said as it is on this
 * machine — then weir.yaml's environments in its order. The one in use is marked; a setting
 * that names an environment weir.yaml no longer declares is listed too, so that the user sees
 * why its daemon does not start and can leave it.
 */
export function environmentItems(declared: EnvironmentInfo[], setting: string,
  inherited: string | undefined): EnvironmentItem[] {
  const current = setting.trim();
  const mark = (value: string, words: string[]): string =>
    [...(value === current ? ["current"] : []), ...words].join(" · ");
  const items: EnvironmentItem[] = [{
    label: "(default)",
    description: mark("", [inherited ? `${ENV_VARIABLE}=${inherited} of the editor's environment`
      : "no environment: the project as its files say"]),
    value: "",
  }];
  for (const e of declared) {
    items.push({
      label: e.name,
      description: mark(e.name, e.branch ? [`branch ${e.branch}`] : []),
      ...(e.description ? { detail: e.description } : {}),
      value: e.name,
    });
  }
  if (current && !declared.some((e) => e.name === current)) {
    items.push({ label: current, description: mark(current, ["not declared in weir.yaml"]), value: current });
  }
  return items;
}
