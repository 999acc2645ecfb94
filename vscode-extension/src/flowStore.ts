/**
 * The Flow as the daemon last described it, kept current from the event stream: a new Flow
 * after file changes and finished builds, each dataset's status as `status` events change it
 * (the daemon's kept snapshot: a source changed on disk, a build beside the daemon), the
 * datasets being built right now (from `job` events) and the builds that are queued or
 * running (for the status bar). Views read it; only
 * the daemon's events change it.
 */
import * as vscode from "vscode";

import { FINAL_STATES, type BuildState, type DaemonEvents, type Flow, type FlowNode } from "./api";
import { coalesced } from "./coalesce";
import type { Daemon } from "./daemon";
import type { Logger } from "./log";

export class FlowStore implements vscode.Disposable {
  private flowValue: Flow | undefined;
  private readonly buildingSet = new Set<string>();
  /** How many jobs write each output now: a partitioned one's run a partition each, side by
   * side, and it is building until the last of them ends. */
  private readonly jobsOn = new Map<string, number>();
  private readonly builds = new Map<string, BuildState>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Whether `builds` was seeded from GET /api/builds since the daemon connected. */
  private seeded = false;

  /** Fires when the Flow, a status, or the set of running builds changed. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly daemon: Daemon, private readonly log: Logger) {
    this.subscriptions.push(
      // On connecting, the daemon's `hello` event (see apply) has the Flow read.
      daemon.onEvent(({ kind, data }) => this.apply(kind, data)),
      // Another environment's daemon: its Flow has other statuses (and maybe other datasets),
      // so nothing of this one's may show until it sends its own.
      daemon.onDidChangeEnvironment(() => {
        this.flowValue = undefined;
        this.changed.fire();
      }),
      daemon.onDidChangeState((state) => {
        if (state !== "stopped") return;
        this.buildingSet.clear();
        this.jobsOn.clear();
        this.builds.clear();
        this.seeded = false;
        this.changed.fire();
      }),
    );
  }

  get flow(): Flow | undefined {
    return this.flowValue;
  }

  node(name: string): FlowNode | undefined {
    return this.flowValue?.nodes.find((n) => n.name === name);
  }

  isBuilding(name: string): boolean {
    return this.buildingSet.has(name);
  }

  /** Builds queued or running in the daemon, whoever asked for them. */
  get activeBuilds(): number {
    let n = 0;
    for (const state of this.builds.values()) if (!FINAL_STATES.includes(state)) n += 1;
    return n;
  }

  /** Fetches the Flow again; concurrent calls share one request and one follow-up. */
  readonly refresh = coalesced(async () => {
    const client = this.daemon.client;
    if (!client) return;
    try {
      const flow = await client.flow();
      if (client !== this.daemon.client) return; // the window moved to another daemon meanwhile
      this.flowValue = flow;
      // What a build is writing right now (a view opened mid-build); events bring the rest.
      for (const n of this.flowValue.nodes) if (n.building) this.buildingSet.add(n.name);
      if (!this.seeded) {
        // Builds already queued or running when we connected; events bring the rest.
        for (const b of await client.builds()) if (!this.builds.has(b.id)) this.builds.set(b.id, b.state);
        this.seeded = true;
      }
      this.changed.fire();
    } catch (err) {
      this.log.warn(`could not read the Flow from the daemon: ${String(err)}`);
    }
  });

  /** Applies one event of the daemon's stream (`kind` a key of DaemonEvents). */
  apply(kind: string, data: unknown): void {
    if (kind === "hello" || kind === "flow") {
      void this.refresh();
    } else if (kind === "job") {
      const job = data as DaemonEvents["job"];
      for (const o of job.outputs) {
        const running = (this.jobsOn.get(o) ?? 0) + (job.event === "start" ? 1 : -1);
        if (running > 0) this.jobsOn.set(o, running);
        else this.jobsOn.delete(o);
        if (job.event === "start") this.buildingSet.add(o);
        else if (running <= 0) this.buildingSet.delete(o);
      }
      this.changed.fire();
    } else if (kind === "status") {
      const change = data as DaemonEvents["status"];
      if (!this.flowValue) return;
      const now = new Map(change.changed.map((d) => [d.name, d]));
      this.flowValue = {
        ...this.flowValue,
        nodes: this.flowValue.nodes.map((n) => {
          const d = now.get(n.name);
          return d ? { ...n, status: d.status, reasons: d.reasons, partitions: d.partitions ?? null } : n;
        }),
      };
      this.changed.fire();
    } else if (kind === "build") {
      const { id, state } = data as DaemonEvents["build"];
      this.builds.set(id, state);
      if (FINAL_STATES.includes(state)) {
        for (const [b, s] of this.builds) if (FINAL_STATES.includes(s)) this.builds.delete(b);
        this.buildingSet.clear();
        this.jobsOn.clear();
        void this.refresh();
      }
      this.changed.fire();
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
