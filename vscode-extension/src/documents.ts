/**
 * Read-only Markdown documents under the `weir:` scheme (a dataset's card, a plan), shown in
 * VS Code's Markdown preview. Each open shows the content as it was when asked for.
 */
import * as vscode from "vscode";

export class Documents implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = "weir";
  private readonly contents = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }

  async show(name: string, markdown: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: Documents.scheme, path: `/${name}.md` });
    this.contents.set(uri.toString(), markdown);
    this.emitter.fire(uri);
    try {
      await vscode.commands.executeCommand("markdown.showPreview", uri);
    } catch {
      // No Markdown preview (a minimal editor): show the text itself.
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
    }
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
