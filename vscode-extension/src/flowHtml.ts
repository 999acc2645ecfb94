/**
 * Turns the daemon's Flow page into a webview document: a content-security policy (scripts only
 * with this document's nonce, no network at all), the bridge script first (it relays the page's
 * API calls through the extension), and the page's colours mapped onto the VS Code theme's.
 */
import { randomBytes } from "node:crypto";

/** The page's colour variables in terms of the theme's (VS Code sets --vscode-* in webviews). */
const THEME_CSS = `
  body.vscode-light, body.vscode-dark, body.vscode-high-contrast, body.vscode-high-contrast-light {
    --bg: var(--vscode-editor-background); --fg: var(--vscode-editor-foreground);
    --muted: var(--vscode-descriptionForeground); --panel: var(--vscode-sideBar-background, var(--vscode-editor-background));
    --line: var(--vscode-panel-border, var(--vscode-widget-border, #8884));
    --ok: var(--vscode-testing-iconPassed, #2e9d5b); --stale: var(--vscode-list-warningForeground, #d99a00);
    --failed: var(--vscode-testing-iconFailed, #d64545); --building: var(--vscode-charts-blue, #3b7ddd);
    font-family: var(--vscode-font-family); }
  body input { font-family: var(--vscode-font-family); }
  /* An editor column can be narrow (a file opened beside the Flow): the details panel shares it. */
  @media (max-width: 900px) { aside { width: 40%; min-width: 160px; padding: 8px; } }`;

export function csp(nonce: string, cspSource: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // Inline style attributes are part of the page (status badges); scripts stay nonce-only.
    `style-src ${cspSource} 'unsafe-inline'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join("; ");
}

export function webviewHtml(page: string, options: { nonce: string; cspSource: string; bridgeUri: string }): string {
  const { nonce, cspSource, bridgeUri } = options;
  const head = `<meta http-equiv="Content-Security-Policy" content="${csp(nonce, cspSource)}">\n`
    + `<script nonce="${nonce}" src="${bridgeUri}"></script>\n`;
  let html = page.replace(/<meta[^>]+http-equiv=["']?Content-Security-Policy["']?[^>]*>/gi, "");
  html = html.replace(/<script(?=[\s>])(?![^>]*\bnonce=)/gi, `<script nonce="${nonce}"`);
  html = /<head[^>]*>/i.test(html)
    ? html.replace(/<head[^>]*>/i, (m) => `${m}\n${head}`)
    : head + html;
  html = /<\/head>/i.test(html)
    ? html.replace(/<\/head>/i, `<style>${THEME_CSS}</style>\n</head>`)
    : html;
  return html;
}

/** A page to show when the Flow cannot be had (no daemon): text only, no script. */
export function messageHtml(message: string, cspSource: string): string {
  const esc = message.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c] as string));
  return `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline'">
</head><body style="padding:16px;font-family:var(--vscode-font-family);color:var(--vscode-foreground)">
<p>${esc}</p></body></html>`;
}

export function nonce(): string {
  return randomBytes(18).toString("base64");
}
