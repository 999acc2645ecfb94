import { describe, expect, it } from "vitest";

import { statusText } from "../src/statusBar";

describe("statusText", () => {
  it("shows the daemon's state and the builds in flight", () => {
    expect(statusText("running", 0, "http://127.0.0.1:1").text).toBe("$(pass) weir");
    expect(statusText("running", 2, "http://127.0.0.1:1")).toEqual({ text: "$(sync~spin) weir: 2 builds",
      tooltip: "weir daemon at http://127.0.0.1:1: 2 builds queued or running" });
    expect(statusText("running", 1).text).toBe("$(sync~spin) weir: 1 build");
    expect(statusText("stopped", 0).text).toBe("$(circle-slash) weir: stopped");
    expect(statusText("starting", 0).text).toContain("starting");
  });

  it("names the environment the window works in", () => {
    expect(statusText("running", 0, "http://127.0.0.1:1", "prod")).toEqual({ text: "$(pass) weir · prod",
      tooltip: "weir daemon in prod running at http://127.0.0.1:1" });
    expect(statusText("running", 3, "http://127.0.0.1:1", "prod").text).toBe("$(sync~spin) weir · prod: 3 builds");
    expect(statusText("stopped", 0, undefined, "dev")).toEqual({ text: "$(circle-slash) weir · dev: stopped",
      tooltip: "The weir daemon in dev is not running: click to start it" });
  });
});
