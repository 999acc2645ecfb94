/**
 * A stand-in for `weir daemon` over real HTTP on 127.0.0.1: the endpoints the extension calls,
 * answering from what the test scripts, and writing .weir/daemon.json like the real one.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

import { Logger, type Level } from "../src/log";

export interface FakeDaemon {
  root: string;
  url: string;
  requests: { method: string; url: string; body: string; auth: string | undefined }[];
  /** Sends an event to every client of /api/events. */
  broadcast(kind: string, data: unknown): void;
  /** Ends every open event stream (as a daemon that stops). */
  dropStreams(): void;
  close(): Promise<void>;
}

export type Route = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => boolean | Promise<boolean>;

export const TOKEN = "t0ken";

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
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ detail: "missing or wrong token" }));
        return;
      }
      for (const route of routes) if (await route(req, body, res)) return;
      if (req.url === "/api/health") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ project: "shop", root, version: "0", pid: 1 }));
      } else if (req.url === "/api/events") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("event: hello\ndata: {\"flow_version\": 1}\n\n");
        streams.add(res);
        res.on("close", () => streams.delete(res));
      } else if (req.url === "/api/flow") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ project: "shop", nodes: [], edges: [] }));
      } else if (req.url === "/api/builds") {
        res.writeHead(200, { "content-type": "application/json" }).end("[]");
      } else {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ detail: `unknown dataset 'x' (did you mean 'y'?)` }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(path.join(root, ".weir"));
  writeFileSync(path.join(root, ".weir", "daemon.json"), JSON.stringify({ pid: 1, host: "127.0.0.1", port, url, token: TOKEN, started: 0 }));
  return {
    root, url, requests,
    broadcast: (kind, data) => { for (const s of streams) s.write(`event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`); },
    dropStreams: () => { for (const s of streams) s.end(); streams.clear(); },
    close: () => new Promise((resolve) => {
      for (const s of streams) s.end();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A Logger whose channel keeps its lines in `lines` instead of showing them. */
export const quietLogger = (level: Level = "info") => {
  const lines: string[] = [];
  const channel = { appendLine: (l: string) => lines.push(l), show: () => undefined } as unknown as import("vscode").OutputChannel;
  return { lines, channel, log: new Logger(channel, () => level) };
};
