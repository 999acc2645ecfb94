/**
 * The daemon's HTTP API, over node:http (the daemon listens on 127.0.0.1 only). One instance per
 * running daemon: it holds the URL and the bearer token read from .weir/daemon.json, and never
 * hands the token to a webview.
 */
import * as http from "node:http";

import type {
  BuildLog, BuildRequest, BuildSummary, CheckReport, DaemonInfo, DatasetDetail, Flow, Health,
  Plan, ScenarioList, ScenarioRunReport, ScenarioStart, ScenarioSummary,
} from "./api";
import { SseParser } from "./sse";

/** An HTTP answer that was not 2xx, with the daemon's own message (`detail`) when it gave one. */
export class DaemonHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface EventStream {
  close(): void;
}

export class DaemonClient {
  constructor(readonly info: DaemonInfo, private readonly timeoutMs = 10_000) {}

  get url(): string {
    return this.info.url;
  }

  health(): Promise<Health> {
    return this.json("GET", "/api/health", undefined, 2_000);
  }

  flow(): Promise<Flow> {
    return this.json("GET", "/api/flow");
  }

  dataset(name: string): Promise<DatasetDetail> {
    return this.json("GET", `/api/datasets/${encodeURIComponent(name)}`);
  }

  log(name: string): Promise<BuildLog> {
    return this.json("GET", `/api/datasets/${encodeURIComponent(name)}/log`);
  }

  builds(): Promise<BuildSummary[]> {
    return this.json("GET", "/api/builds");
  }

  startBuild(request: BuildRequest): Promise<BuildSummary> {
    return this.json("POST", "/api/builds", { by: "editor", ...request });
  }

  /** What that build would run now, and why; runs nothing. */
  plan(request: BuildRequest): Promise<Plan> {
    return this.json("POST", "/api/plan", request);
  }

  /** Run these datasets' checks on their data now (answered when they have run: a check
   *  over big data takes what it takes, so the wait is long). */
  check(targets: string[]): Promise<CheckReport> {
    return this.json("POST", "/api/checks", { targets }, 600_000);
  }

  cancelBuild(id: string): Promise<BuildSummary> {
    return this.json("POST", `/api/builds/${encodeURIComponent(id)}/cancel`);
  }

  /** The project's scenarios, with how each last ran, whether it runs and its next run. */
  async scenarios(): Promise<ScenarioSummary[]> {
    return (await this.json<ScenarioList>("GET", "/api/scenarios")).scenarios;
  }

  /** Starts a scenario now: its run (`running`), or `skipped` when it runs already. */
  runScenario(name: string, cause: string): Promise<ScenarioRunReport> {
    const body: ScenarioStart = { cause };
    return this.json("POST", `/api/scenarios/${encodeURIComponent(name)}/runs`, body);
  }

  scenarioRun(runId: string): Promise<ScenarioRunReport> {
    return this.json("GET", `/api/scenario-runs/${encodeURIComponent(runId)}`);
  }

  cancelScenario(runId: string): Promise<ScenarioRunReport> {
    return this.json("POST", `/api/scenario-runs/${encodeURIComponent(runId)}/cancel`);
  }

  /** The Flow page's HTML, as the daemon serves it to a browser. */
  flowPage(): Promise<string> {
    return this.request("GET", `/?token=${encodeURIComponent(this.info.token)}`)
      .then((r) => r.body);
  }

  /** Any GET under /api/ — for the Flow page's own calls, relayed from its webview. */
  async relay(path: string): Promise<{ status: number; body: string }> {
    if (!path.startsWith("/api/")) throw new DaemonHttpError(403, `not an API path: ${path}`);
    return this.request("GET", path);
  }

  async json<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const answer = await this.request(method, path,
      body === undefined ? undefined : JSON.stringify(body), timeoutMs);
    if (answer.status >= 400) {
      let message = `${method} ${path}: HTTP ${answer.status}`;
      try {
        const detail = (JSON.parse(answer.body) as { detail?: unknown }).detail;
        if (typeof detail === "string") message = detail;
        else if (detail !== undefined) message = JSON.stringify(detail);
      } catch {
        // not JSON: keep the status line
      }
      throw new DaemonHttpError(answer.status, message);
    }
    return JSON.parse(answer.body) as T;
  }

  request(method: string, path: string, body?: string, timeoutMs = this.timeoutMs):
  Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.info.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.info.token}`,
          accept: "application/json",
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        timeout: timeoutMs,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({
          status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"),
        }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`the daemon did not answer ${method} ${path} within ${timeoutMs / 1000} s`)));
      req.on("error", reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /**
   * Follows a Server-Sent Events endpoint; `onEvent` gets each event's kind and parsed data,
   * `onClose` is called once when the stream ends for any reason (the error, if one).
   */
  stream(path: string, onEvent: (kind: string, data: unknown) => void,
    onClose: (error?: Error) => void): EventStream {
    let closed = false;
    const finish = (error?: Error): void => {
      if (!closed) {
        closed = true;
        onClose(error);
      }
    };
    const req = http.request(this.info.url + path, {
      headers: { authorization: `Bearer ${this.info.token}`, accept: "text/event-stream" },
    }, (res) => {
      if ((res.statusCode ?? 0) >= 400) {
        finish(new DaemonHttpError(res.statusCode ?? 0, `${path}: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      const parser = new SseParser();
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        for (const e of parser.push(chunk)) {
          let data: unknown = e.data;
          try {
            data = JSON.parse(e.data);
          } catch {
            // a non-JSON payload is passed on as text
          }
          if (!closed) onEvent(e.event, data);
        }
      });
      res.on("end", () => finish());
      res.on("error", (err) => finish(err));
    });
    req.on("error", (err) => finish(err));
    req.end();
    return {
      close: () => {
        closed = true;
        req.destroy();
      },
    };
  }
}
