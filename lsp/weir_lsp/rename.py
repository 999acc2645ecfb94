"""Renaming a dataset everywhere it is named: its YAML file, the recipes that read it (parameter
and every use of it in the function, in Python and R), the recipe that writes it,
`weir.Dataset("…")` handles, SQL table references and R's `# outputs:` header — one workspace
edit the user can review and undo.

A dataset's name is its YAML file's stem (and a SQL or R recipe's output its file's stem), so a
rename also renames files. The data already built under the old name is not moved: the renamed
dataset is "never built" until the next build, which a rename should make visible, not hide.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as t
from pygls.uris import from_fs_path

from weir.errors import WeirError
from weir.model.project import Project, RecipeKind
from weir.model.r_recipes import RSyntaxError, Token
from weir_lsp.conversion import failed
from weir_lsp.navigation import name_at
from weir_lsp.r_code import RCode

if TYPE_CHECKING:
    from weir_lsp.session import WeirLanguageServer

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Edit:
    line: int  # 0-based
    start: int
    end: int
    text: str


@dataclass
class RenamePlan:
    edits: dict[str, list[Edit]] = field(default_factory=dict)  # file (relative) -> edits
    moves: list[tuple[str, str]] = field(default_factory=list)  # (old file, new file)

    def add(self, rel: str, line: int, start: int, end: int, text: str) -> None:
        edit = Edit(line, start, end, text)
        edits = self.edits.setdefault(rel, [])
        if edit not in edits:
            edits.append(edit)


def prepare_at(ls: WeirLanguageServer, uri: str, position: t.Position) -> t.Range | None:
    """Only a dataset's name can be renamed: its range, else no rename here."""
    found = name_at(ls, uri, position)
    return None if found is None else found.range


def rename_at(ls: WeirLanguageServer, params: t.RenameParams) -> t.WorkspaceEdit | None:
    """The workspace edit, or the reason there is none, in words the editor shows."""
    found = name_at(ls, params.text_document.uri, params.position)
    if found is None or found.project.project is None:
        return None
    try:
        plan = plan_rename(found.project.project, found.name, params.new_name,
                           found.project.file_text)
        return workspace_edit(plan, found.project.root, ls.can_move_files())
    except WeirError as exc:
        raise failed(exc) from None


def plan_rename(project: Project, old: str, new: str,
                text_of: Callable[[str], str | None]) -> RenamePlan:
    """Every edit that renames dataset ``old`` to ``new``; ``text_of`` gives a file's text as
    the editor has it (unsaved changes included)."""
    if old not in project.datasets:
        raise WeirError(f"'{old}' is not a dataset of this project")
    if not NAME.fullmatch(new):
        raise WeirError(f"'{new}' is not a valid dataset name",
                        hint="use letters, digits and _, not starting with a digit")
    if new in project.datasets:
        raise WeirError(f"a dataset named '{new}' already exists")
    plan = RenamePlan()
    ds = project.datasets[old]
    spec_file = ds.location.file
    if spec_file.endswith((".yaml", ".yml")) and Path(spec_file).stem == old:
        plan.moves.append((spec_file, str(Path(spec_file).with_name(
            new + Path(spec_file).suffix).as_posix())))
    for rel in sorted({r.file for r in project.recipes.values()}):
        text = text_of(rel)
        if text is None:
            continue
        if rel.endswith(".py"):
            _python(plan, project, rel, text, old, new)
        elif rel.endswith(".sql"):
            _sql(plan, rel, text, old, new)
        elif rel.endswith((".R", ".r")):
            _r(plan, project, rel, text, old, new)
    producer = project.producer(old)
    # A SQL or R recipe's output is its file's stem: the file is renamed with it.
    if producer is not None and producer.kind in (RecipeKind.SQL, RecipeKind.R) \
            and Path(producer.file).stem == old:
        moved = Path(producer.file)
        plan.moves.append((producer.file, moved.with_name(new + moved.suffix).as_posix()))
    return plan


def _python(plan: RenamePlan, project: Project, rel: str, text: str, old: str,
            new: str) -> None:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise WeirError(f"{rel}:{exc.lineno}: cannot rename while this file has a syntax error",
                        hint="fix the file first") from None
    lines = text.splitlines()
    recipes = {r.name: r for r in project.recipes.values() if r.file == rel}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in recipes:
            recipe = recipes[node.name]
            if old in recipe.input_names:
                _rename_local(plan, rel, node, old, new)
            if node.name == old and old in recipe.outputs:
                line = node.lineno - 1
                m = re.search(r"\bdef\s+(" + re.escape(old) + r")\b", lines[line])
                if m:
                    plan.add(rel, line, m.start(1), m.end(1), new)
        elif isinstance(node, ast.Constant) and node.value == old and node.end_col_offset:
            if _is_name_string(lines, node):
                plan.add(rel, node.lineno - 1, node.col_offset + 1, node.end_col_offset - 1, new)


