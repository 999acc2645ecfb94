"""`weir lsp`: a pygls language server over stdio.

One handler per LSP feature, each a thin shell over the project model: diagnostics from the
Flow as you type, completion of dataset and folder names where one is expected, and hover with
a dataset's schema, status, producer and consumers.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from weir._version import __version__
from weir_lsp.context import completion_slot, word_at
from weir_lsp.projects import OpenProject, Projects

server = LanguageServer("weir", __version__)
projects = Projects()


def _path(uri: str) -> Path | None:
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


def _language(path: Path) -> str:
    return {".py": "python", ".sql": "sql"}.get(path.suffix, "yaml")


def _publish(project: OpenProject) -> None:
    """Every file of the project gets its diagnostics (an empty list clears old ones)."""
    by_file: dict[str, list[t.Diagnostic]] = {}
    for d in project.diagnostics:
        line = max(d.line - 1, 0)
        severity = (t.DiagnosticSeverity.Error if d.severity.value == "error"
                    else t.DiagnosticSeverity.Warning)
        message = d.message + (f"\n{d.hint}" if d.hint else "")
        by_file.setdefault(d.file, []).append(t.Diagnostic(
            range=t.Range(start=t.Position(line=line, character=d.col),
                          end=t.Position(line=line, character=10_000)),
            message=message, severity=severity, source="weir"))
    known = set(by_file) | set(project.overlays) | project.published
    for rel in known:
        uri = from_fs_path(str(project.root / rel))
        if uri:
            server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
                uri=uri, diagnostics=by_file.get(rel, [])))
    project.published = set(by_file)


def _changed(uri: str, text: str | None) -> None:
    path = _path(uri)
    if path is None:
        return
    project = projects.set_text(path, text)
    if project is not None:
        _publish(project)


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(params: t.DidOpenTextDocumentParams) -> None:
    _changed(params.text_document.uri, params.text_document.text)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(params: t.DidChangeTextDocumentParams) -> None:
    doc = server.workspace.get_text_document(params.text_document.uri)
    _changed(params.text_document.uri, doc.source)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
def did_save(params: t.DidSaveTextDocumentParams) -> None:
    doc = server.workspace.get_text_document(params.text_document.uri)
    _changed(params.text_document.uri, doc.source)


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(params: t.DidCloseTextDocumentParams) -> None:
    _changed(params.text_document.uri, None)


def _schema_text(project: OpenProject, name: str) -> str:
    from weir.build.state import StateStore

    assert project.project is not None and project.flow is not None
    ds = project.project.datasets[name]
    lines = [f"**{name}**" + (f" — {ds.description}" if ds.description else "")]
    kind = "source" if ds.is_source else ("managed folder" if ds.is_folder else "dataset")
    lines.append(f"\n{kind} · `{ds.connection}:{ds.path}`")
    record = None
    db = project.root / ".weir" / "state.db"
    if db.exists():
        store = StateStore(db)
        try:
            record = store.records().get(name)
        finally:
            store.close()
    schema = record.schema if record and record.schema else (
        [[c.name, c.type, c.nullable] for c in ds.schema] if ds.schema else None)
    status = _status(project, name)
    if status:
        lines.append(f"\nstatus: **{status}**")
    if record is not None and record.row_count is not None:
        lines.append(f"\n{record.row_count:,} rows")
    if schema:
        lines.append("\n| column | type | nullable |\n|---|---|---|")
        lines += [f"| {c} | {ty} | {'yes' if n else 'no'} |" for c, ty, n in schema]
    recipe = project.project.producer(name)
    if recipe is not None:
        lines.append(f"\nbuilt by `{recipe.file}:{recipe.line}`")
    consumers = project.flow.downstream.get(name, ())
    if consumers:
        lines.append("\nused by " + ", ".join(f"`{c}`" for c in consumers))
    return "\n".join(lines)


def _status(project: OpenProject, name: str) -> str | None:
    """Up to date / stale and why / never built — from the state store, as `weir status`."""
    from weir.workspace import Workspace

    if project.project is None or project.flow is None or project.diagnostics and any(
            d.severity.value == "error" for d in project.diagnostics):
        return None
    ws = Workspace(project.root, project.project, project.flow, project.diagnostics)
    try:
        return ws.snapshot().statuses[name].describe()
    except Exception:  # noqa: BLE001 - a hover must never fail because data is unreachable
        return None
    finally:
        ws.close()


@server.feature(t.TEXT_DOCUMENT_COMPLETION,
                t.CompletionOptions(trigger_characters=['"', "'", " ", "(", ","]))
def completion(params: t.CompletionParams) -> t.CompletionList | None:
    path = _path(params.text_document.uri)
    if path is None:
        return None
    project = projects.for_path(path)
    if project is None or project.project is None:
        return None
    doc = server.workspace.get_text_document(params.text_document.uri)
    line = doc.lines[params.position.line] if params.position.line < len(doc.lines) else ""
    slot = completion_slot(_language(path), line.rstrip("\n"), params.position.character)
    if slot is None:
        return None
    items = []
    for name, ds in sorted(project.project.datasets.items()):
        if not name.startswith(slot.prefix):
            continue
        kind = "source" if ds.is_source else ("folder" if ds.is_folder else "dataset")
        items.append(t.CompletionItem(
            label=name, kind=t.CompletionItemKind.Folder if ds.is_folder
            else t.CompletionItemKind.Variable, detail=f"{kind} · {ds.connection}:{ds.path}",
            documentation=ds.description))
    return t.CompletionList(is_incomplete=False, items=items)


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(params: t.HoverParams) -> t.Hover | None:
    path = _path(params.text_document.uri)
    if path is None:
        return None
    project = projects.for_path(path)
    if project is None or project.project is None or project.flow is None:
        return None
    doc = server.workspace.get_text_document(params.text_document.uri)
    if params.position.line >= len(doc.lines):
        return None
    found = word_at(doc.lines[params.position.line], params.position.character)
    if found is None or found[0] not in project.project.datasets:
        return None
    name, start, end = found
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown,
                                            value=_schema_text(project, name)),
                   range=t.Range(start=t.Position(line=params.position.line, character=start),
                                 end=t.Position(line=params.position.line, character=end)))


def _dataset_under_cursor(uri: str, position: t.Position) -> tuple[OpenProject, str] | None:
    path = _path(uri)
    if path is None:
        return None
    project = projects.for_path(path)
    if project is None or project.project is None:
        return None
    doc = server.workspace.get_text_document(uri)
    if position.line >= len(doc.lines):
        return None
    found = word_at(doc.lines[position.line], position.character)
    if found is None or found[0] not in project.project.datasets:
        return None
    return project, found[0]


def _location(project: OpenProject, file: str, line: int) -> t.Location:
    pos = t.Position(line=max(line - 1, 0), character=0)
    return t.Location(uri=from_fs_path(str(project.root / file)) or "",
                      range=t.Range(start=pos, end=pos))


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(params: t.DefinitionParams) -> t.Location | None:
    """A dataset's producing recipe (its def line or SQL file), else its YAML file."""
    found = _dataset_under_cursor(params.text_document.uri, params.position)
    if found is None:
        return None
    project, name = found
    assert project.project is not None
    recipe = project.project.producer(name)
    if recipe is not None:
        return _location(project, recipe.file, recipe.line)
    ds = project.project.datasets[name]
    return _location(project, ds.location.file, max(ds.location.line, 1))


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
def references(params: t.ReferenceParams) -> list[t.Location] | None:
    """Every recipe that reads the dataset (at the input's line), and its definition."""
    found = _dataset_under_cursor(params.text_document.uri, params.position)
    if found is None:
        return None
    project, name = found
    assert project.project is not None
    out = []
    for recipe in project.project.recipes.values():
        for inp in recipe.inputs:
            if inp.name == name:
                out.append(_location(project, inp.location.file, inp.location.line))
    if params.context.include_declaration:
        here = definition(t.DefinitionParams(text_document=params.text_document,
                                             position=params.position))
        if here is not None:
            out.insert(0, here)
    return out


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(params: t.DocumentSymbolParams) -> list[t.DocumentSymbol] | None:
    """The recipes of a file, each with the datasets it writes as children."""
    path = _path(params.text_document.uri)
    if path is None:
        return None
    project = projects.for_path(path)
    if project is None or project.project is None:
        return None
    rel = project.relative(path)
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
        out.append(t.DocumentSymbol(
            name=recipe.name, kind=t.SymbolKind.Function, range=rng, selection_range=rng,
            detail=f"{recipe.kind.value} recipe: {', '.join(recipe.input_names) or 'no inputs'}"
            f" → {', '.join(recipe.outputs)}", children=children))
    return out


def main() -> None:
    server.start_io()
