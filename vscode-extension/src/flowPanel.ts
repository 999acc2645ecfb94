/**
 * The Flow view: the daemon's own Flow page in a webview panel (one per window). The page talks
 * to the daemon only through this class — GETs under /api/ and POST /api/builds, which becomes
 * a build with a progress notification — and gets the daemon's events relayed; a click on a
 * node opens its recipe or YAML file beside the panel.
 */
import * as vscode from "vscode";

import type { BuildSummary, Hello } from "./api";
import type { BuildRunner } from "./builds";
import type { Daemon } from "./daemon";
import { environmentSuffix } from "./environment";
import { openDataset } from "./files";
import { messageHtml, nonce, webviewHtml } from "./flowHtml";
import type { FlowStore } from "./flowStore";
import { errorText, type Logger } from "./log";

interface ApiMessage { type: "api"; id: number; method: string; path: string; body?: string }
type FromPage = ApiMessage | { type: "open"; name: string } | { type: "alert"; message: string } | { type: "subscribe" };

export class FlowPanel implements vscode.Disposable {
  static readonly viewType = "weir.flow";
  private panel: vscode.WebviewPanel | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly daemon: Daemon,
    private readonly store: FlowStore, private readonly runner: BuildRunner,
    private readonly log: Logger) {
    this.subscriptions.push(
      daemon.onEvent(({ kind, data }) => this.post({ type: "event", kind, data })),
      // The page itself is the new environment's daemon's, loaded when that one runs (below).
      daemon.onDidChangeEnvironment(() => { if (this.panel) this.panel.title = this.title(); }),
      daemon.onDidChangeState((state) => {
        if (state === "stopped") this.post({ type: "down" });
        if (state === "running" && this.panel) void this.load();
      }),
    );
  }

  async show(): Promise<void> {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, "media");
    this.panel = vscode.window.createWebviewPanel(FlowPanel.viewType, this.title(), vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      enableFindWidget: true,
      localResourceRoots: [media],
    });
    this.panel.iconPath = vscode.Uri.joinPath(media, "weir.svg");
    const listening = this.panel.webview.onDidReceiveMessage((m: FromPage) => this.receive(m));
    this.panel.onDidDispose(() => {
      listening.dispose();
      this.panel = undefined;
    });
    await this.load();
  }

  /** "weir Flow", or "weir Flow · prod": whose statuses the graph shows. */
  private title(): string {
    return `weir Flow${environmentSuffix(this.daemon.environment)}`;
  }

  private async load(): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    const webview = panel.webview;
    try {
      const client = await this.daemon.ensureWithProgress("weir: starting the daemon for the Flow…");
      const page = await client.flowPage();
      const bridge = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, "media", "flow-bridge.js"));
      webview.html = webviewHtml(page, { nonce: nonce(), cspSource: webview.cspSource, bridgeUri: bridge.toString() });
    } catch (err) {
      const message = errorText(err);
      this.log.error(`the Flow view: ${message}`);
      // The panel reloads by itself when the daemon runs again (see the constructor).
      webview.html = messageHtml(`The Flow view needs the weir daemon, and cannot have it: ${message}. `
        + "Run “weir: Start Daemon” (or see “weir: Show Output”); this view reloads when the daemon runs.",
      webview.cspSource);
    }
  }

  private async receive(message: FromPage): Promise<void> {
    switch (message.type) {
      case "api": return this.relay(message);
      case "open": return this.openNode(message.name);
      case "alert":
        void vscode.window.showErrorMessage(`weir: ${message.message}`);
        return;
      case "subscribe":
        // The page's stream opens on the daemon's, already open: greet it as the daemon would
        // (before the daemon's own hello, there is nothing to say: that hello is relayed).
        if (this.daemon.state === "running" && this.daemon.flowVersion !== undefined) {
          const hello: Hello = { flow_version: this.daemon.flowVersion };
          this.post({ type: "event", kind: "hello", data: hello });
        }
        return;
    }
  }

  private async relay(message: ApiMessage): Promise<void> {
    const reply = (status: number, body: string): void =>
      this.post({ type: "api", id: message.id, status, body });
    const client = this.daemon.client;
    if (!client) {
      reply(503, JSON.stringify({ detail: "the weir daemon is not running" }));
      return;
    }
    try {
      if (message.method === "POST" && message.path === "/api/builds") {
        // Started here, so that the page gets the daemon's own answer (the build's summary, or
        // why it cannot start), and followed as every build is: progress, cancel, log.
        const answer = await client.request("POST", message.path, message.body ?? "{}");
        reply(answer.status, answer.body);
        if (answer.status === 202) void this.runner.follow(client, JSON.parse(answer.body) as BuildSummary);
      } else if (message.method === "PUT" && message.path === "/api/flow/layout") {
        // The layout the page made, kept by the daemon for the next page on the same shape.
        const answer = await client.request("PUT", message.path, message.body ?? "{}");
        reply(answer.status, answer.body);
      } else if (message.method === "GET") {
        const answer = await client.relay(message.path);
        reply(answer.status, answer.body);
      } else {
        reply(403, JSON.stringify({ detail: `the Flow view may not ${message.method} ${message.path}` }));
      }
    } catch (err) {
      reply(502, JSON.stringify({ detail: errorText(err) }));
    }
  }

  private async openNode(name: string): Promise<void> {
    const node = this.store.node(name) ?? (await this.daemon.client?.flow())?.nodes.find((n) => n.name === name);
    const column = this.panel?.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
    await openDataset(this.daemon.root, name, node, { preserveFocus: true, column });
  }

  private post(message: unknown): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
