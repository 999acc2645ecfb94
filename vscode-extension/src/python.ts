/**
 * Which Python runs weir, and whether weir is installed in it. The order is the one a VS Code
 * user expects: the `weir.pythonPath` setting, else the interpreter selected in the Python
 * extension, else `python3` on the PATH.
 */
import { execFile } from "node:child_process";

export interface Interpreter {
  path: string;
  /** Where the choice came from, for messages: "weir.pythonPath", "Python extension", "default". */
  source: string;
}

/** The part of the Python extension's API the extension reads (ms-python.python exports). */
export interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: unknown): { path: string } | undefined;
    resolveEnvironment?(env: { path: string } | string):
    Promise<{ executable: { uri?: { fsPath: string } } } | undefined>;
  };
  settings?: {
    getExecutionDetails(resource?: unknown): { execCommand: string[] | undefined };
  };
}

export async function resolveInterpreter(setting: string, python: PythonExtensionApi | undefined,
  resource?: unknown): Promise<Interpreter> {
  if (setting.trim()) return { path: setting.trim(), source: "weir.pythonPath" };
  try {
    const envs = python?.environments;
    const active = envs?.getActiveEnvironmentPath(resource);
    if (envs && active?.path) {
      const resolved = envs.resolveEnvironment ? await envs.resolveEnvironment(active) : undefined;
      const path = resolved?.executable.uri?.fsPath ?? active.path;
      if (path) return { path, source: "Python extension" };
    }
    const exec = python?.settings?.getExecutionDetails(resource).execCommand;
    if (exec && exec.length > 0 && exec[0]) return { path: exec[0], source: "Python extension" };
  } catch {
    // The Python extension's API changed or failed: fall back to python3 rather than not start.
  }
  return { path: "python3", source: "default" };
}

export type Check =
  | { ok: true; version: string }
  | { ok: false; reason: "no-python" | "no-weir" | "broken"; detail: string };

export type Exec = (file: string, args: string[], cwd?: string) =>
Promise<{ code: number; stdout: string; stderr: string; spawnError?: NodeJS.ErrnoException }>;

export const exec: Exec = (file, args, cwd) => new Promise((resolve) => {
  execFile(file, args, { cwd, timeout: 60_000, maxBuffer: 8 * 1024 * 1024 }, (error, stdout, stderr) => {
    const spawnError = error && typeof (error as NodeJS.ErrnoException).code === "string"
      ? error as NodeJS.ErrnoException : undefined;
    const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
    resolve({ code, stdout: String(stdout), stderr: String(stderr), spawnError });
  });
});

const PROBE = "import json, weir, weir_lsp; print(json.dumps({'version': weir.__version__}))";

/** Runs the interpreter once to learn whether weir (and its language server) can be imported. */
export async function checkWeir(python: string, run: Exec = exec): Promise<Check> {
  const r = await run(python, ["-c", PROBE]);
  if (r.spawnError) {
    return { ok: false, reason: "no-python", detail: r.spawnError.message };
  }
  if (r.code !== 0) {
    const missing = /ModuleNotFoundError: No module named '(weir|weir_lsp)'/.test(r.stderr);
    return { ok: false, reason: missing ? "no-weir" : "broken", detail: r.stderr.trim() };
  }
  try {
    const line = r.stdout.trim().split("\n").pop() ?? "";
    return { ok: true, version: String((JSON.parse(line) as { version: unknown }).version) };
  } catch {
    return { ok: false, reason: "broken", detail: r.stdout.trim() };
  }
}

/** The one-line message and the shell command that fixes it. */
export function explain(check: Exclude<Check, { ok: true }>, python: Interpreter):
{ message: string; install?: string } {
  const where = `${python.path} (from ${python.source})`;
  switch (check.reason) {
    case "no-python":
      return { message: `weir: cannot run the Python interpreter ${where}. Set "weir.pythonPath" to a Python that has weir installed.` };
    case "no-weir":
      return {
        message: `weir is not installed in ${where}. Install it (pip install weir) or choose another interpreter.`,
        install: `${quote(python.path)} -m pip install weir`,
      };
    default:
      return { message: `weir: ${where} cannot import weir: ${lastLine(check.detail)}` };
  }
}

function lastLine(text: string): string {
  return text.split("\n").filter((l) => l.trim()).pop() ?? "unknown error";
}

function quote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `"${path.replace(/(["\\$`])/g, "\\$1")}"`;
}
