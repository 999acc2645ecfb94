/**
 * The Flow view's bridge between its page and the daemon: the page gets the daemon's own
 * answers (a build's summary, or why it cannot start) and a `hello` shaped as the daemon's.
 */
import { rmSync } from "node:fs";

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as vscode from "vscode";

import type { BuildRunner } from "../src/builds";
import { Daemon } from "../src/daemon";
import { FlowPanel } from "../src/flowPanel";
import type { FlowStore } from "../src/flowStore";
import { buildSummary, checkedEvent } from "./answers";
import * as checks from "./apiChecks";
import { fakeDaemon, quietLogger, type FakeDaemon, type Route } from "./fakeDaemon";

const mock = vscode as unknown as typeof import("./vscode");

let fake: FakeDaemon | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  daemon?.dispose();
  await fake?.close();
  if (fake) rmSync(fake.root, { recursive: true, force: true });
  fake = undefined;
});

/** A webview panel that keeps what the extension posts to its page, and hands back the page's
 * message handler. */
function fakePanel() {
  const posted: { type: string; [key: string]: unknown }[] = [];
  let receive: (message: unknown) => Promise<void> = async () => undefined;
  const panel = {
    webview: {
      html: "", cspSource: "vscode-resource:",
      asWebviewUri: (uri: vscode.Uri) => uri,
      onDidReceiveMessage: (fn: (m: unknown) => Promise<void>) => { receive = fn; return { dispose: () => undefined }; },
      postMessage: async (m: { type: string }) => { posted.push(m); return true; },
    },
    onDidDispose: () => ({ dispose: () => undefined }),
    reveal: () => undefined,
    viewColumn: 1,
  };
  return { panel, posted, send: (m: unknown) => receive(m) };
}

const page: Route = (req, _body, res) => {
  if (!req.url?.startsWith("/?token=")) return false;
  res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><html><head></head><body></body></html>");
  return true;
};

beforeEach(() => vi.clearAllMocks());

async function open(routes: Route[]) {
  fake = await fakeDaemon([page, ...routes]);
  daemon = new Daemon(fake.root, () => "python3", quietLogger().log, async () => ({ code: 1, stdout: "", stderr: "" }));
  expect(await daemon.connect()).toBe(true);
  const { panel, posted, send } = fakePanel();
  mock.window.createWebviewPanel.mockReturnValue(panel);
  const follow = vi.fn(async () => buildSummary({ state: "succeeded" }));
  const flowPanel = new FlowPanel(vscode.Uri.file("/ext"), daemon, { node: () => undefined } as unknown as FlowStore,
    { follow } as unknown as BuildRunner, quietLogger().log);
  await flowPanel.show();
  return { posted, send, follow, flowPanel };
}

describe("FlowPanel", () => {
  it("starts the page's build itself and answers the page with the daemon's own answer", async () => {
    const queued = buildSummary({ id: "b4", state: "queued", request: { ...buildSummary().request, targets: ["x"] } });
    const { posted, send, follow } = await open([(req, _body, res) => {
      if (req.method !== "POST" || req.url !== "/api/builds") return false;
      res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify(queued));
      return true;
    }]);
    await send({ type: "api", id: 7, method: "POST", path: "/api/builds", body: JSON.stringify({ targets: ["x"], mode: "required" }) });
    const reply = posted.find((m) => m.type === "api" && m.id === 7)!;
    expect(reply.status).toBe(202);
    expect(checks.buildSummary(JSON.parse(reply.body as string), "$")).toEqual([]);
    expect(JSON.parse(reply.body as string)).toEqual(queued);
    expect(follow).toHaveBeenCalledWith(daemon!.client, queued);
    expect(JSON.parse(fake!.requests.find((r) => r.method === "POST")!.body)).toEqual({ targets: ["x"], mode: "required" });
  });

  it("passes on why a build cannot start, and follows nothing", async () => {
    const { posted, send, follow } = await open([(req, _body, res) => {
      if (req.method !== "POST") return false;
      res.writeHead(422, { "content-type": "application/json" }).end(JSON.stringify({ detail: "unknown mode 'fast'" }));
      return true;
    }]);
    await send({ type: "api", id: 8, method: "POST", path: "/api/builds", body: JSON.stringify({ targets: ["x"], mode: "fast" }) });
    expect(posted.find((m) => m.type === "api" && m.id === 8)).toMatchObject({ status: 422, body: JSON.stringify({ detail: "unknown mode 'fast'" }) });
    expect(follow).not.toHaveBeenCalled();
  });

  it("greets a page that subscribes late with the daemon's hello, as the daemon would", async () => {
    const { posted, send } = await open([]);
    await vi.waitFor(() => expect(daemon!.flowVersion).toBe(1));
    fake!.broadcast("flow", { version: 3, files: ["recipes/a.py"], added: [], removed: [], changed: ["a"], errors: 0, seconds: 0.01 });
    await vi.waitFor(() => expect(daemon!.flowVersion).toBe(3));
    posted.length = 0;
    await send({ type: "subscribe" });
    expect(posted).toEqual([{ type: "event", kind: "hello", data: { flow_version: 3 } }]);
    checkedEvent(checks.daemonEvents, "hello", posted[0].data);
  });
});
