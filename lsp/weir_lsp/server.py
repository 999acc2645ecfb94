"""`weir lsp`: a pygls language server over stdio.

This module only registers handlers: each LSP request goes to the module that answers it —
documents and publishing to the session (``session.py``, what outlives a request), completion,
hover, navigation (definition, references, symbols), code actions, rename and CodeLens to their
own. Every handler answers from memory — the project model kept current by each keystroke and
the data facts cached per project — so answers take milliseconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types as t

from weir_lsp import (code_actions, completion, editor_builds, editor_scenarios, hover, lenses,
                      navigation, rename)
from weir_lsp.session import WeirLanguageServer


def create_server() -> WeirLanguageServer:
    ls = WeirLanguageServer()

    @ls.feature(t.INITIALIZED)
    async def initialized(params: t.InitializedParams) -> None:
        ls.event_loop = asyncio.get_running_loop()
        await ls.watch_files()

    @ls.feature(t.SHUTDOWN)
    def shutdown(params: None) -> None:
        ls.stop_following()

    @ls.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: t.DidOpenTextDocumentParams) -> None:
        ls.changed(params.text_document.uri, params.text_document.text)

    @ls.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: t.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.changed(uri, ls.workspace.get_text_document(uri).source)

    @ls.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: t.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.disk_changed([uri])
        ls.changed(uri, ls.workspace.get_text_document(uri).source)

    @ls.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: t.DidCloseTextDocumentParams) -> None:
        ls.disk_changed([params.text_document.uri])
        ls.changed(params.text_document.uri, None)

    @ls.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(params: t.DidChangeWatchedFilesParams) -> None:
        ls.files_changed_on_disk([change.uri for change in params.changes])

    @ls.feature(t.COMPLETION_ITEM_RESOLVE)
    def resolve(item: t.CompletionItem) -> t.CompletionItem:
        return completion.resolve(ls, item)

    @ls.feature(t.TEXT_DOCUMENT_COMPLETION,
                # "[" and "{": a check's columns (`not_null: [`, `range: {`); "$": an R
                # data frame's columns (`orders$`).
                t.CompletionOptions(trigger_characters=['"', "'", " ", "(", ",", ".", "[", "{",
                                                        "$"],
                                    resolve_provider=True))
    def complete(params: t.CompletionParams) -> t.CompletionList | None:
        return completion.complete_at(ls, params.text_document.uri, params.position)

    @ls.feature(t.TEXT_DOCUMENT_HOVER)
    def on_hover(params: t.HoverParams) -> t.Hover | None:
        return hover.hover_at(ls, params.text_document.uri, params.position)

    @ls.feature(t.TEXT_DOCUMENT_DEFINITION)
    def definition(params: t.DefinitionParams) -> t.Location | None:
        return navigation.definition(ls, params.text_document.uri, params.position)

    @ls.feature(t.TEXT_DOCUMENT_REFERENCES)
    def references(params: t.ReferenceParams) -> list[t.Location] | None:
        return navigation.references(ls, params)

    @ls.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(params: t.DocumentSymbolParams) -> list[t.DocumentSymbol] | None:
        return navigation.symbols(ls, params.text_document.uri)

    @ls.feature(t.TEXT_DOCUMENT_CODE_ACTION,
                t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix]))
    def quick_fixes(params: t.CodeActionParams) -> list[t.CodeAction] | None:
        return code_actions.quick_fixes(params.text_document.uri, params.context.diagnostics)

    @ls.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(params: t.PrepareRenameParams) -> t.Range | None:
        return rename.prepare_at(ls, params.text_document.uri, params.position)

    @ls.feature(t.TEXT_DOCUMENT_RENAME, t.RenameOptions(prepare_provider=True))
    def on_rename(params: t.RenameParams) -> t.WorkspaceEdit | None:
        return rename.rename_at(ls, params)

    @ls.feature(t.TEXT_DOCUMENT_CODE_LENS, t.CodeLensOptions(resolve_provider=False))
    def code_lens(params: t.CodeLensParams) -> list[t.CodeLens] | None:
        return lenses.lenses_at(ls, params.text_document.uri)

    @ls.command(lenses.BUILD_COMMAND)
    async def build_command(*args: Any) -> dict[str, Any]:
        return await editor_builds.build_command(ls, *args)

    @ls.command(lenses.RUN_SCENARIO_COMMAND)
    async def run_scenario_command(*args: Any) -> dict[str, Any]:
        return await editor_scenarios.run_command(ls, *args)

    return ls


def main() -> None:
    create_server().start_io()
