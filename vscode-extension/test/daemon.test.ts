import { mkdirSync, renameSync, rmSync } from "node:fs";
import * as path from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { cliMessage, Daemon, readDaemonInfo } from "../src/daemon";
import { DaemonClient, DaemonHttpError } from "../src/daemonClient";
import type { Exec } from "../src/python";
import { daemonEvent, plan as recordedPlan, plannedJob } from "./answers";
import { fakeDaemon, quietLogger, type FakeDaemon } from "./fakeDaemon";

let fake: FakeDaemon | undefined;
afterEach(async () => {
  await fake?.close();
  if (fake) rmSync(fake.root, { recursive: true, force: true });
  fake = undefined;
});

const noCli: Exec = async () => { throw new Error("the CLI must not run"); };
const until = async (check: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A Daemon for `root` that must not run the CLI, and the states and events it reported. */
function watched(root: string) {
  const daemon = new Daemon(root, () => "python3", quietLogger("debug").log, noCli, 50);
  const states: string[] = [];
  const events: string[] = [];
  daemon.onDidChangeState((s) => states.push(s));
  daemon.onEvent(({ kind }) => events.push(kind));
  return { daemon, states, events };
}

describe("Daemon", () => {
  it("connects to a running daemon, follows its events and sends the token", async () => {
    fake = await fakeDaemon();
    const { daemon, states, events } = watched(fake.root);
    expect(await daemon.connect()).toBe(true);
    await until(() => events.includes("hello"));
    fake.broadcast("flow", daemonEvent("flow", { version: 2 }));
    await until(() => events.includes("flow"));
    expect(states).toEqual(["running"]);
    expect(fake.requests.every((r) => r.auth === "Bearer t0ken")).toBe(true);
    daemon.dispose();
  });

  it("notices the daemon going away, and reconnects when it is back", async () => {
    fake = await fakeDaemon();
    const { daemon, states, events } = watched(fake.root);
    await daemon.connect();
    await until(() => events.includes("hello"));
    fake.dropStreams();
    // The health check still answers, so it reconnects at once: stopped, then running again.
    await until(() => states.length >= 3);
    expect(states.slice(0, 3)).toEqual(["running", "stopped", "running"]);
    daemon.dispose();
  });

  it("does not connect when there is no daemon.json, or the daemon does not answer", async () => {
    fake = await fakeDaemon();
    const { daemon } = watched("/nonexistent");
    expect(await daemon.connect()).toBe(false);
    expect(daemon.state).toBe("stopped");
    const root = fake.root;
    await fake.close();
    fake = undefined;
    expect(await watched(root).daemon.connect()).toBe(false);
    rmSync(root, { recursive: true, force: true });
  });

  it("starts a daemon with the CLI and says why when it cannot", async () => {
    const calls: string[][] = [];
    const failing: Exec = async (file, args) => {
      calls.push([file, ...args]);
      return { code: 2, stdout: "", stderr: "error: cannot listen on 127.0.0.1:1: Address in use\n  hint: pick another port\n" };
    };
    const daemon = new Daemon("/tmp/nowhere", () => "/venv/bin/python", quietLogger().log, failing);
    await expect(daemon.start()).rejects.toThrow("weir daemon start failed: cannot listen on 127.0.0.1:1: Address in use (pick another port)");
    expect(calls).toEqual([["/venv/bin/python", "-m", "weir", "--project", "/tmp/nowhere", "daemon", "start"]]);
    expect(daemon.state).toBe("stopped");
    daemon.dispose();
  });
});

describe("Daemon in an environment", () => {
  it("starts and stops the environment's daemon with --env, and connects to its daemon.json", async () => {
    fake = await fakeDaemon();
    const root = fake.root;
    // Where the real one writes it in prod (weir.wire.state_dir): .weir/env/prod/daemon.json.
    mkdirSync(path.join(root, ".weir", "env", "prod"), { recursive: true });
    renameSync(path.join(root, ".weir", "daemon.json"), path.join(root, ".weir", "env", "prod", "daemon.json"));
    const calls: string[][] = [];
    const cli: Exec = async (_file, args) => { calls.push(args); return { code: 0, stdout: "", stderr: "" }; };
    const daemon = new Daemon(root, () => "python3", quietLogger().log, cli);
    expect(await daemon.connect()).toBe(false); // none runs with no environment
    daemon.switchEnvironment("prod");
    await daemon.start();
    expect(daemon.state).toBe("running");
    expect(calls).toEqual([]); // it runs already: connected, not started
    await daemon.stop();
    expect(calls).toEqual([["-m", "weir", "--project", root, "--env", "prod", "daemon", "stop"]]);
    daemon.dispose();
  });

  it("lets go of one environment's daemon when the window moves to another", async () => {
    fake = await fakeDaemon();
    const { daemon, states } = watched(fake.root);
    const moves: (string | undefined)[] = [];
    daemon.onDidChangeEnvironment((e) => moves.push(e));
    await daemon.connect();
    expect(daemon.switchEnvironment(undefined)).toBe(false); // the same: nothing changes
    expect(daemon.switchEnvironment("dev")).toBe(true);
    expect(moves).toEqual(["dev"]);
    expect(daemon.environment).toBe("dev");
    expect(daemon.client).toBeUndefined();
    expect(states).toEqual(["running", "stopped"]);
    expect(await daemon.connect()).toBe(false); // dev's daemon does not run
    daemon.dispose();
  });

  it("does not take the old environment's start for the new one's", async () => {
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    const slow: Exec = async (_file, args) => {
      calls.push(args);
      if (calls.length === 1) await new Promise<void>((r) => { release = r; });
      return { code: 1, stdout: "", stderr: `error: no ${args.includes("prod") ? "prod" : "default"}\n` };
    };
    const daemon = new Daemon("/tmp/nowhere", () => "python3", quietLogger().log, slow);
    const first = daemon.start();
    await until(() => calls.length === 1);
    daemon.switchEnvironment("prod");
    await expect(daemon.start()).rejects.toThrow("no prod");
    release();
    await expect(first).rejects.toThrow("no default");
    expect(calls.map((c) => c.includes("--env"))).toEqual([false, true]);
    daemon.dispose();
  });
});

describe("DaemonClient", () => {
  it("turns an error answer into the daemon's own message", async () => {
    fake = await fakeDaemon();
    const info = await readDaemonInfo(fake.root);
    const client = new DaemonClient(info!);
    const err = await client.dataset("x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonHttpError);
    expect((err as DaemonHttpError).status).toBe(404);
    expect((err as Error).message).toBe("unknown dataset 'x' (did you mean 'y'?)");
  });

  it("asks the daemon for a plan without building", async () => {
    const plan = recordedPlan({ targets: ["t"], up_to_date: [], notes: [],
      jobs: [plannedJob({ recipe: "recipes/t.sql", action: "run", outputs: ["t"], reasons: { t: ["never built"] }, after: [] })] });
    fake = await fakeDaemon([(req, _body, res) => {
      if (req.method !== "POST" || req.url !== "/api/plan") return false;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(plan));
      return true;
    }]);
    const client = new DaemonClient((await readDaemonInfo(fake.root))!);
    expect(await client.plan({ targets: ["t"], mode: "required" })).toEqual(plan);
    const sent = fake.requests.find((r) => r.url === "/api/plan")!;
    expect(JSON.parse(sent.body)).toEqual({ targets: ["t"], mode: "required" });
    expect(fake.requests.some((r) => r.url === "/api/builds")).toBe(false);
  });

  it("asks the daemon to run checks and waits for what they found", async () => {
    const report = { ok: true, datasets: [{ name: "orders", error: null, checks: [] }] };
    fake = await fakeDaemon([(req, _body, res) => {
      if (req.method !== "POST" || req.url !== "/api/checks") return false;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(report));
      return true;
    }]);
    const client = new DaemonClient((await readDaemonInfo(fake.root))!);
    expect(await client.check(["orders"])).toEqual(report);
    expect(JSON.parse(fake.requests.find((r) => r.url === "/api/checks")!.body)).toEqual({ targets: ["orders"] });
  });

  it("relays only API paths", async () => {
    fake = await fakeDaemon();
    const client = new DaemonClient((await readDaemonInfo(fake.root))!);
    await expect(client.relay("/docs")).rejects.toThrow("not an API path");
    expect((await client.relay("/api/health")).status).toBe(200);
  });
});

describe("cliMessage", () => {
  it("keeps the CLI's error and hint, or the last line", () => {
    expect(cliMessage("error: no weir project here\n  hint: run inside a project\n")).toBe("no weir project here (run inside a project)");
    expect(cliMessage("Traceback\n  boom\nValueError: x\n")).toBe("ValueError: x");
    expect(cliMessage("")).toBe("no output");
  });
});

describe("Daemon.start", () => {
  it("runs the CLI once when a build asks while the daemon is starting", async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const slow: Exec = async () => {
      calls += 1;
      await new Promise<void>((r) => { release = r; });
      return { code: 1, stdout: "", stderr: "error: boom\n" };
    };
    const daemon = new Daemon("/tmp/nowhere", () => "python3", quietLogger().log, slow);
    const first = daemon.start();
    const second = daemon.start();
    await until(() => calls === 1);
    release();
    await expect(first).rejects.toThrow("boom");
    await expect(second).rejects.toThrow("boom");
    expect(calls).toBe(1);
    daemon.dispose();
  });
});
