/**
 * The "weir" output channel: build logs always, and the extension's own messages at the level
 * the `weir.logLevel` setting asks for.
 */
import type * as vscode from "vscode";

export type Level = "error" | "warn" | "info" | "debug";
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class Logger {
  constructor(readonly channel: vscode.OutputChannel, private level: () => Level) {}

  error(message: string): void { this.write("error", message); }
  warn(message: string): void { this.write("warn", message); }
  info(message: string): void { this.write("info", message); }
  debug(message: string): void { this.write("debug", message); }

  /** Build output goes in whatever the level: it is what the user asked to see. */
  build(line: string): void {
    this.channel.appendLine(line);
  }

  private write(level: Level, message: string): void {
    if (ORDER[level] > ORDER[this.level()]) return;
    this.channel.appendLine(`[${timestamp()}] ${level.padEnd(5)} ${message}`);
  }
}

export function timestamp(date = new Date()): string {
  return date.toTimeString().slice(0, 8);
}
