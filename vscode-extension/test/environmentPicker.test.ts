import { beforeEach, describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import { selectEnvironment } from "../src/environmentPicker";
import type { Exec } from "../src/python";

const mock = vscode as unknown as typeof import("./vscode");

/** weir.yaml's environments as the probe prints them. */
const probe = (names: string[]): Exec => async () => ({
  code: 0, stderr: "",
  stdout: JSON.stringify({ environments: names.map((name) => ({ name, branch: null, description: "" })), error: null }),
});

/** The `weir` configuration with these values, and its `update` to see what was written. */
function settings(workspace: string, globalValue?: string) {
  const update = vi.fn(async () => undefined);
  mock.workspace.getConfiguration.mockReturnValue({
    get: <T>(key: string, fallback: T) => (key === "environment" ? workspace as T : fallback),
    inspect: () => ({ globalValue }),
    update,
  } as never);
  return update;
}

const pick = (label: string | undefined) => mock.window.showQuickPick.mockImplementation(
  (async (items: { label: string }[]) => items.find((i) => i.label === label)) as never);

beforeEach(() => {
  vi.clearAllMocks();
  mock.window.withProgress.mockImplementation((async (_o: unknown, task: () => unknown) => task()) as never);
});

describe("selectEnvironment", () => {
  it("writes the chosen environment to the workspace's setting", async () => {
    const update = settings("");
    pick("prod");
    await selectEnvironment("/p", "python3", probe(["dev", "prod"]));
    const [items] = mock.window.showQuickPick.mock.calls[0] as unknown as [{ label: string }[]];
    expect(items.map((i) => i.label)).toEqual(["(default)", "dev", "prod"]);
    expect(update).toHaveBeenCalledWith("environment", "prod", mock.ConfigurationTarget.Workspace);
  });

  it("goes back to the default by removing the workspace's value, or saying \"\" over a user-wide one", async () => {
    let update = settings("prod");
    pick("(default)");
    await selectEnvironment("/p", "python3", probe(["prod"]));
    expect(update).toHaveBeenCalledWith("environment", undefined, mock.ConfigurationTarget.Workspace);
    update = settings("prod", "dev");
    await selectEnvironment("/p", "python3", probe(["prod"]));
    expect(update).toHaveBeenCalledWith("environment", "", mock.ConfigurationTarget.Workspace);
  });

  it("writes nothing when cancelled or when the choice is the current one", async () => {
    const update = settings("prod");
    pick(undefined);
    await selectEnvironment("/p", "python3", probe(["prod"]));
    pick("prod");
    await selectEnvironment("/p", "python3", probe(["prod"]));
    expect(update).not.toHaveBeenCalled();
  });

  it("says so when weir.yaml declares none, and why when it cannot be read", async () => {
    settings("");
    await selectEnvironment("/p", "python3", probe([]));
    expect(mock.window.showQuickPick).not.toHaveBeenCalled();
    expect(mock.window.showInformationMessage).toHaveBeenCalledWith(expect.stringContaining("declares no environments"));
    const broken: Exec = async () => ({ code: 2, stderr: "",
      stdout: JSON.stringify({ ok: false, error: { message: "the project has 1 error: weir.yaml:1: invalid YAML" } }) });
    await expect(selectEnvironment("/p", "python3", broken)).rejects.toThrow(
      "cannot list weir.yaml's environments: the project has 1 error: weir.yaml:1: invalid YAML");
  });
});
