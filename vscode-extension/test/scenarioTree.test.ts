import { describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import type { ScenarioSummary } from "../src/api";
import { ScenarioItem, ScenariosTree } from "../src/scenarioTree";
import { daemonEvent, scenarioSummary } from "./answers";
import { fakeDaemons } from "./fakeDaemon";

const serve = fakeDaemons();

describe("ScenariosTree", () => {
  it("lists the daemon's scenarios and follows their runs from the event stream", async () => {
    let listed: ScenarioSummary[] = [scenarioSummary({ running: null, last_status: "succeeded" })];
    const { fake, daemon, log } = await serve([(req, _b, res) => {
      if (req.url !== "/api/scenarios") return false;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ scenarios: listed }));
      return true;
    }]);
    const tree = new ScenariosTree(daemon, log);
    const redraws = vi.fn();
    tree.onDidChangeTreeData(redraws);
    expect(await daemon.connect()).toBe(true);

    // The stream's hello: the list is asked for.
    await vi.waitFor(() => expect(tree.getChildren()).toHaveLength(1));
    const [item] = tree.getChildren();
    expect(item).toBeInstanceOf(ScenarioItem);
    const shown = tree.getTreeItem(item);
    expect(shown.label).toBe("nightly");
    expect(shown.description).toMatch(/^succeeded · next /);
    expect((shown.iconPath as vscode.ThemeIcon).id).toBe("pass-filled");
    expect(shown.contextValue).toBe("weir.scenario");
    expect(shown.command).toEqual({ command: "weir.openScenario", title: "Open Scenario File", arguments: [item] });

    // A run starts (from a trigger, the CLI, another window): it spins.
    listed = [scenarioSummary({ running: "r9", last_status: "succeeded" })];
    fake.broadcast("scenario", daemonEvent("scenario", { event: "start", run_id: "r9" }));
    await vi.waitFor(() => expect(tree.getChildren()[0].scenario.running).toBe("r9"));
    const running = tree.getTreeItem(tree.getChildren()[0]);
    expect(running.description).toMatch(/^running… · next /);
    expect((running.iconPath as vscode.ThemeIcon).id).toBe("sync~spin");
    expect(running.contextValue).toBe("weir.scenario.running");

    // Its lines change nothing; its end does.
    const asked = () => fake.requests.filter((r) => r.url === "/api/scenarios").length;
    const before = asked();
    fake.broadcast("scenario", daemonEvent("scenario", { event: "line", run_id: "r9" }));
    listed = [scenarioSummary({ running: null, last_status: "failed", last_run: "r9" })];
    fake.broadcast("scenario", daemonEvent("scenario", { event: "end", run_id: "r9", status: "failed" }));
    await vi.waitFor(() => expect(tree.getChildren()[0].scenario.last_status).toBe("failed"));
    expect(asked()).toBe(before + 1);
    expect((tree.getTreeItem(tree.getChildren()[0]).iconPath as vscode.ThemeIcon).id).toBe("error");

    // A scenario file saved with a mistake is not listed any more (a `flow` event).
    listed = [];
    fake.broadcast("flow", daemonEvent("flow", {}));
    await vi.waitFor(() => expect(tree.getChildren()).toEqual([]));
    expect(redraws).toHaveBeenCalled();
    tree.dispose();
  });
});
