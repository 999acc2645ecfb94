// Runs inside the Flow webview before the daemon's Flow page. The webview has no network access
// (its content-security policy has no connect-src), so the page's fetch() and EventSource go
// through the extension, which holds the daemon's token and relays the calls. A click on a
// node (or a recipe) also tells the extension, which opens the node's recipe or YAML file.
(function () {
  "use strict";
  const vscode = acquireVsCodeApi();
  let seq = 0;
  const pending = new Map();
  const sources = new Set();

  window.fetch = function (input, init) {
    init = init || {};
    return new Promise(function (resolve) {
      const id = ++seq;
      pending.set(id, resolve);
      vscode.postMessage({ type: "api", id: id, method: (init.method || "GET").toUpperCase(),
                           path: String(input), body: typeof init.body === "string" ? init.body : undefined });
    });
  };

  function BridgeEventSource() {
    this.listeners = {};
    this.onerror = null;
    this.readyState = 0;
    sources.add(this);
    vscode.postMessage({ type: "subscribe" });
  }
  BridgeEventSource.prototype.addEventListener = function (kind, fn) {
    (this.listeners[kind] = this.listeners[kind] || []).push(fn);
  };
  BridgeEventSource.prototype.removeEventListener = function (kind, fn) {
    this.listeners[kind] = (this.listeners[kind] || []).filter(function (f) { return f !== fn; });
  };
  BridgeEventSource.prototype.close = function () { this.readyState = 2; sources.delete(this); };
  BridgeEventSource.prototype.dispatch = function (kind, data) {
    this.readyState = 1;
    const ev = { type: kind, data: JSON.stringify(data) };
    (this.listeners[kind] || []).forEach(function (fn) { fn(ev); });
  };
  window.EventSource = BridgeEventSource;

  window.alert = function (message) { vscode.postMessage({ type: "alert", message: String(message) }); };

  // Capture phase: the page's own node handler stops propagation in the bubble phase.
  document.addEventListener("click", function (ev) {
    const target = ev.target;
    // A dataset opens its definition; a recipe (data-output: its first output) its file.
    const node = target && target.closest ? target.closest(".node[data-name], .recipe[data-output]") : null;
    if (node) vscode.postMessage({ type: "open", name: node.getAttribute("data-name") || node.getAttribute("data-output") });
  }, true);

  window.addEventListener("message", function (ev) {
    const m = ev.data || {};
    if (m.type === "api" && pending.has(m.id)) {
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      // The extension always answers with a status (502 when the daemon could not be asked).
      const body = m.body || "";
      resolve({
        ok: m.status >= 200 && m.status < 300, status: m.status, statusText: "",
        json: function () { return Promise.resolve(JSON.parse(body || "null")); },
        text: function () { return Promise.resolve(body); },
      });
    } else if (m.type === "event") {
      sources.forEach(function (s) { s.dispatch(m.kind, m.data); });
    } else if (m.type === "down") {
      sources.forEach(function (s) { if (typeof s.onerror === "function") s.onerror({ type: "error" }); });
    }
  });
})();
