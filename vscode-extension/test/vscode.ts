/**
 * A small stand-in for the `vscode` module (aliased in vitest.config.mts): the classes behave
 * like VS Code's; `window`, `workspace` and `commands` are vi.fn()s a test sets up as it needs.
 */
import * as nodePath from "node:path";

import { vi } from "vitest";

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  event = (listener: Listener<T>): { dispose(): void } => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Uri {
  private constructor(readonly scheme: string, readonly path: string) {}
  static file(p: string): Uri { return new Uri("file", p); }
  static from(parts: { scheme: string; path: string }): Uri { return new Uri(parts.scheme, parts.path); }
  static joinPath(base: Uri, ...segments: string[]): Uri { return new Uri(base.scheme, nodePath.posix.join(base.path, ...segments)); }
  get fsPath(): string { return this.path; }
  toString(): string { return `${this.scheme}://${this.path}`; }
}

export class ThemeColor { constructor(readonly id: string) {} }
export class ThemeIcon { constructor(readonly id: string, readonly color?: ThemeColor) {} }
export class MarkdownString {
  value = "";
  constructor(value?: string, readonly supportThemeIcons = false) { this.value = value ?? ""; }
  appendMarkdown(text: string): this { this.value += text; return this; }
}
export enum TreeItemCollapsibleState { None = 0, Collapsed = 1, Expanded = 2 }
export class TreeItem {
  id?: string; description?: string; iconPath?: unknown; tooltip?: unknown; contextValue?: string;
  command?: unknown; accessibilityInformation?: { label: string };
  constructor(readonly label: string, readonly collapsibleState?: TreeItemCollapsibleState) {}
}
export class Position { constructor(readonly line: number, readonly character: number) {} }
export class Range { constructor(readonly start: Position, readonly end: Position) {} }
export enum ViewColumn { Active = -1, Beside = -2, One = 1, Two = 2 }
export enum ProgressLocation { SourceControl = 1, Window = 10, Notification = 15 }
export enum StatusBarAlignment { Left = 1, Right = 2 }
export enum ConfigurationTarget { Global = 1, Workspace = 2, WorkspaceFolder = 3 }

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  isCancellationRequested = false;
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
}

export const window = {
  withProgress: vi.fn(),
  showErrorMessage: vi.fn(async () => undefined),
  showWarningMessage: vi.fn(async () => undefined),
  showInformationMessage: vi.fn(async () => undefined),
  setStatusBarMessage: vi.fn(),
  showQuickPick: vi.fn(async () => undefined),
  showTextDocument: vi.fn(async () => undefined),
  createStatusBarItem: vi.fn(() => ({ show: vi.fn(), dispose: vi.fn(), text: "", tooltip: "" })),
  createWebviewPanel: vi.fn(),
  activeTextEditor: undefined as unknown,
};

export const workspace = {
  getConfiguration: vi.fn(() => ({ get: <T>(_key: string, fallback: T) => fallback })),
  openTextDocument: vi.fn(async (uri: Uri) => ({ uri })),
  findFiles: vi.fn(async () => []),
};

export const commands = {
  executeCommand: vi.fn(async () => undefined),
  registerCommand: vi.fn(() => ({ dispose: vi.fn() })),
};
