/**
 * Runs a build through the daemon the way a VS Code user expects: a cancellable progress
 * notification (cancelling cancels the build in the daemon), the build's progress and the
 * recipes' logs in the "weir" output channel, and, when it fails, one notification with
 * "Show log" and "Open recipe".
 */
import { readFile } from "node:fs/promises";

import * as vscode from "vscode";

import type { BuildEvents, BuildRequest, BuildSummary, JobEvent } from "./api";
import { describeRequest, endLine, jobLine, planLines, progressMessage, waitLine } from "./buildLog";
import type { Daemon } from "./daemon";
import type { DaemonClient } from "./daemonClient";
import { openDataset } from "./files";
import type { FlowStore } from "./flowStore";
import { errorText, timestamp, type Logger } from "./log";

const LOG_TAIL = 20_000;

/** A recipe's own output, indented under its job's line in the output channel. */
const indented = (line: string): string => `    │ ${line}`;

export class BuildRunner {
  constructor(private readonly daemon: Daemon, private readonly store: FlowStore,
    private readonly log: Logger) {}

  /** Builds and follows to the end; returns the final summary (undefined if it never started). */
  async build(request: BuildRequest, label = `Build ${describeRequest(request)}`):
  Promise<BuildSummary | undefined> {
    let client: DaemonClient;
    let summary: BuildSummary;
    try {
      client = await this.daemon.ensureWithProgress();
      summary = await client.startBuild(request);
    } catch (err) {
      this.log.showError(`weir: ${label} could not start: ${errorText(err)}`);
      return undefined;
    }
    return this.follow(client, summary, label);
  }

  /** Follows a build already started (the Flow view starts its page's builds itself, to answer
   * the page with the daemon's own answer) to its end, as build() does; returns the final summary. */
  async follow(client: DaemonClient, started: BuildSummary,
    label = `Build ${describeRequest(started.request)}`): Promise<BuildSummary> {
    const t0 = Date.now();
    this.log.build("");
    this.log.build(`[${timestamp()}] ── build ${started.id}: ${label}`);
    const failures: JobEvent[] = [];
    let logs = Promise.resolve();

    const final = await vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification,
      title: `weir: ${label}`,
      cancellable: true,
    }, (progress, token) => new Promise<BuildSummary>((resolve) => {
      let total = 0;
      let done = 0;
      const running = new Set<string>();
      const streamed = new Set<string>(); // recipes whose log came line by line
      let cancelled = false;
      token.onCancellationRequested(() => {
        cancelled = true;
        this.log.build(`[${timestamp()}] cancelling build ${started.id}…`);
        client.cancelBuild(started.id).catch((err: unknown) => this.log.error(`cancel failed: ${errorText(err)}`));
      });
      const stream = client.stream(`/api/builds/${encodeURIComponent(started.id)}/events`, (kind, data) => {
        if (kind === "plan") {
          const plan = data as BuildEvents["plan"];
          total = plan.jobs.length;
          for (const line of planLines(plan)) this.log.build(line);
          progress.report({ message: progressMessage([], 0, total) });
        } else if (kind === "wait") {
          // It must write what another build is writing: it waits for it, then plans again.
          const line = waitLine(data as BuildEvents["wait"]);
          this.log.build(`[${timestamp()}] ${line}`);
          progress.report({ message: line });
        } else if (kind === "log") {
          // What a recipe prints, as it prints it (daemons that stream; older ones do not).
          const log = data as BuildEvents["log"];
          streamed.add(log.recipe);
          for (const line of log.lines) this.log.build(indented(line));
        } else if (kind === "job") {
          const job = data as BuildEvents["job"];
          this.log.build(`[${timestamp()}] ${jobLine(job)}`);
          const what = job.outputs.join(", ");
          if (job.event === "start") {
            running.add(what);
          } else {
            running.delete(what);
            done += 1;
            if (job.status === "failed") failures.push(job);
            if (!streamed.has(job.recipe)) logs = logs.then(() => this.appendLog(job));
          }
          progress.report({
            message: progressMessage([...running], done, total),
            increment: job.event === "finish" && total ? 100 / total : undefined,
          });
        } else if (kind === "end") {
          stream.close();
          resolve(data as BuildEvents["end"]);
        }
      }, (error) => {
        // The stream broke before `end` (the daemon stopped): report what we know.
        resolve({ ...started, state: cancelled ? "cancelled" : "error",
          error: { message: `lost the daemon while following the build${error ? `: ${error.message}` : ""}`, hint: null } });
      });
    }));

    await logs;
    this.log.build(`[${timestamp()}] ${endLine(final, label, (Date.now() - t0) / 1000)}`);
    void this.tell(final, label, failures);
    return final;
  }

  /** A finished recipe's own log (what it printed, the traceback; else the event's traceback),
   * indented under its line. */
  private async appendLog(job: JobEvent): Promise<void> {
    let text = job.traceback ?? "";
    if (job.log_path) text = await readFile(job.log_path, "utf8").catch(() => text);
    text = text.trimEnd();
    if (text.length > LOG_TAIL) text = `…\n${text.slice(-LOG_TAIL)}`;
    if (text) for (const line of text.split("\n")) this.log.build(indented(line));
  }

  private async tell(final: BuildSummary, label: string, failures: JobEvent[]): Promise<void> {
    if (final.state === "succeeded") {
      vscode.window.setStatusBarMessage(`$(check) weir: ${label} succeeded`, 5_000);
      return;
    }
    if (final.state === "cancelled") {
      vscode.window.setStatusBarMessage(`$(circle-slash) weir: ${label} cancelled`, 5_000);
      return;
    }
    const failed = failures[0];
    const failedName = failed ? failed.outputs.join(", ") : "";
    const message = final.state === "error"
      ? `weir: ${label} could not run: ${final.error?.message ?? "error"}${final.error?.hint ? ` — ${final.error.hint}` : ""}`
      : failed
        ? `weir: ${failedName} failed: ${failed.error ?? "error"}`
        : `weir: ${label} failed`;
    const actions = failed ? ["Show log", "Open recipe"] : ["Show log"];
    const choice = await vscode.window.showErrorMessage(message, ...actions);
    if (choice === "Show log") {
      this.log.channel.show(true);
    } else if (choice === "Open recipe" && failed) {
      await openDataset(this.daemon.root, failedName, this.store.node(failed.outputs[0]));
    }
  }
}
