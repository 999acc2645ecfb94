"""`weir lsp`: a pygls language server over stdio.

This module only wires LSP requests to the feature modules (completion, hover, checks, rename,
lenses) and owns the two things that outlive a request: the open projects and the links to
their daemons. Every handler answers from memory — the project model kept current by each
keystroke and the data facts cached per project — so answers take milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from weir._version import __version__
from weir.errors import WeirError
from weir_lsp import code_actions, completion, editor_builds, hover, lenses, rename
from weir_lsp.checks import column_diagnostics
from weir_lsp.conversion import failed, language_of, path_of, to_lsp
from weir_lsp.context import name_span, word_at
from weir_lsp.daemon_link import EventFollower
from weir_lsp.projects import OpenProject, Projects, Records

log = logging.getLogger(__name__)


class WeirLanguageServer(LanguageServer):
    """The server and its long-lived state: projects by root, one daemon follower each."""

    def __init__(self) -> None:
        super().__init__("weir", __version__)
        self.projects = Projects()
        self.followers: dict[Path, EventFollower] = {}
        self.event_loop: asyncio.AbstractEventLoop | None = None
        self.watching = False  # the client reports file changes on disk
        self._state_said: dict[Path, str | None] = {}  # the state-store problem told, by root

    # -- documents --------------------------------------------------------------------
    def project_of(self, uri: str) -> tuple[OpenProject, str] | None:
        path = path_of(uri)
        if path is None:
            return None
        try:
            project = self.projects.for_path(path)
            if project is None or project.project is None:
                return None
            project.watched = self.watching
            self._follow(project)
            return project, project.relative(path)
        except (OSError, ValueError):
            return None

    def lines(self, uri: str) -> list[str]:
        return list(self.workspace.get_text_document(uri).lines)

    def changed(self, uri: str, text: str | None) -> None:
        path = path_of(uri)
        if path is None:
            return
        try:
            project = self.projects.set_text(path, text)
        except (OSError, ValueError):
            return
        if project is not None:
            project.watched = self.watching
            self._follow(project)
            self.publish(project)

    def publish(self, project: OpenProject) -> None:
        """Every file of the project gets its diagnostics (an empty list clears old ones)."""
        diags = list(project.diagnostics)
        if project.project is not None:
            records = project.records()
            self._tell_state_problem(project)
            for rel, text in project.overlays.items():
                key = (text, records.key, project.datasets_key)
                cached = project.checks.get(rel)
                if cached is None or cached[0] != key:
                    cached = (key, column_diagnostics(project.project, rel, text,
                                                      _column_names(project, records)))
                    project.checks[rel] = cached
                diags += cached[1]
        by_file: dict[str, list[t.Diagnostic]] = {}
        codec = self.workspace.position_codec
        for d in diags:
            by_file.setdefault(d.file, []).append(to_lsp(
                d, partial(project.line_text, d.file), codec))
        for rel in set(by_file) | set(project.overlays) | project.published:
            uri = from_fs_path(str(project.root / rel))
            if uri:
                self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
                    uri=uri, diagnostics=by_file.get(rel, [])))
        project.published = set(by_file)

    def _tell_state_problem(self, project: OpenProject) -> None:
        """Say once (per problem) that the state store cannot be read, and what to do."""
        problem = project.state_problem
        said = problem.message if problem else None
        if said is not None and said != self._state_said.get(project.root):
            hint = f" — {problem.hint}" if problem and problem.hint else ""
            self.window_show_message(t.ShowMessageParams(
                type=t.MessageType.Warning,
                message=f"weir: {said}{hint}. Statuses are unknown until then."))
        self._state_said[project.root] = said

    def disk_changed(self, uris: list[str]) -> list[OpenProject]:
        """Files changed on disk: each open project re-reads its own; the projects touched."""
        touched: dict[Path, OpenProject] = {}
        for uri in uris:
            path = path_of(uri)
            if path is None:
                continue
            for root, project in self.projects.all().items():
                if path.is_relative_to(root):
                    project.disk_changed([path.relative_to(root).as_posix()])
                    touched[root] = project
        return list(touched.values())

    async def watch_files(self) -> None:
        """Ask the client to tell us of changes to project files on disk (a git checkout, a
        file written by a tool), so nothing needs re-reading on a keystroke."""
        caps = self.client_capabilities.workspace
        watch = caps.did_change_watched_files if caps is not None else None
        if watch is None or not watch.dynamic_registration:
            return  # the projects re-read the disk every DISK_TTL instead
        patterns = ["**/weir.yaml", "**/connections.yaml", "**/datasets/**/*.{yaml,yml}",
                    "**/folders/**/*.{yaml,yml}", "**/recipes/**/*.{py,sql}"]
        try:
            await self.client_register_capability_async(t.RegistrationParams(registrations=[
                t.Registration(id="weir-files", method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                               register_options=t.DidChangeWatchedFilesRegistrationOptions(
                                   watchers=[t.FileSystemWatcher(glob_pattern=p)
                                             for p in patterns]))]))
        except Exception as exc:  # noqa: BLE001 - the client said no: fall back to re-reading
            log.info("file watching not available: %s", exc)
            return
        self.watching = True
        for project in self.projects.all().values():
            project.watched = True

    # -- the daemon -------------------------------------------------------------------
    def _follow(self, project: OpenProject) -> None:
        if project.root in self.followers:
            return
        follower = EventFollower(project.root, lambda: self._data_changed(project))
        self.followers[project.root] = follower
        follower.start()

    def _data_changed(self, project: OpenProject) -> None:
        """From a follower thread: a build ended — statuses and schemas are news."""
        project.invalidate_facts()
        loop = self.event_loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.refresh_lenses)

    def refresh_lenses(self) -> None:
        caps = self.client_capabilities.workspace
        if caps is not None and caps.code_lens is not None and caps.code_lens.refresh_support:
            self.workspace_code_lens_refresh(None)

def _column_names(project: OpenProject, records: Records) -> Any:
    def names(dataset: str) -> list[str] | None:
        cols = project.schema(dataset, records)
        return [c.name for c in cols] if cols else None
    return names


def create_server() -> WeirLanguageServer:
    ls = WeirLanguageServer()

    @ls.feature(t.INITIALIZED)
    async def initialized(params: t.InitializedParams) -> None:
        ls.event_loop = asyncio.get_running_loop()
        await ls.watch_files()

    @ls.feature(t.SHUTDOWN)
    def shutdown(params: None) -> None:
        for follower in ls.followers.values():
            follower.stop()

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
        touched = ls.disk_changed([change.uri for change in params.changes])
        for project in touched:
            project.reload()
            ls.publish(project)

    @ls.feature(t.COMPLETION_ITEM_RESOLVE)
    def resolve(item: t.CompletionItem) -> t.CompletionItem:
        project = ls.projects.by_root.get(Path(str(item.data))) if item.data else None
        if project is not None:
            item.documentation = completion.documentation(project, item.label)
        return item

    @ls.feature(t.TEXT_DOCUMENT_COMPLETION,
                t.CompletionOptions(trigger_characters=['"', "'", " ", "(", ",", "."],
                                    resolve_provider=True))
    def complete(params: t.CompletionParams) -> t.CompletionList | None:
        found = ls.project_of(params.text_document.uri)
        if found is None:
            return None
        project, rel = found
        return completion.complete(project, language_of(rel), ls.lines(params.text_document.uri),
                                   params.position)

    def name_at(uri: str, position: t.Position, kinds: tuple[str, ...] = ("dataset",)
                ) -> tuple[OpenProject, str, str, t.Range] | None:
        found = ls.project_of(uri)
        if found is None:
            return None
        project, _rel = found
        lines = ls.lines(uri)
        if position.line >= len(lines):
            return None
        word = word_at(lines[position.line], position.character)
        if word is None:
            return None
        name, start, end = word
        assert project.project is not None
        kind = ("dataset" if name in project.project.datasets else
                "connection" if name in project.project.connections else None)
        if kind is None or kind not in kinds:
            return None
        return project, name, kind, t.Range(
            start=t.Position(line=position.line, character=start),
            end=t.Position(line=position.line, character=end))

    @ls.feature(t.TEXT_DOCUMENT_HOVER)
    def on_hover(params: t.HoverParams) -> t.Hover | None:
        found = name_at(params.text_document.uri, params.position, ("dataset", "connection"))
        if found is None:
            return None
        project, name, kind, rng = found
        text = (hover.dataset_markdown(project, name) if kind == "dataset"
                else hover.connection_markdown(project, name))
        return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text),
                       range=rng)

    def location(project: OpenProject, file: str, line: int, name: str | None = None
                 ) -> t.Location:
        """1-based ``line`` of ``file``: on ``name`` where the line has it, else its start."""
        row = max(line - 1, 0)
        span = name_span(project.line_text(file, row) or "", name) if name else None
        start, end = span or (0, 0)
        return t.Location(uri=from_fs_path(str(project.root / file)) or "", range=t.Range(
            start=t.Position(line=row, character=start), end=t.Position(line=row, character=end)))

    @ls.feature(t.TEXT_DOCUMENT_DEFINITION)
    def definition(params: t.DefinitionParams) -> t.Location | None:
        """A dataset's producing recipe (its def line or SQL file), else its YAML file."""
        found = name_at(params.text_document.uri, params.position, ("dataset", "connection"))
        if found is None:
            return None
        project, name, kind, _ = found
        assert project.project is not None
        if kind == "connection":
            conn = project.project.connections[name]
            return location(project, conn.location.file, conn.location.line)
        recipe = project.project.producer(name)
        if recipe is not None:
            return location(project, recipe.file, recipe.line)
        ds = project.project.datasets[name]
        return location(project, ds.location.file, max(ds.location.line, 1))

    @ls.feature(t.TEXT_DOCUMENT_REFERENCES)
    def references(params: t.ReferenceParams) -> list[t.Location] | None:
        """Every recipe that reads the dataset (at the input's line), and its definition."""
        found = name_at(params.text_document.uri, params.position)
        if found is None:
            return None
        project, name, _, _ = found
        assert project.project is not None
        out = [location(project, inp.location.file, inp.location.line, name)
               for recipe in project.project.recipes.values()
               for inp in recipe.inputs if inp.name == name]
        if params.context.include_declaration:
            here = definition(t.DefinitionParams(text_document=params.text_document,
                                                 position=params.position))
            if here is not None:
                out.insert(0, here)
        return out

    @ls.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(params: t.DocumentSymbolParams) -> list[t.DocumentSymbol] | None:
        """The recipes of a file, each with the datasets it writes as children."""
        found = ls.project_of(params.text_document.uri)
        if found is None:
            return None
        project, rel = found
        assert project.project is not None
        out = []
        for recipe in sorted(project.project.recipes.values(), key=lambda r: r.line):
            if recipe.file != rel:
                continue
            line = max(recipe.line - 1, 0)
            rng = t.Range(start=t.Position(line=line, character=0),
                          end=t.Position(line=line, character=len(recipe.name) + 4))
            children = [t.DocumentSymbol(name=o, kind=t.SymbolKind.Variable, range=rng,
                                         selection_range=rng, detail="output")
                        for o in recipe.outputs]
            inputs = ", ".join(recipe.input_names) or "no inputs"
            out.append(t.DocumentSymbol(
                name=recipe.name, kind=t.SymbolKind.Function, range=rng, selection_range=rng,
                detail=f"{recipe.kind.value} recipe: {inputs} → {', '.join(recipe.outputs)}",
                children=children))
        return out

    @ls.feature(t.TEXT_DOCUMENT_CODE_ACTION,
                t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix]))
    def quick_fixes(params: t.CodeActionParams) -> list[t.CodeAction] | None:
        return code_actions.quick_fixes(params.text_document.uri, params.context.diagnostics)

    @ls.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(params: t.PrepareRenameParams) -> t.Range | None:
        found = name_at(params.text_document.uri, params.position)
        return None if found is None else found[3]

    @ls.feature(t.TEXT_DOCUMENT_RENAME, t.RenameOptions(prepare_provider=True))
    def on_rename(params: t.RenameParams) -> t.WorkspaceEdit | None:
        found = name_at(params.text_document.uri, params.position)
        if found is None:
            return None
        project, old, _, _ = found
        assert project.project is not None
        try:
            plan = rename.plan_rename(project.project, old, params.new_name, project.file_text)
            caps = ls.client_capabilities.workspace
            edits = caps.workspace_edit if caps is not None else None
            can_move = bool(edits and edits.document_changes and edits.resource_operations
                            and t.ResourceOperationKind.Rename in edits.resource_operations)
            return rename.workspace_edit(plan, project.root, can_move)
        except WeirError as exc:
            raise failed(exc) from None

    @ls.feature(t.TEXT_DOCUMENT_CODE_LENS, t.CodeLensOptions(resolve_provider=False))
    def code_lens(params: t.CodeLensParams) -> list[t.CodeLens] | None:
        found = ls.project_of(params.text_document.uri)
        if found is None:
            return None
        project, rel = found
        return lenses.recipe_lenses(project, rel)

    @ls.command(lenses.BUILD_COMMAND)
    async def build_command(*args: Any) -> dict[str, Any]:
        try:
            if not args or not isinstance(args[0], dict):
                raise WeirError("weir.build takes one argument: {root, targets, mode}")
            return await editor_builds.build(ls, args[0])
        except WeirError as exc:
            raise failed(exc) from None

    return ls


def main() -> None:
    create_server().start_io()
