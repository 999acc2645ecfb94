import { describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import type { Flow } from "../src/api";
import type { Daemon, DaemonState } from "../src/daemon";
import { FlowStore } from "../src/flowStore";
import { statusDescription } from "../src/treeModel";
import { buildSummary, daemonEvent } from "./answers";
import { flow, node } from "./fixtures";
import { quietLogger } from "./fakeDaemon";

/** A daemon whose events the test sends, and whose client answers from literals. */
function fakeDaemonObject(flows: Flow[]) {
  const events = new vscode.EventEmitter<{ kind: string; data: unknown }>();
  const states = new vscode.EventEmitter<DaemonState>();
  const environments = new vscode.EventEmitter<string | undefined>();
  const client = { flow: vi.fn(async () => flows.shift() ?? flow), builds: vi.fn(async () => [buildSummary({ id: "b1", state: "running" })]) };
  const daemon = { onEvent: events.event, onDidChangeState: states.event, onDidChangeEnvironment: environments.event, client } as unknown as Daemon;
  return { daemon, events, states, environments, client };
}

describe("FlowStore", () => {
  it("reads the Flow when the daemon connects, and again after file changes", async () => {
    const { daemon, events, client } = fakeDaemonObject([flow, { ...flow, nodes: flow.nodes.slice(0, 2) }]);
    const store = new FlowStore(daemon, quietLogger().log);
    events.fire({ kind: "hello", data: daemonEvent("hello") });
    await vi.waitFor(() => expect(store.flow?.nodes).toHaveLength(6));
    expect(store.activeBuilds).toBe(1); // seeded from GET /api/builds
    events.fire({ kind: "flow", data: daemonEvent("flow", { version: 2 }) });
    await vi.waitFor(() => expect(store.flow?.nodes).toHaveLength(2));
    expect(client.flow).toHaveBeenCalledTimes(2);
    expect(client.builds).toHaveBeenCalledTimes(1); // once per connection, not per Flow
  });

  it("takes each status event's changes into the Flow's nodes, without reading the Flow again", async () => {
    const { daemon, events, client } = fakeDaemonObject([flow]);
    const store = new FlowStore(daemon, quietLogger().log);
    events.fire({ kind: "hello", data: daemonEvent("hello") });
    await vi.waitFor(() => expect(store.flow).toBeDefined());
    const name = flow.nodes[1].name;
    const changes = vi.fn();
    store.onDidChange(changes);
    events.fire({ kind: "status", data: daemonEvent("status", {
      cause: "poll", changed: [{ name, status: "stale", reasons: ["input orders changed"], built_at: 1, rows: 3 }],
    }) });
    expect(store.node(name)?.status).toBe("stale");
    expect(store.node(name)?.reasons).toEqual(["input orders changed"]);
    expect(store.node(flow.nodes[0].name)?.status).toBe(flow.nodes[0].status);
    expect(changes).toHaveBeenCalledTimes(1);
    expect(client.flow).toHaveBeenCalledTimes(1);
  });

  it("takes a partitioned dataset's partition counts from status events", async () => {
    const daily = node("daily", { partitioning: "day (event_date)", partitions: { "never built": 3 },
      status: "never built", reasons: ["3 never built"] });
    const { daemon, events } = fakeDaemonObject([{ ...flow, nodes: [daily] }]);
    const store = new FlowStore(daemon, quietLogger().log);
    events.fire({ kind: "hello", data: daemonEvent("hello") });
    await vi.waitFor(() => expect(store.flow).toBeDefined());
    const said = { "up to date": 1, "never built": 2 };
    events.fire({ kind: "status", data: daemonEvent("status", {
      cause: "commit", changed: [{ name: "daily", status: "stale", reasons: ["1 up to date, 2 never built"],
        built_at: null, rows: null, partitions: said }],
    }) });
    expect(store.node("daily")?.partitions).toEqual(said);
    expect(statusDescription(store.node("daily")!, false)).toBe("stale · 1 up to date, 2 never built");
    events.fire({ kind: "status", data: daemonEvent("status", {
      cause: "commit", changed: [{ name: "daily", status: "up to date", reasons: [], built_at: 1, rows: 3,
        partitions: { "up to date": 3 } }],
    }) });
    expect(statusDescription(store.node("daily")!, false)).toBe("up to date · 3 partitions");
  });

  it("keeps a partitioned dataset building until the last of its partitions' jobs ends", () => {
    const { daemon, events } = fakeDaemonObject([]);
    const store = new FlowStore(daemon, quietLogger().log);
    const job = (event: "start" | "finish", partition: string) => events.fire({ kind: "job", data: daemonEvent("job", {
      event, status: event === "start" ? "running" : "built", recipe: "recipes/daily.py:daily", outputs: ["daily"], partition,
    }) });
    job("start", "day=2026-12-01");
    job("start", "day=2026-12-02");
    job("finish", "day=2026-12-01");
    expect(store.isBuilding("daily")).toBe(true);
    job("finish", "day=2026-12-02");
    expect(store.isBuilding("daily")).toBe(false);
  });

  it("marks datasets as building between their job's start and finish", () => {
    const { daemon, events } = fakeDaemonObject([]);
    const store = new FlowStore(daemon, quietLogger().log);
    const changes = vi.fn();
    store.onDidChange(changes);
    events.fire({ kind: "job", data: daemonEvent("job", { event: "start", status: "running", recipe: "r", outputs: ["train", "test"] }) });
    expect(store.isBuilding("train") && store.isBuilding("test")).toBe(true);
    events.fire({ kind: "job", data: daemonEvent("job", { event: "finish", recipe: "r", outputs: ["train", "test"], status: "built" }) });
    expect(store.isBuilding("train")).toBe(false);
    expect(changes).toHaveBeenCalledTimes(2);
  });

  it("shows what a build was already writing when the view opened", async () => {
    const midBuild = { ...flow, nodes: flow.nodes.map((n, i) => ({ ...n, building: i === 1 })) };
    const { daemon, events } = fakeDaemonObject([midBuild]);
    const store = new FlowStore(daemon, quietLogger().log);
    events.fire({ kind: "hello", data: daemonEvent("hello") });
    await vi.waitFor(() => expect(store.flow).toBeDefined());
    expect(store.isBuilding(flow.nodes[1].name)).toBe(true);
    expect(store.isBuilding(flow.nodes[0].name)).toBe(false);
  });

  it("counts builds in flight, and refreshes statuses when one ends", async () => {
    const { daemon, events, client } = fakeDaemonObject([flow, flow, flow]);
    const store = new FlowStore(daemon, quietLogger().log);
    events.fire({ kind: "build", data: daemonEvent("build", { build: "b2", id: "b2", state: "queued" }) });
    events.fire({ kind: "build", data: daemonEvent("build", { build: "b3", id: "b3", state: "running" }) });
    expect(store.activeBuilds).toBe(2);
    events.fire({ kind: "build", data: daemonEvent("build", { build: "b3", id: "b3", state: "failed" }) });
    expect(store.activeBuilds).toBe(1);
    await vi.waitFor(() => expect(client.flow).toHaveBeenCalled());
  });

  it("forgets builds when the daemon stops", () => {
    const { daemon, events, states } = fakeDaemonObject([]);
    const store = new FlowStore(daemon, quietLogger().log);
    events.fire({ kind: "build", data: daemonEvent("build", { build: "b2", id: "b2", state: "running" }) });
    events.fire({ kind: "job", data: daemonEvent("job", { event: "start", status: "running", recipe: "r", outputs: ["a"] }) });
    states.fire("stopped");
    expect(store.activeBuilds).toBe(0);
    expect(store.isBuilding("a")).toBe(false);
  });

  it("shows nothing of an environment's Flow once the window moved to another's daemon", async () => {
    const { daemon, events, environments } = fakeDaemonObject([flow]);
    const store = new FlowStore(daemon, quietLogger().log);
    events.fire({ kind: "hello", data: daemonEvent("hello") });
    await vi.waitFor(() => expect(store.flow).toBeDefined());
    const changes = vi.fn();
    store.onDidChange(changes);
    environments.fire("prod");
    expect(store.flow).toBeUndefined();
    expect(changes).toHaveBeenCalledTimes(1); // the trees redraw (empty until prod's Flow comes)
  });

  it("drops a Flow that arrives from a daemon the window has let go of", async () => {
    let answer: (f: Flow) => void = () => undefined;
    const { daemon, events, client } = fakeDaemonObject([]);
    client.flow.mockImplementationOnce(() => new Promise<Flow>((r) => { answer = r; }));
    const store = new FlowStore(daemon, quietLogger().log);
    events.fire({ kind: "hello", data: daemonEvent("hello") });
    await vi.waitFor(() => expect(client.flow).toHaveBeenCalled());
    (daemon as unknown as { client: unknown }).client = undefined; // switched to another environment
    answer(flow);
    await new Promise((r) => setTimeout(r, 10));
    expect(store.flow).toBeUndefined();
  });
});
