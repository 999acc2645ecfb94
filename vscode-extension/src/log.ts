/**
 * The "weir" output channel: build logs always, and the extension's own messages at the level
 * the `weir.logLevel` setting asks for.
 */
import * as vscode from "vscode";

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

  /** Logs an error and shows it in one notification ("weir: …") with **Show Output**. */
  showError(message: string): void {
    this.error(message);
    void vscode.window.showErrorMessage(message.startsWith("weir") ? message : `weir: ${message}`, "Show Output")
      .then((choice) => { if (choice) this.channel.show(true); });
  }

  private write(level: Level, message: string): void {
    if (ORDER[level] > ORDER[this.level()]) return;
    this.channel.appendLine(`[${timestamp()}] ${level.padEnd(5)} ${message}`);
  }
}

export function timestamp(date = new Date()): string {
  return date.toTimeString().slice(0, 8);
}

/** An error's message (or whatever was thrown, as text). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
