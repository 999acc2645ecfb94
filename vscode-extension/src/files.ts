/**
 * Where a dataset or recipe lives on disk, and opening it in an editor. A dataset opens at its
 * recipe (the code that builds it); a source or folder at its YAML definition.
 */
import * as path from "node:path";

import * as vscode from "vscode";

import type { FlowNode } from "./api";

export interface Location {
  file: string; // absolute
  line: number; // 1-based
}

/** The recipe of a built dataset, else where the daemon says it is defined (its YAML). */
export function locate(root: string, node: FlowNode): Location {
  if (node.recipe) return { file: path.join(root, node.recipe.file), line: node.recipe.line };
  return { file: path.join(root, node.definition.file), line: Math.max(node.definition.line, 1) };
}

export interface OpenOptions {
  preserveFocus?: boolean;
  column?: vscode.ViewColumn;
}

export async function open(location: Location, options: OpenOptions = {}): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(location.file));
  const pos = new vscode.Position(Math.max(location.line - 1, 0), 0);
  await vscode.window.showTextDocument(doc, {
    selection: new vscode.Range(pos, pos),
    preserveFocus: options.preserveFocus ?? false,
    viewColumn: options.column,
    preview: false,
  });
}

/** Opens where a dataset is defined (see locate); says so when the Flow does not have it. */
export async function openDataset(root: string, name: string, node: FlowNode | undefined,
  options: OpenOptions = {}): Promise<void> {
  if (node) await open(locate(root, node), options);
  else void vscode.window.showInformationMessage(`weir: no file defines ${name}.`);
}
