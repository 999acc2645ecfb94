import { describe, expect, it } from "vitest";

import { buildFromCommand, scenarioFromCommand } from "../src/serverCommands";

describe("buildFromCommand", () => {
  it("turns a CodeLens's weir.build arguments into a build request", () => {
    expect(buildFromCommand("/p/shop", [{ root: "/p/shop/", targets: ["+orders_clean"], mode: "force", label: "Build upstream orders_clean" }]))
      .toEqual({ request: { targets: ["+orders_clean"], mode: "force" }, label: "Build upstream orders_clean" });
  });

  it("defaults the mode to required and has no label when none is given", () => {
    expect(buildFromCommand("/p/shop", [{ root: "/p/shop", targets: ["a"] }])).toEqual({ request: { targets: ["a"], mode: "required" }, label: undefined });
  });

  it("leaves another project's builds, and malformed arguments, to the server", () => {
    expect(buildFromCommand("/p/shop", [{ root: "/p/other", targets: ["a"] }])).toBeUndefined();
    expect(buildFromCommand("/p/shop", [])).toBeUndefined();
    expect(buildFromCommand("/p/shop", ["orders_clean"])).toBeUndefined();
    expect(buildFromCommand("/p/shop", [{ root: "/p/shop", targets: "a" }])).toBeUndefined();
  });
});

describe("scenarioFromCommand", () => {
  it("turns a CodeLens's weir.scenario.run arguments into the scenario to run, for this project only", () => {
    expect(scenarioFromCommand("/p/shop", [{ root: "/p/shop/", scenario: "nightly", label: "Run scenario nightly" }]))
      .toEqual({ name: "nightly", label: "Run scenario nightly" });
    expect(scenarioFromCommand("/p/shop", [{ root: "/p/shop", scenario: "nightly" }])).toEqual({ name: "nightly", label: undefined });
    expect(scenarioFromCommand("/p/shop", [{ root: "/p/other", scenario: "nightly" }])).toBeUndefined();
    expect(scenarioFromCommand("/p/shop", [{ root: "/p/shop" }])).toBeUndefined();
    expect(scenarioFromCommand("/p/shop", ["nightly"])).toBeUndefined();
  });
});
