"""Talking to `weir lsp` from a real LSP client (pytest-lsp) the way an editor does."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

T = TypeVar("T")
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "weir", "lsp"])
# The same server with every diagnostic worded differently (tests/reworded_lsp.py).
REWORDED_SERVER = ClientServerConfig(
    server_command=[sys.executable, str(Path(__file__).with_name("reworded_lsp.py"))])


async def start(client: LanguageClient, root: Path, editor: str = "visual-studio-code") -> None:
    """Initialize as a real editor would, with that editor's capabilities (VS Code's include
    watching files for the server, which it asks for with client/registerCapability); what the
    server said it can do is kept as ``client.server_capabilities``."""
    client.registrations = []  # type: ignore[attr-defined]
    client.registered = asyncio.Event()  # type: ignore[attr-defined]

    @client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def register(params: t.RegistrationParams) -> None:
        client.registrations += params.registrations  # type: ignore[attr-defined]
        client.registered.set()  # type: ignore[attr-defined]

    result = await client.initialize_session(t.InitializeParams(
        capabilities=client_capabilities(editor), root_uri=root.as_uri(),
        workspace_folders=[t.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
    client.server_capabilities = result.capabilities  # type: ignore[attr-defined]


def open_doc(client: LanguageClient, path: Path, text: str | None = None,
             language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(text_document=t.TextDocumentItem(
        uri=uri, language_id=language, version=1,
        text=path.read_text() if text is None else text)))
    return uri


def change_doc(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)]))


async def complete(client: LanguageClient, uri: str, line: int, char: int) -> list[str]:
    result = await client.text_document_completion_async(t.CompletionParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=line, character=char)))
    if result is None:
        return []
    items = result.items if isinstance(result, t.CompletionList) else result
    return sorted(i.label for i in items)


async def code_lenses(client: LanguageClient, path: Path) -> list[t.CodeLens]:
    found = await client.text_document_code_lens_async(t.CodeLensParams(
        text_document=t.TextDocumentIdentifier(uri=path.as_uri())))
    return list(found or [])


async def hover_text(client: LanguageClient, uri: str, line: int, char: int) -> str | None:
    result = await client.text_document_hover_async(t.HoverParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=line, character=char)))
    if result is None:
        return None
    assert isinstance(result.contents, t.MarkupContent)
    return result.contents.value


async def answered(client: LanguageClient, uri: str) -> None:
    """Return once the server answered a request sent now (a hover on ``uri``). It handles
    messages in order and answers after what it sent while handling the earlier ones, so the
    client has by then seen every notification those caused (the diagnostics of an edit)."""
    await client.text_document_hover_async(t.HoverParams(
        text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(line=0,
                                                                             character=0)))


async def notified(client: LanguageClient, method: str, done: Callable[[], T],
                   timeout: float = 10) -> T:
    """Wait, notification after notification of ``method`` from the server, until ``done()``
    returns something true, and return it; after ``timeout`` seconds, return what it says
    then (false), for the caller's assertion to show."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := done()):
        # Registered at once (not in a task that starts later, which could miss one); shielded,
        # as a wait that times out must not cancel pytest-lsp's future for the method, which
        # would then fail on the next such notification.
        coming = asyncio.shield(client.protocol.wait_for_notification_async(method))
        try:
            await asyncio.wait_for(coming, max(0.0, deadline - loop.time()))
        except TimeoutError:
            return done()
    return value


async def diagnostics_for(client: LanguageClient, uri: str, want: int | None = None,
                          has: str | None = None, code: str | None = None,
                          timeout: float = 10) -> list[t.Diagnostic]:
    """The diagnostics the server published for ``uri``, once they match: ``want`` of them,
    one whose message contains ``has``, one with weir's ``code`` (else what it last published
    for it) — counting what it published for everything sent before (see `answered`), so a
    match is not an earlier state. After ``timeout`` seconds without a match, what it last
    published."""
    def ok(got: list[t.Diagnostic]) -> bool:
        if want is not None and len(got) != want:
            return False
        if code is not None and not any(d.code == code for d in got):
            return False
        return has is None or any(has in d.message for d in got)

    await answered(client, uri)
    await notified(client, t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                   lambda: uri in client.diagnostics and ok(list(client.diagnostics[uri])),
                   timeout)
    return list(client.diagnostics.get(uri, []))


async def message_containing(client: LanguageClient, text: str,
                             timeout: float = 10) -> t.ShowMessageParams:
    """The first message the server showed the user (window/showMessage) that contains
    ``text``, waiting for it up to ``timeout`` seconds."""
    def found() -> t.ShowMessageParams | None:
        return next((m for m in client.messages if text in m.message), None)

    shown = await notified(client, t.WINDOW_SHOW_MESSAGE, found, timeout)
    assert shown is not None, f"no message with {text!r}: {[m.message for m in client.messages]}"
    return shown


def position_of(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """(line, character) of ``needle`` in ``text`` (plus ``offset`` characters)."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1)


def files_changed(client: LanguageClient, changes: list[tuple[Path, t.FileChangeType]]) -> None:
    """What VS Code sends for files it watches for the server when they change on disk."""
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=path.as_uri(), type=kind) for path, kind in changes]))


def apply_edit(client: LanguageClient, edit: t.WorkspaceEdit) -> None:
    """Apply a workspace edit to the files on disk, as an editor does (and tell the server,
    as VS Code's file watcher does)."""
    from pygls.workspace import TextDocument

    changed: list[tuple[Path, t.FileChangeType]] = []
    for change in edit.document_changes or []:
        if isinstance(change, t.RenameFile):
            Path(change.old_uri[7:]).rename(change.new_uri[7:])
            changed += [(Path(change.old_uri[7:]), t.FileChangeType.Deleted),
                        (Path(change.new_uri[7:]), t.FileChangeType.Created)]
        elif isinstance(change, t.TextDocumentEdit):
            path = Path(change.text_document.uri[7:])
            doc = TextDocument(change.text_document.uri, path.read_text())
            for e in sorted(change.edits, key=lambda e: (e.range.start.line,  # type: ignore
                                                        e.range.start.character), reverse=True):
                doc.apply_change(t.TextDocumentContentChangePartial(range=e.range,
                                                                    text=e.new_text))
            path.write_text(doc.source)
            changed.append((path, t.FileChangeType.Changed))
        else:
            raise AssertionError(f"unexpected change {change}")
    files_changed(client, changed)


async def rename(client: LanguageClient, uri: str, line: int, char: int,
                 new: str) -> t.WorkspaceEdit | None:
    return await client.text_document_rename_async(t.RenameParams(
        text_document=t.TextDocumentIdentifier(uri=uri),
        position=t.Position(line=line, character=char), new_name=new))
