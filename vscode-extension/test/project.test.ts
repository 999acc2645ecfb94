import { describe, expect, it } from "vitest";

import { chooseRoot } from "../src/project";

describe("chooseRoot", () => {
  const roots = ["/w/b/shop", "/w/a", "/w/b"];

  it("takes the innermost project of the active file", () => {
    expect(chooseRoot(roots, "/w/b/shop/recipes/clean.py")).toBe("/w/b/shop");
    expect(chooseRoot(roots, "/w/b/other.py")).toBe("/w/b");
  });

  it("else the shallowest project, and nothing without one", () => {
    expect(chooseRoot(roots, "/elsewhere/x.py")).toBe("/w/a");
    expect(chooseRoot(roots)).toBe("/w/a");
    expect(chooseRoot([])).toBeUndefined();
  });

  it("does not take /w/ab for a file in /w/a", () => {
    expect(chooseRoot(["/w/ab", "/w/a/x"], "/w/a/x/f.py")).toBe("/w/a/x");
    expect(chooseRoot(["/w/ab"], "/w/a/f.py")).toBe("/w/ab");
  });
});
