/**
 * The unit tests' fakes cannot drift from the real API: the literal Flow, what the fake daemon
 * answers and writes by itself, and the answers and events the tests make (answers.ts, from the
 * recorded payloads) all pass the validators the recorded payloads pass — and a fake that the
 * daemon could not send is refused where it is made.
 */
import { readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import type { JobEvent } from "../src/api";
import { buildEvent, buildSummary, daemonEvent, datasetDetail, flow as recordedFlow, health, plan } from "./answers";
import * as checks from "./apiChecks";
import { fakeDaemon, TOKEN, type FakeDaemon } from "./fakeDaemon";
import { flow, node } from "./fixtures";

let fake: FakeDaemon | undefined;
afterEach(async () => {
  await fake?.close();
  if (fake) rmSync(fake.root, { recursive: true, force: true });
  fake = undefined;
});

/** GET `path` from the fake as the extension would; the status and the body. */
function get(url: string, token = TOKEN): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
        if (res.headers["content-type"] === "text/event-stream" && body.includes("\n\n")) {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        }
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

describe("the literal Flow of fixtures.ts", () => {
  it("is a Flow the daemon could send, every node too", () => {
    expect(checks.flow(flow, "$")).toEqual([]);
    expect(checks.flowNode(node("x"), "$")).toEqual([]);
    expect(() => node("x", { status: "fresh" as never })).toThrow('$(node x).status: "fresh" is not one of');
  });
});

describe("the fake daemon", () => {
  it("answers and writes only what the real one could", async () => {
    fake = await fakeDaemon();
    const info = JSON.parse(readFileSync(path.join(fake.root, ".weir", "daemon.json"), "utf8")) as unknown;
    expect(checks.daemonInfo(info, "$")).toEqual([]);
    const answers: [string, (value: unknown, at: string) => string[]][] = [
      ["/api/health", checks.health], ["/api/flow", checks.flow],
      ["/api/builds", (v, at) => (Array.isArray(v) ? v.flatMap((b, i) => checks.buildSummary(b, `${at}[${i}]`)) : [`${at}: not a list`])],
      ["/api/datasets/nope", checks.apiError],
    ];
    for (const [where, check] of answers) {
      const answer = await get(fake.url + where);
      expect(check(JSON.parse(answer.body), where), where).toEqual([]);
    }
    expect(checks.apiError(JSON.parse((await get(`${fake.url}/api/flow`, "wrong")).body), "401")).toEqual([]);
    const hello = await get(`${fake.url}/api/events`);
    const [, kind, data] = /^event: (\w+)\ndata: (.*)\n\n/.exec(hello.body) ?? [];
    expect(checks.event(checks.daemonEvents, kind, JSON.parse(data), "hello")).toEqual([]);
  });

  it("refuses to broadcast an event the daemon could not send", async () => {
    fake = await fakeDaemon();
    expect(() => fake!.broadcast("flow", { version: 2 } as never)).toThrow("$(flow event).files: missing");
  });
});

describe("the answers and events tests make", () => {
  it("are the recorded ones with what the test names", () => {
    expect(buildSummary({ id: "b7" })).toMatchObject({ id: "b7", state: "queued", request: { mode: "required" } });
    expect(buildEvent("job", { event: "finish", status: "failed" }).traceback).toMatch(/^Traceback/);
    expect(buildEvent("job", { event: "start", status: "running" }).error).toBeNull();
    expect(daemonEvent("job", { event: "start", status: "running" }).build).toBe("b1");
    for (const made of [health(), recordedFlow(), plan(), datasetDetail()]) expect(made).toBeTruthy();
  });

  it("cannot be made wrong: a value the daemon does not send, or a key it always sends left out", () => {
    expect(() => buildEvent("job", { status: "cancelled" as JobEvent["status"] }))
      .toThrow('$(job event).status: "cancelled" is not one of');
    expect(() => buildSummary({ error: { message: "no hint" } as never })).toThrow("$(build summary).error.hint: missing");
    expect(() => datasetDetail({ schema: [["a", "int64"]] as never })).toThrow("$(dataset).schema[0]: expected an array of 3");
  });
});
