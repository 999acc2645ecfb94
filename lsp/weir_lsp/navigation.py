"""Navigation: the name under the cursor, where it is defined, who reads it, a file's recipes.

Everything is answered from the model in memory — a dataset's producing recipe, the inputs of
every recipe — so going to a definition never reads a file or runs anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types as t
from pygls.uris import from_fs_path

from weir_lsp.context import name_span, word_at
from weir_lsp.projects import OpenProject

if TYPE_CHECKING:
    from weir_lsp.session import WeirLanguageServer


@dataclass(frozen=True)
class Named:
    """A dataset or connection name under the cursor, and where it stands."""

    project: OpenProject
    name: str
    kind: str  # "dataset" (datasets and folders) or "connection"
    range: t.Range


def name_at(ls: WeirLanguageServer, uri: str, position: t.Position,
            kinds: tuple[str, ...] = ("dataset",)) -> Named | None:
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
    return Named(project, name, kind, t.Range(
        start=t.Position(line=position.line, character=start),
        end=t.Position(line=position.line, character=end)))


def location(project: OpenProject, file: str, line: int, name: str | None = None
             ) -> t.Location:
    """1-based ``line`` of ``file``: on ``name`` where the line has it, else its start."""
    row = max(line - 1, 0)
    span = name_span(project.line_text(file, row) or "", name) if name else None
    start, end = span or (0, 0)
    return t.Location(uri=from_fs_path(str(project.root / file)) or "", range=t.Range(
        start=t.Position(line=row, character=start), end=t.Position(line=row, character=end)))


def definition(ls: WeirLanguageServer, uri: str, position: t.Position) -> t.Location | None:
    """A dataset's producing recipe (its def line or SQL file), else its YAML file; a
    connection's entry in its connections file."""
    found = name_at(ls, uri, position, ("dataset", "connection"))
    if found is None:
        return None
    project, name = found.project, found.name
    assert project.project is not None
    if found.kind == "connection":
        conn = project.project.connections[name]
        return location(project, conn.location.file, conn.location.line)
    recipe = project.project.producer(name)
    if recipe is not None:
        return location(project, recipe.file, recipe.line)
    ds = project.project.datasets[name]
    return location(project, ds.location.file, max(ds.location.line, 1))


def references(ls: WeirLanguageServer, params: t.ReferenceParams) -> list[t.Location] | None:
    """Every recipe that reads the dataset (at the input's line), and its definition."""
    uri, position = params.text_document.uri, params.position
    found = name_at(ls, uri, position)
    if found is None:
        return None
    project = found.project
    assert project.project is not None
    out = [location(project, inp.location.file, inp.location.line, found.name)
           for recipe in project.project.recipes.values()
           for inp in recipe.inputs if inp.name == found.name]
    if params.context.include_declaration:
        here = definition(ls, uri, position)
        if here is not None:
            out.insert(0, here)
    return out


def symbols(ls: WeirLanguageServer, uri: str) -> list[t.DocumentSymbol] | None:
    """The recipes of a file, each with the datasets it writes as children."""
    found = ls.project_of(uri)
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
