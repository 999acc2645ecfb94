/**
 * Which of weir.yaml's environments (`environments: dev: …, prod: …`) the window works in, and
 * what that changes for the processes the extension runs: the CLI gets `--env NAME`, the
 * language server `WEIR_ENV=NAME`, and the daemon is found where that environment's daemon
 * writes its daemon.json. Each environment has its own state and its own daemon, so this is
 * all it takes to see prod's statuses or build in dev. Pure, but for listing the environments,
 * which runs `weir environments --json` in the project's Python.
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
  executor?: string | null; // where its recipes run, when it says: "dask://HOST:PORT"
}

/** weir.yaml's environments, or why they cannot be listed (weir.yaml does not parse). */
export type EnvironmentList =
  | { ok: true; environments: EnvironmentInfo[] }
  | { ok: false; message: string };

/** `weir environments --json`: weir.yaml read alone (no Flow), so a fraction of a second, and
 * a mistake elsewhere in the project does not hide the environments it declares. */
export async function listEnvironments(python: string, root: string, run: Exec): Promise<EnvironmentList> {
  const r = await run(python, ["-m", "weir", "environments", "--json"], root);
  if (r.spawnError) return { ok: false, message: `cannot run ${python}: ${r.spawnError.message}` };
  return parseEnvironmentList(r.stdout, r.stderr);
}

/** The command's answer (weir.wire.EnvironmentInfo, or the CLI's JSON error on exit 2): stdout
 * from its first "{" (whatever the interpreter printed before), else stderr's last line. */
export function parseEnvironmentList(stdout: string, stderr = ""): EnvironmentList {
  const start = stdout.indexOf("{");
  try {
    if (start < 0) throw new Error("no JSON");
    const answer = JSON.parse(stdout.slice(start)) as {
      environments?: EnvironmentInfo[]; ok?: boolean; error?: { message?: string } };
    if (answer.ok === false) return { ok: false, message: answer.error?.message ?? "weir.yaml cannot be read" };
    if (!Array.isArray(answer.environments)) throw new Error("no environments");
    return { ok: true, environments: answer.environments.map((e) => (
      { name: String(e.name), branch: e.branch ?? null, description: String(e.description ?? ""),
        ...(e.executor ? { executor: String(e.executor) } : {}) })) };
  } catch {
    return { ok: false, message: lastLine(stderr) !== "no output" ? lastLine(stderr)
      : `unexpected answer listing the environments: ${lastLine(stdout)}` };
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
      description: mark(e.name, [...(e.branch ? [`branch ${e.branch}`] : []),
        ...(e.executor && e.executor !== "local" ? [`recipes on ${e.executor}`] : [])]),
      ...(e.description ? { detail: e.description } : {}),
      value: e.name,
    });
  }
  if (current && !declared.some((e) => e.name === current)) {
    items.push({ label: current, description: mark(current, ["not declared in weir.yaml"]), value: current });
  }
  return items;
}
