/**
 * The project's daemon as the extension sees it: stopped, starting, running or stopping. It
 * connects to a daemon that runs already (.weir/daemon.json), starts and stops one through the
 * CLI (`weir daemon start|stop`), follows its event stream and notices when it goes away or
 * another process starts one. Each of weir.yaml's environments has a daemon of its own: this
 * is the one of the environment the window works in (switchEnvironment).
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";

import * as vscode from "vscode";

import type { DaemonEvents, DaemonInfo } from "./api";
import { DaemonClient, type EventStream } from "./daemonClient";
import { daemonInfoPath, weirArgs } from "./environment";
import type { Logger } from "./log";
import { exec, type Exec } from "./python";

export type DaemonState = "stopped" | "starting" | "running" | "stopping";

export class DaemonError extends Error {}

export async function readDaemonInfo(root: string, environment?: string): Promise<DaemonInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(daemonInfoPath(root, environment), "utf8")) as DaemonInfo;
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
  private environmentValue: string | undefined;
  /** The start in progress, so that a build asked for meanwhile waits for it, not starts another. */
  private starting: Promise<void> | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  private readonly eventEmitter = new vscode.EventEmitter<{ kind: string; data: unknown }>();
  private readonly environmentEmitter = new vscode.EventEmitter<string | undefined>();

  /** Fires on every state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Every event of the daemon's stream (`kind` a key of DaemonEvents, `data` its shape). */
  readonly onEvent = this.eventEmitter.event;
  /** Fires when the window moves to another environment (before the state goes to stopped). */
  readonly onDidChangeEnvironment = this.environmentEmitter.event;

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

  /** The environment whose daemon this is (undefined: none, the project as its files say). */
  get environment(): string | undefined {
    return this.environmentValue;
  }

  /**
   * Works with another environment's daemon from now on: lets go of this one's (it keeps
   * running: it serves the CLI and other windows) and says so; whoever switched connects to, or
   * starts, the new one. Returns whether the environment changed.
   */
  switchEnvironment(environment: string | undefined): boolean {
    if (environment === this.environmentValue) return false;
    this.environmentValue = environment;
    this.events?.close();
    this.events = undefined;
    this.clientValue = undefined;
    this.flowVersionValue = undefined;
    // A start in progress is the old environment's: the next start() must not wait for it.
    this.starting = undefined;
    this.environmentEmitter.fire(environment);
    if (this.stateValue !== "stopped") this.setState("stopped");
    return true;
  }

  /** The API client while the daemon runs. */
  get client(): DaemonClient | undefined {
    return this.clientValue;
  }

  /** Connects to a running daemon, if there is one; returns whether it did. */
  async connect(): Promise<boolean> {
    const environment = this.environmentValue;
    const info = await readDaemonInfo(this.root, environment);
    if (!info) return false;
    const client = new DaemonClient(info);
    try {
      await client.health();
    } catch (err) {
      this.log.debug(`daemon at ${info.url} does not answer: ${String(err)}`);
      return false;
    }
    // Switched meanwhile: that daemon is not the one the window works with any more.
    if (this.disposed || environment !== this.environmentValue) return false;
    this.stopPolling();
    this.events?.close();
    this.clientValue = client;
    this.flowVersionValue = undefined;
    this.events = client.stream("/api/events", (kind, data) => {
      if (kind === "hello") this.flowVersionValue = (data as DaemonEvents["hello"]).flow_version;
      else if (kind === "flow") this.flowVersionValue = (data as DaemonEvents["flow"]).version;
      this.eventEmitter.fire({ kind, data });
    }, (error) => this.lost(client, error));
    this.log.info(`connected to the weir daemon${environment ? ` in ${environment}` : ""} at ${info.url} (pid ${info.pid})`);
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
    if (!this.starting) {
      const starting: Promise<void> = this.startOnce(this.environmentValue).finally(() => {
        if (this.starting === starting) this.starting = undefined;
      });
      this.starting = starting;
    }
    return this.starting;
  }

  private async startOnce(environment: string | undefined): Promise<void> {
    if (await this.connect()) return;
    this.setState("starting");
    try {
      await this.cli("start", environment);
      // Switched while it started: that daemon runs, for the CLI; the switch's own start follows.
      if (environment !== this.environmentValue) return;
      if (!(await this.connect())) {
        const log = path.join(path.dirname(daemonInfoPath(this.root, environment)), "logs", "daemon.log");
        throw new DaemonError(`the weir daemon started but does not answer; see ${path.relative(this.root, log)}`);
      }
    } catch (err) {
      if (environment === this.environmentValue) this.stopped();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.setState("stopping");
    this.events?.close();
    this.events = undefined;
    this.clientValue = undefined;
    try {
      await this.cli("stop", this.environmentValue);
    } finally {
      this.stopped();
    }
  }

  async restart(): Promise<void> {
    if (this.stateValue === "running" || (await readDaemonInfo(this.root, this.environmentValue))) await this.stop();
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
    this.environmentEmitter.dispose();
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

  /** Runs `weir [--env NAME] daemon <action>`; throws the CLI's own message when it fails. */
  private async cli(action: "start" | "stop", environment: string | undefined): Promise<void> {
    const python = this.python();
    const args = weirArgs(this.root, environment, ["daemon", action]);
    this.log.debug(`${python} ${args.join(" ")}`);
    const r = await this.run(python, args, this.root);
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
