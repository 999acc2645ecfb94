import { describe, expect, it } from "vitest";

import { csp, messageHtml, nonce, webviewHtml } from "../src/flowHtml";

const page = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src *">
<style>:root{--bg:#fff}</style></head>
<body><script>"use strict"; refresh();</script><script src="x.js"></script></body></html>`;

describe("webviewHtml", () => {
  const html = webviewHtml(page, { nonce: "N0nce", cspSource: "vscode-resource:", bridgeUri: "vscode-resource:/media/flow-bridge.js" });

  it("replaces the page's policy with one that allows only scripts with the nonce and no network", () => {
    const policies = html.match(/http-equiv="Content-Security-Policy" content="([^"]*)"/g) ?? [];
    expect(policies).toHaveLength(1);
    expect(html).toContain("script-src 'nonce-N0nce'");
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/connect-src|frame-src|unsafe-eval/);
  });

  it("gives every script the nonce, and loads the bridge before the page's own script", () => {
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    expect(scripts).toHaveLength(3);
    for (const s of scripts) expect(s).toContain('nonce="N0nce"');
    expect(scripts[0]).toContain('src="vscode-resource:/media/flow-bridge.js"');
    expect(html.indexOf("flow-bridge.js")).toBeLessThan(html.indexOf("refresh()"));
  });

  it("maps the page's colours onto the theme's after the page's own styles", () => {
    expect(html).toMatch(/--bg: var\(--vscode-editor-background\)/);
    expect(html.indexOf("--vscode-editor-background")).toBeGreaterThan(html.indexOf("--bg:#fff"));
  });
});

describe("csp and nonce", () => {
  it("are fresh and well-formed", () => {
    expect(nonce()).not.toBe(nonce());
    expect(nonce()).toMatch(/^[A-Za-z0-9+/=]{24}$/);
    expect(csp("n", "src")).toBe("default-src 'none'; script-src 'nonce-n'; style-src src 'unsafe-inline'; img-src src data:; font-src src");
  });

  it("escapes a message page and gives it no script", () => {
    const html = messageHtml("<b>no daemon</b>", "src");
    expect(html).toContain("&lt;b&gt;no daemon&lt;/b&gt;");
    expect(html).not.toContain("<script");
  });
});
