/**
 * A stand-in for `weir daemon` over real HTTP on 127.0.0.1: the endpoints the extension calls,
 * answering from what the test scripts, and writing .weir/daemon.json like the real one. What it
 * answers by itself is made from the payloads recorded from a real daemon (answers.ts), and what
 * it writes and broadcasts is checked against the API's validators (fakes.test.ts checks it all).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { afterEach, beforeEach, vi } from "vitest";
import * as vscode from "vscode";

import type { ApiError, DaemonEvents, DaemonInfo } from "../src/api";
import { Daemon } from "../src/daemon";
import { Logger, type Level } from "../src/log";
import { checkedEvent, daemonEvent, flow, health } from "./answers";
import * as checks from "./apiChecks";
import { valid } from "./check";

export interface FakeDaemon {
  root: string;
  url: string;
  requests: { method: string; url: string; body: string; auth: string | undefined }[];
  /** Sends an event to every client of /api/events. */
  broadcast<K extends keyof DaemonEvents>(kind: K, data: DaemonEvents[K]): void;
  /** Ends every open event stream (as a daemon that stops). */
  dropStreams(): void;
  close(): Promise<void>;
}

export type Route = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => boolean | Promise<boolean>;

export const TOKEN = "t0ken";

const json = (res: http.ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};

export async function fakeDaemon(routes: Route[] = []): Promise<FakeDaemon> {
  const root = mkdtempSync(path.join(tmpdir(), "weir-fake-"));
  const streams = new Set<http.ServerResponse>();
  const requests: FakeDaemon["requests"] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => { body += c.toString(); });
    req.on("end", async () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", body, auth: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        json(res, 401, valid<ApiError>(checks.apiError, { detail: "missing or wrong token" }));
        return;
      }
      for (const route of routes) if (await route(req, body, res)) return;
      if (req.url === "/api/health") {
        json(res, 200, health({ root, pid: 1 }));
      } else if (req.url === "/api/events") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(sse("hello", daemonEvent("hello", { flow_version: 1 })));
        streams.add(res);
        res.on("close", () => streams.delete(res));
      } else if (req.url === "/api/flow") {
        json(res, 200, flow());
      } else if (req.url === "/api/builds") {
        json(res, 200, []);
      } else {
        json(res, 404, valid<ApiError>(checks.apiError, { detail: "unknown dataset 'x' (did you mean 'y'?)" }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(path.join(root, ".weir"));
  const info: DaemonInfo = { pid: 1, host: "127.0.0.1", port, url, token: TOKEN, started: 0 };
  writeFileSync(path.join(root, ".weir", "daemon.json"), JSON.stringify(valid(checks.daemonInfo, info)));
  return {
    root, url, requests,
    broadcast: (kind, data) => {
      const text = sse(kind, data); // checked even when no one listens
      for (const s of streams) s.write(text);
    },
    dropStreams: () => { for (const s of streams) s.end(); streams.clear(); },
    close: () => new Promise((resolve) => {
      for (const s of streams) s.end();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** One event of /api/events as the daemon writes it, checked: the daemon could send it. */
function sse<K extends keyof DaemonEvents>(kind: K, data: DaemonEvents[K]): string {
  checkedEvent(checks.daemonEvents, kind, data);
  return `event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A Logger whose channel keeps its lines in `lines` instead of showing them. */
export const quietLogger = (level: Level = "info") => {
  const lines: string[] = [];
  const channel = { appendLine: (l: string) => lines.push(l), show: () => undefined } as unknown as import("vscode").OutputChannel;
  return { lines, channel, log: new Logger(channel, () => level) };
};

export interface Served {
  fake: FakeDaemon;
  /** The extension's Daemon for the fake's project (not connected yet: `daemon.connect()`). */
  daemon: Daemon;
  log: Logger;
  /** What went to the "weir" output channel. */
  lines: string[];
}

/** For a test file: `serve(routes)` starts a fake daemon and the extension's Daemon for its
 * project; after each test both are closed and the project's folder removed. */
export function fakeDaemons(): (routes?: Route[]) => Promise<Served> {
  let served: Served | undefined;
  afterEach(async () => {
    served?.daemon.dispose();
    await served?.fake.close();
    if (served) rmSync(served.fake.root, { recursive: true, force: true });
    served = undefined;
  });
  return async (routes = []) => {
    const fake = await fakeDaemon(routes);
    const { lines, log } = quietLogger();
    const daemon = new Daemon(fake.root, () => "python3", log, async () => ({ code: 1, stdout: "", stderr: "" }));
    served = { fake, daemon, log, lines };
    return served;
  };
}

const mock = vscode as unknown as typeof import("./vscode");

/** For a test file: each progress notification the code opens runs its task at once, with
 * `progress` (whose `report` is a mock) and `source.token` (`source.cancel()` presses its
 * Cancel); mocks are cleared before each test. */
export function progressNotifications(): { progress: { report: ReturnType<typeof vi.fn> }; source: InstanceType<typeof mock.CancellationTokenSource> } {
  const state = { progress: { report: vi.fn() }, source: new mock.CancellationTokenSource() };
  beforeEach(() => {
    vi.clearAllMocks();
    state.source = new mock.CancellationTokenSource();
    mock.window.withProgress.mockImplementation((_options: unknown, task: (p: unknown, t: unknown) => unknown) =>
      task(state.progress, state.source.token));
  });
  return state;
}
