import { describe, expect, it } from "vitest";

import { SseParser } from "../src/sse";

describe("SseParser", () => {
  it("parses named events with JSON data", () => {
    const p = new SseParser();
    expect(p.push('event: job\ndata: {"a": 1}\n\n')).toEqual([{ event: "job", data: '{"a": 1}' }]);
  });

  it("completes an event split anywhere across chunks", () => {
    const text = "event: build\ndata: {\"id\": \"b1\"}\n\nevent: end\ndata: {}\n\n";
    for (let cut = 1; cut < text.length; cut += 1) {
      const p = new SseParser();
      const events = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(events).toEqual([{ event: "build", data: '{"id": "b1"}' }, { event: "end", data: "{}" }]);
    }
  });

  it("ignores comments (the daemon's keep-alives) and joins multi-line data", () => {
    const p = new SseParser();
    expect(p.push(": keep-alive\n\ndata: one\ndata: two\n\n")).toEqual([{ event: "message", data: "one\ntwo" }]);
  });

  it("accepts CRLF line ends and a field without a space after the colon", () => {
    const p = new SseParser();
    expect(p.push("event:flow\r\ndata:{}\r\n\r\n")).toEqual([{ event: "flow", data: "{}" }]);
  });

  it("keeps an unfinished event for the next chunk", () => {
    const p = new SseParser();
    expect(p.push("event: hello\ndata: {}\n")).toEqual([]);
    expect(p.push("\n")).toEqual([{ event: "hello", data: "{}" }]);
  });
});
