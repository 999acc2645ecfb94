"""Editor-only checks: a column a recipe (Python, SQL or R) reads that its input does not have.

They need the inputs' schemas (declared, observed or read from a source file), which the pure
model does not know, so they live here and run over the files open in the editor.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from weir.model.diagnostics import Diagnostic, Severity
from weir.model.project import Interface, Project
from weir.model.r_recipes import RSyntaxError, unquote
from weir.model.suggest import closest, hint_for
from weir_lsp.r_code import RCode

Schema = Callable[[str], "list[str] | None"]  # dataset -> its column names, None if unknown

_TABLE_INTERFACES = (Interface.PANDAS, Interface.ARROW, Interface.POLARS, Interface.SPARK)


def column_diagnostics(project: Project, rel: str, text: str, columns: Schema) -> list[Diagnostic]:
    if rel.endswith(".py"):
        return _python(project, rel, text, columns)
    if rel.endswith(".sql"):
        return _sql(project, rel, text, columns)
    if rel.endswith((".R", ".r")):
        return _r(project, rel, text, columns)
    return []


def _unknown(rel: str, line: int, col: int, end_col: int, name: str, dataset: str,
             known: list[str]) -> Diagnostic:
    best = closest(name, known)
    hint = hint_for(best)
    return Diagnostic(rel, line, f"column '{name}' is not in {dataset}'s schema"
                      + (f" — {hint}" if hint else ""), code="unknown-column",
                      subject=f"column:{dataset}.{name}", suggestion=best,
                      hint=f"{dataset} has: {', '.join(known[:12])}"
                      + (" …" if len(known) > 12 else ""),
                      severity=Severity.WARNING, col=col, end_line=line, end_col=end_col)


def _python(project: Project, rel: str, text: str, columns: Schema) -> list[Diagnostic]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    recipes = {r.name: r for r in project.recipes.values() if r.file == rel}
    lines = text.splitlines()

    def chars(lineno: int, byte_col: int) -> int:
        """``ast`` counts UTF-8 bytes; a diagnostic's range counts characters."""
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        return byte_col if line.isascii() else len(line.encode()[:byte_col].decode(errors="ignore"))

    out: list[Diagnostic] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or fn.name not in recipes:
            continue
        recipe = recipes[fn.name]
        reassigned = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)
                      and isinstance(n.ctx, ast.Store)}
        checked = {i.name: columns(i.name) for i in recipe.inputs
                   if i.interface in _TABLE_INTERFACES and i.name not in reassigned}
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                    and isinstance(node.ctx, ast.Load)):
                continue
            known = checked.get(node.value.id)
            if not known:
                continue
            keys = node.slice.elts if isinstance(node.slice, ast.List) else [node.slice]
            for key in keys:
                if isinstance(key, ast.Constant) and isinstance(key.value, str) \
                        and key.value not in known and key.end_col_offset is not None:
                    out.append(_unknown(rel, key.lineno, chars(key.lineno, key.col_offset) + 1,
                                        chars(key.lineno, key.end_col_offset) - 1, key.value,
                                        node.value.id, known))
    return out


def _r(project: Project, rel: str, text: str, columns: Schema) -> list[Diagnostic]:
    """`orders$amont` and `orders[["amont"]]` on an argument the function never assigns to
    (`orders$total <- …` makes a column the schema does not know yet)."""
    try:
        code = RCode.read(text)
    except RSyntaxError:
        return []  # the model reports it
    out: list[Diagnostic] = []
    for recipe in (r for r in project.recipes.values() if r.file == rel):
        fn = code.function(recipe.name)
        if fn is None:
            continue
        for inp in recipe.inputs:
            known = columns(inp.name) if inp.interface in _TABLE_INTERFACES else None
            if not known or fn.assigned(inp.name):
                continue
            for tok in fn.columns_read(inp.name):
                name = unquote(tok)
                if name not in known:
                    quoted = 1 if tok.text[:1] in "`'\"" else 0
                    out.append(_unknown(rel, tok.line, tok.col + quoted,
                                        tok.col + len(tok.text) - quoted, name, inp.name, known))
    return out


def _sql(project: Project, rel: str, text: str, columns: Schema) -> list[Diagnostic]:
    import sqlglot
    from sqlglot import exp

    try:
        query = sqlglot.parse_one(text, dialect="duckdb")
    except Exception:  # noqa: BLE001 - the model reports syntax errors; nothing to add here
        return []
    if not isinstance(query, exp.Query):
        return []
    tables = list(query.find_all(exp.Table))
    by_alias = {(tbl.alias or tbl.name): tbl.name for tbl in tables}
    nested = any(True for _ in query.find_all(exp.CTE)) or any(
        True for _ in query.find_all(exp.Subquery))
    single = tables[0].name if len(tables) == 1 and not nested else None
    aliases = {s.alias for s in query.find_all(exp.Alias)}
    out: list[Diagnostic] = []
    for column in query.find_all(exp.Column):
        ident = column.this
        if not isinstance(ident, exp.Identifier) or "start" not in ident.meta:
            continue
        if column.table:
            dataset = by_alias.get(column.table)
        elif column.name not in aliases:
            dataset = single
        else:
            dataset = None
        if dataset is None or dataset not in project.datasets:
            continue
        known = columns(dataset)
        if not known or column.name in known:
            continue
        start, end = int(ident.meta["start"]), int(ident.meta["end"]) + 1
        line = text.count("\n", 0, start) + 1
        line_start = text.rfind("\n", 0, start) + 1
        out.append(_unknown(rel, line, start - line_start, end - line_start, column.name,
                            dataset, known))
    return out
