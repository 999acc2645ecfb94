/**
 * Which weir project this window serves: the folder with a weir.yaml that holds the active
 * file, else the first one found (a workspace folder itself, or a folder inside one).
 */
import * as path from "node:path";

import * as vscode from "vscode";

export function chooseRoot(candidates: string[], activeFile?: string): string | undefined {
  const sorted = [...new Set(candidates)].sort((a, b) => a.length - b.length || a.localeCompare(b));
  if (activeFile) {
    const owner = sorted.filter((r) => activeFile === r || activeFile.startsWith(r + path.sep))
      .sort((a, b) => b.length - a.length)[0];
    if (owner) return owner;
  }
  return sorted[0];
}

export async function findProjectRoot(): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles("**/weir.yaml", "**/{node_modules,.venv,venv,.git,.weir,data}/**", 20);
  const active = vscode.window.activeTextEditor?.document.uri;
  return chooseRoot(files.map((f) => path.dirname(f.fsPath)), active?.scheme === "file" ? active.fsPath : undefined);
}