def _is_name_string(lines: list[str], node: ast.Constant) -> bool:
    """A string literal that names a dataset: `weir.Dataset("x")`, `outputs=["x"]`,
    `inputs=…` — judged from the text just before it, as the user would read it."""
    before = lines[node.lineno - 1][:node.col_offset]
    return bool(re.search(r"""(?:\b(?:Dataset|Folder)\(\s*|\b(?:outputs|inputs)\s*=\s*\[[^\]]*)$""",
                          before))


def _rename_local(plan: RenamePlan, rel: str, fn: ast.FunctionDef, old: str, new: str) -> None:
    """The parameter and every use of it in the function's body."""
    for arg in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs:
        if arg.arg == old:
            plan.add(rel, arg.lineno - 1, arg.col_offset, arg.col_offset + len(old), new)
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id == old:
            plan.add(rel, node.lineno - 1, node.col_offset, node.col_offset + len(old), new)


def _sql(plan: RenamePlan, rel: str, text: str, old: str, new: str) -> None:
    import sqlglot
    from sqlglot import exp

    try:
        query = sqlglot.parse_one(text, dialect="duckdb")
    except Exception:  # noqa: BLE001 - the model already reports the syntax error
        raise WeirError(f"{rel}: cannot rename while this query does not parse",
                        hint="fix the file first") from None
    starts: list[int] = []
    for table in query.find_all(exp.Table):
        ident = table.this
        if table.name == old and isinstance(ident, exp.Identifier) and "start" in ident.meta:
            starts.append(int(ident.meta["start"]))
    for column in query.find_all(exp.Column):
        qualifier = column.args.get("table")
        if column.table == old and isinstance(qualifier, exp.Identifier) \
                and "start" in qualifier.meta:
            starts.append(int(qualifier.meta["start"]))
    for start in starts:
        line = text.count("\n", 0, start)
        col = start - (text.rfind("\n", 0, start) + 1)
        plan.add(rel, line, col, col + len(old), new)


def _r(plan: RenamePlan, project: Project, rel: str, text: str, old: str, new: str) -> None:
    """As in Python: the argument and its uses in the function, the function named after its
    output (and the file, by plan_rename); an output the `# outputs:` header lists, there and
    as the name of the list element that returns it (`list(old = …)`)."""
    try:
        code = RCode.read(text)
    except RSyntaxError as exc:
        raise WeirError(f"{rel}:{exc.line}: cannot rename while this file has a syntax error",
                        hint="fix the file first") from None
    for recipe in (r for r in project.recipes.values() if r.file == rel):
        fn = code.function(recipe.name)
        if fn is None:
            continue
        if old in recipe.input_names or old in recipe.folder_outputs:
            for k in fn.uses(old):
                _r_name(plan, rel, fn.code[k], new)
        if recipe.name == old and old in recipe.outputs:
            _r_name(plan, rel, fn.name, new)
        listed = [(line, col) for name, line, col in code.header_outputs() if name == old]
        if old in recipe.outputs and listed:  # and the named list that returns the outputs
            for line, col in listed:
                plan.add(rel, line - 1, col, col + len(old), new)
            for k in fn.list_names(old):
                _r_name(plan, rel, fn.code[k], new)


def _r_name(plan: RenamePlan, rel: str, token: Token, new: str) -> None:
    """An R name renamed; a backquoted one keeps its backquotes."""
    quoted = 1 if token.text.startswith("`") else 0
    plan.add(rel, token.line - 1, token.col + quoted, token.col + len(token.text) - quoted, new)


def workspace_edit(plan: RenamePlan, root: Path, can_move_files: bool) -> t.WorkspaceEdit:
    """The plan as one LSP workspace edit: text edits first, then the file renames (an editor
    applies them in order). An editor that cannot rename files gets a refusal, not half a
    rename."""
    if plan.moves and not can_move_files:
        raise WeirError("this editor cannot rename files, and renaming a dataset renames "
                        + ", ".join(old for old, _ in plan.moves),
                        hint="rename the files yourself, then the references")

    def uri(rel: str) -> str:
        return from_fs_path(str(root / rel)) or ""

    def text_edits(rel: str) -> list[t.TextEdit]:
        return [t.TextEdit(range=t.Range(start=t.Position(line=e.line, character=e.start),
                                         end=t.Position(line=e.line, character=e.end)),
                           new_text=e.text) for e in plan.edits[rel]]

    if not can_move_files:
        return t.WorkspaceEdit(changes={uri(rel): text_edits(rel) for rel in plan.edits})
    changes: list[t.TextDocumentEdit | t.CreateFile | t.RenameFile | t.DeleteFile] = [
        t.TextDocumentEdit(text_document=t.OptionalVersionedTextDocumentIdentifier(
            uri=uri(rel), version=None), edits=list(text_edits(rel)))
        for rel in plan.edits]
    changes += [t.RenameFile(old_uri=uri(old), new_uri=uri(new)) for old, new in plan.moves]
    return t.WorkspaceEdit(document_changes=changes)
