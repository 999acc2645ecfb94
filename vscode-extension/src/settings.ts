/** The extension's settings (`weir.*`), read fresh each time: VS Code keeps them current. */
import * as vscode from "vscode";

import type { Level } from "./log";

export interface Settings {
  pythonPath: string;
  daemonAutostart: boolean;
  logLevel: Level;
  /** weir.yaml's environment to work in; "" for the default (activeEnvironment). */
  environment: string;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration("weir");
  return {
    pythonPath: c.get<string>("pythonPath", ""),
    daemonAutostart: c.get<boolean>("daemon.autostart", true),
    logLevel: c.get<Level>("logLevel", "info"),
    environment: c.get<string>("environment", ""),
  };
}
