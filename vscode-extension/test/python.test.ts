import { describe, expect, it } from "vitest";

import { checkWeir, explain, resolveInterpreter, type Exec } from "../src/python";

const fakeExec = (result: Awaited<ReturnType<Exec>>): Exec => async () => result;

describe("resolveInterpreter", () => {
  it("takes the weir.pythonPath setting first", async () => {
    const python = { environments: { getActiveEnvironmentPath: () => ({ path: "/venv/bin/python" }) } };
    expect(await resolveInterpreter(" /opt/py/bin/python3 ", python)).toEqual({ path: "/opt/py/bin/python3", source: "weir.pythonPath" });
  });

  it("then the Python extension's active environment, resolved to its executable", async () => {
    const python = {
      environments: {
        getActiveEnvironmentPath: () => ({ path: "/envs/conda" }),
        resolveEnvironment: async () => ({ executable: { uri: { fsPath: "/envs/conda/bin/python" } } }),
      },
    };
    expect(await resolveInterpreter("", python)).toEqual({ path: "/envs/conda/bin/python", source: "Python extension" });
  });

  it("then the older execution-details API", async () => {
    const python = { settings: { getExecutionDetails: () => ({ execCommand: ["/usr/local/bin/python3.11"] }) } };
    expect((await resolveInterpreter("", python)).path).toBe("/usr/local/bin/python3.11");
  });

  it("falls back to python3 when there is no Python extension, or its API throws", async () => {
    expect(await resolveInterpreter("", undefined)).toEqual({ path: "python3", source: "default" });
    const broken = { environments: { getActiveEnvironmentPath: () => { throw new Error("api changed"); } } };
    expect(await resolveInterpreter("", broken)).toEqual({ path: "python3", source: "default" });
  });
});

describe("checkWeir", () => {
  it("reports weir's version when it imports", async () => {
    expect(await checkWeir("py", fakeExec({ code: 0, stdout: '{"version": "0.1.0"}\n', stderr: "" })))
      .toEqual({ ok: true, version: "0.1.0" });
  });

  it("tells a missing interpreter from a missing weir", async () => {
    const enoent = Object.assign(new Error("spawn /nope ENOENT"), { code: "ENOENT" });
    expect(await checkWeir("/nope", fakeExec({ code: 1, stdout: "", stderr: "", spawnError: enoent })))
      .toMatchObject({ ok: false, reason: "no-python" });
    const stderr = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'weir'\n";
    expect(await checkWeir("py", fakeExec({ code: 1, stdout: "", stderr }))).toMatchObject({ ok: false, reason: "no-weir" });
  });

  it("calls any other failure broken, with the error", async () => {
    const stderr = "ImportError: cannot import name 'x' from 'pyarrow'\n";
    expect(await checkWeir("py", fakeExec({ code: 1, stdout: "", stderr }))).toEqual({ ok: false, reason: "broken", detail: stderr.trim() });
  });
});

describe("explain", () => {
  const interpreter = { path: "/usr/bin/python3", source: "default" };

  it("says weir is not installed where, and gives the install command", () => {
    const { message, install } = explain({ ok: false, reason: "no-weir", detail: "" }, interpreter);
    expect(message).toBe("weir is not installed in /usr/bin/python3 (from default). Install it (pip install weir) or choose another interpreter.");
    expect(install).toBe("/usr/bin/python3 -m pip install weir");
  });

  it("quotes an interpreter path with spaces in the install command", () => {
    const { install } = explain({ ok: false, reason: "no-weir", detail: "" }, { path: "/Users/a b/venv/bin/python", source: "weir.pythonPath" });
    expect(install).toBe('"/Users/a b/venv/bin/python" -m pip install weir');
  });

  it("points at the setting when the interpreter cannot run", () => {
    expect(explain({ ok: false, reason: "no-python", detail: "ENOENT" }, interpreter).message).toMatch(/Set "weir.pythonPath"/);
  });

  it("shows the last line of an import error", () => {
    const { message, install } = explain({ ok: false, reason: "broken", detail: "Traceback\n  ...\nImportError: boom" }, interpreter);
    expect(message).toBe("weir: /usr/bin/python3 (from default) cannot import weir: ImportError: boom");
    expect(install).toBeUndefined();
  });
});
