import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { describe, expect, it } from "vitest";

import {
  activeEnvironment, daemonInfoPath, environmentItems, environmentSuffix, listEnvironments,
  parseEnvironmentList, serverEnv, weirArgs, type EnvironmentInfo,
} from "../src/environment";
import { exec, type Exec } from "../src/python";

const declared: EnvironmentInfo[] = [
  { name: "dev", branch: "dev", description: "" },
  { name: "prod", branch: "main", description: "what the shop's dashboards read" },
];

describe("activeEnvironment", () => {
  it("is the setting, else the editor's WEIR_ENV, else none", () => {
    expect(activeEnvironment("prod", { WEIR_ENV: "dev" })).toBe("prod");
    expect(activeEnvironment(" ", { WEIR_ENV: "dev" })).toBe("dev");
    expect(activeEnvironment("", {})).toBeUndefined();
    expect(activeEnvironment("", { WEIR_ENV: "" })).toBeUndefined();
  });
});

describe("what an environment changes for the processes", () => {
  it("gives the CLI --env NAME before the command, and nothing with none", () => {
    expect(weirArgs("/p", "prod", ["daemon", "start"]))
      .toEqual(["-m", "weir", "--project", "/p", "--env", "prod", "daemon", "start"]);
    expect(weirArgs("/p", undefined, ["daemon", "stop"])).toEqual(["-m", "weir", "--project", "/p", "daemon", "stop"]);
  });

  it("finds each environment's daemon where weir.wire.state_dir puts it", () => {
    expect(daemonInfoPath("/p", undefined)).toBe(path.join("/p", ".weir", "daemon.json"));
    expect(daemonInfoPath("/p", "prod")).toBe(path.join("/p", ".weir", "env", "prod", "daemon.json"));
  });

  it("sets WEIR_ENV for the language server, keeping the rest of the editor's environment", () => {
    const base = { PATH: "/bin", WEIR_ENV: "dev" };
    expect(serverEnv(base, "prod")).toEqual({ PATH: "/bin", WEIR_ENV: "prod" });
    expect(serverEnv(base, undefined)).toEqual({ PATH: "/bin" });
    expect(base.WEIR_ENV).toBe("dev"); // a copy: the editor's own is not touched
  });

  it("names the environment after weir, or says nothing", () => {
    expect(environmentSuffix("prod")).toBe(" · prod");
    expect(environmentSuffix(undefined)).toBe("");
  });
});

describe("environmentItems", () => {
  it("lists the default, then weir.yaml's environments, the current one marked", () => {
    expect(environmentItems(declared, "prod", undefined)).toEqual([
      { label: "(default)", description: "no environment: the project as its files say", value: "" },
      { label: "dev", description: "branch dev", value: "dev" },
      { label: "prod", description: "current · branch main", detail: "what the shop's dashboards read", value: "prod" },
    ]);
  });

  it("says what the default is on this machine, and marks it when the setting is empty", () => {
    const [first] = environmentItems(declared, "", "dev");
    expect(first).toEqual({ label: "(default)", description: "current · WEIR_ENV=dev of the editor's environment", value: "" });
  });

  it("says which environment runs its recipes on a cluster", () => {
    const items = environmentItems([{ name: "cluster", branch: null, description: "",
      executor: "dask://scheduler:8786" }], "", undefined);
    expect(items[1]).toEqual({ label: "cluster", description: "recipes on dask://scheduler:8786",
      value: "cluster" });
  });

  it("keeps a setting weir.yaml no longer declares, so that it can be left", () => {
    const items = environmentItems([{ name: "dev", branch: null, description: "" }], "staging", undefined);
    expect(items.map((i) => [i.label, i.description])).toEqual([
      ["(default)", "no environment: the project as its files say"],
      ["dev", ""],
      ["staging", "current · not declared in weir.yaml"],
    ]);
  });
});

describe("listing weir.yaml's environments", () => {
  it("reads the command's JSON, or its error, or says why there is none", () => {
    const full = declared.map((e) => ({ ...e, connections: [], variables: [], active: false, defined_in: "weir.yaml:3" }));
    expect(parseEnvironmentList(`${JSON.stringify({ environments: full, active: null }, null, 2)}\n`))
      .toEqual({ ok: true, environments: declared });
    expect(parseEnvironmentList(JSON.stringify({ ok: false, error: { message: "the project has 1 error: weir.yaml:2: …" } })))
      .toEqual({ ok: false, message: "the project has 1 error: weir.yaml:2: …" });
    expect(parseEnvironmentList("").ok).toBe(false);
  });

  it("runs weir environments in the project, and keeps its error", async () => {
    const calls: (string | undefined)[][] = [];
    const failing: Exec = async (file, args, cwd) => {
      calls.push([file, args.join(" "), cwd]);
      return { code: 1, stdout: "", stderr: "/venv/bin/python: No module named weir\n" };
    };
    expect(await listEnvironments("/venv/bin/python", "/p", failing))
      .toEqual({ ok: false, message: "/venv/bin/python: No module named weir" });
    expect(calls).toEqual([["/venv/bin/python", "-m weir environments --json", "/p"]]);
  });

  // Against weir itself, so a change on weir's side shows here. Runs where a Python with weir
  // is known (WEIR_PYTHON, or the repository's .venv, which `make test` installs first).
  const python = [process.env.WEIR_PYTHON, path.resolve(__dirname, "../../.venv/bin/python")]
    .find((p): p is string => !!p && existsSync(p));
  it.skipIf(!python)("lists them with weir environments", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weir-envs-"));
    try {
      writeFileSync(path.join(root, "weir.yaml"), "name: shop\nvariables: {v: 1}\nenvironments:\n"
        + "  dev: {branch: dev}\n  prod:\n    branch: main\n    description: the live one\n    variables: {v: 2}\n"
        + "    executor: dask://scheduler:8786\n");
      expect(await listEnvironments(python!, root, exec)).toEqual({ ok: true, environments: [
        { name: "dev", branch: "dev", description: "" },
        { name: "prod", branch: "main", description: "the live one", executor: "dask://scheduler:8786" },
      ] });
      writeFileSync(path.join(root, "weir.yaml"), "name: [\n");
      const broken = await listEnvironments(python!, root, exec);
      expect(broken.ok).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
