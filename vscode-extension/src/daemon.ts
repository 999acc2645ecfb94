/**
 * The project's daemon as the extension sees it: stopped, starting, running or stopping. It
 * connects to a daemon that runs already (.weir/daemon.json), starts and stops one through the
 * CLI (`weir daemon start|stop`), follows its event stream and notices when it goes away or
 * another process starts one.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";

import * as vscode from "vscode";

import type { DaemonEvents, DaemonInfo } from "./api";
import { DaemonClient, type EventStream } from "./daemonClient";
import type { Logger } from "./log";
import { exec, type Exec } from "./python";

export type DaemonState = "stopped" | "starting" | "running" | "stopping";

export class DaemonError extends Error {}

export async function readDaemonInfo(root: string): Promise<DaemonInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path.join(root, ".weir", "daemon.json"), "utf8")) as DaemonInfo;
    return info.url && info.token ? info : undefined;
  } catch {
    return undefined;
  }
}

export class Daemon implements vscode.Disposable {
  private stateValue: DaemonState = "stopped";
  private clientValue: DaemonClient | undefined;
  private events: EventStream | undefined;
  private poll: NodeJS.Timeout | undefined;
  private disposed = false;
  private flowVersionValue: number | undefined;
  /** The start in progress, so that a build asked for meanwhile waits for it, not starts another. */
  private starting: Promise<void> | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  private readonly eventEmitter = new vscode.EventEmitter<{ kind: string; data: unknown }>();

  /** Fires on every state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Every event of the daemon's stream (`kind` a key of DaemonEvents, `data` its shape). */
  readonly onEvent = this.eventEmitter.event;

  constructor(readonly root: string, private readonly python: () => string,
    private readonly log: Logger, private readonly run: Exec = exec,
    private readonly pollMs = 2_000) {}

  get state(): DaemonState {
    return this.stateValue;
  }

  /** The Flow's version as the daemon's stream last said it (`hello`, then each `flow`). */
  get flowVersion(): number | undefined {
    return this.flowVersionValue;
  }

  /** The API client while the daemon runs. */
  get client(): DaemonClient | undefined {
    return this.clientValue;
  }

  /** Connects to a running daemon, if there is one; returns whether it did. */
  async connect(): Promise<boolean> {
    const info = await readDaemonInfo(this.root);
    if (!info) return false;
    const client = new DaemonClient(info);
    try {
      await client.health();
    } catch (err) {
      this.log.debug(`daemon at ${info.url} does not answer: ${String(err)}`);
      return false;
    }
    if (this.disposed) return false;
    this.stopPolling();
    this.events?.close();
    this.clientValue = client;
    this.flowVersionValue = undefined;
    this.events = client.stream("/api/events", (kind, data) => {
      if (kind === "hello") this.flowVersionValue = (data as DaemonEvents["hello"]).flow_version;
      else if (kind === "flow") this.flowVersionValue = (data as DaemonEvents["flow"]).version;
      this.eventEmitter.fire({ kind, data });
    }, (error) => this.lost(client, error));
    this.log.info(`connected to the weir daemon at ${info.url} (pid ${info.pid})`);
    this.setState("running");
    return true;
  }

  /** Returns a client, starting the daemon first if it does not run (start connects first). */
  private async ensure(): Promise<DaemonClient> {
    if (this.clientValue && this.stateValue === "running") return this.clientValue;
    await this.start();
    if (!this.clientValue) throw new DaemonError("the weir daemon started but does not answer");
    return this.clientValue;
  }

  /** As ensure(), with a progress notification while the daemon starts (none when it runs). */
  ensureWithProgress(title = "weir: starting the daemon…"): Promise<DaemonClient> {
    if (this.clientValue && this.stateValue === "running") return Promise.resolve(this.clientValue);
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title }, () => this.ensure()));
  }

  start(): Promise<void> {
    this.starting ??= this.startOnce().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    if (await this.connect()) return;
    this.setState("starting");
    try {
      await this.cli("start");
      if (!(await this.connect())) {
        throw new DaemonError("the weir daemon started but does not answer; see .weir/logs/daemon.log");
      }
    } catch (err) {
      this.stopped();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.setState("stopping");
    this.events?.close();
    this.events = undefined;
    this.clientValue = undefined;
    try {
      await this.cli("stop");
    } finally {
      this.stopped();
    }
  }

  async restart(): Promise<void> {
    if (this.stateValue === "running" || (await readDaemonInfo(this.root))) await this.stop();
    await this.start();
  }

  /** Watches for a daemon started elsewhere (the CLI, another window) while none is connected. */
  startPolling(): void {
    if (this.poll || this.disposed) return;
    this.poll = setInterval(() => {
      if (this.stateValue === "stopped") void this.connect();
    }, this.pollMs);
  }

  dispose(): void {
    this.disposed = true;
    this.stopPolling();
    this.events?.close();
    this.stateEmitter.dispose();
    this.eventEmitter.dispose();
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  private lost(client: DaemonClient, error?: Error): void {
    if (this.clientValue !== client || this.disposed) return;
    this.log.info(`the weir daemon's event stream ended${error ? `: ${error.message}` : ""}`);
    this.clientValue = undefined;
    this.events = undefined;
    if (this.stateValue === "running") this.setState("stopped");
    // It may come straight back (a restart elsewhere): try now, then keep polling.
    void this.connect().then((ok) => {
      if (!ok) this.startPolling();
    });
  }

  /** Not connected: say so, and watch for a daemon to connect to. */
  private stopped(): void {
    this.setState("stopped");
    this.startPolling();
  }

  private setState(state: DaemonState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.stateEmitter.fire(state);
  }

  /** Runs `weir daemon <action>`; throws the CLI's own message when it fails. */
  private async cli(action: "start" | "stop"): Promise<void> {
    const python = this.python();
    this.log.debug(`${python} -m weir --project ${this.root} daemon ${action}`);
    const r = await this.run(python, ["-m", "weir", "--project", this.root, "daemon", action], this.root);
    if (r.code !== 0) throw new DaemonError(`weir daemon ${action} failed: ${cliMessage(r.stderr || r.stdout)}`);
    this.log.info(r.stdout.trim());
  }
}

/** The CLI's own message: "error: what\n  hint: what to do" becomes "what (what to do)". */
export function cliMessage(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => l.startsWith("error:"));
  if (!error) return lines.pop() ?? "no output";
  const hint = lines.find((l) => l.startsWith("hint:"));
  return error.slice(6).trim() + (hint ? ` (${hint.slice(5).trim()})` : "");
}
