"""Reading SQL recipe files: the output is the file stem, the inputs are the query's tables.

sqlglot parses the query (DuckDB dialect) so CTE names are not mistaken for inputs, and gives a
normalised text — comments and layout removed — for the fingerprint. ``$name`` placeholders are
project variables, bound as parameters at run time, never pasted into the text.
"""

from __future__ import annotations

import hashlib
import re

from weir.model.diagnostics import Diagnostic
from weir.model.project import Interface, Location, Recipe, RecipeInput, RecipeKind

_DIALECT = "duckdb"


def _line_of(text: str, pattern: str) -> int:
    match = re.search(pattern, text, flags=re.IGNORECASE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def parse_sql_file(file: str, name: str, text: str) -> tuple[Recipe | None, list[Diagnostic]]:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    if not text.strip():
        return None, [Diagnostic(file, 1, "the SQL recipe is empty",
                                 hint=f"write the SELECT that builds '{name}'")]
    try:
        statements = [s for s in sqlglot.parse(text, dialect=_DIALECT) if s is not None]
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        return None, [Diagnostic(file, int(err.get("line") or 1),
                                 f"SQL syntax error: {_plain(err) if err else exc}",
                                 hint="weir reads the query to find its inputs; fix the syntax",
                                 col=max(int(err.get("col") or 1) - 1, 0))]
    except TokenError as exc:
        return None, [Diagnostic(file, 1, f"SQL syntax error: {exc}")]
    if len(statements) != 1:
        return None, [Diagnostic(file, 1, f"a SQL recipe holds one query, this file has "
                                 f"{len(statements)}",
                                 hint=f"keep one SELECT that builds '{name}'")]
    query = statements[0]
    if not isinstance(query, (exp.Query)):
        return None, [Diagnostic(file, 1, f"a SQL recipe is a query (SELECT …), not "
                                 f"{query.key.upper()}",
                                 hint="weir creates the output from the query's result")]
    cte_names = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    inputs: list[RecipeInput] = []
    seen: set[str] = set()
    for table in query.find_all(exp.Table):
        table_name = table.name
        if not table_name or table_name in cte_names or table_name in seen:
            continue
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function such as read_csv(...)
        seen.add(table_name)
        line = _line_of(text, rf"\b(from|join)\s+{re.escape(table_name)}\b")
        inputs.append(RecipeInput(table_name, Interface.ARROW, Location(file, line)))
    inputs.sort(key=lambda i: i.location.line)
    variables = sorted({str(p.this) for p in query.find_all(exp.Placeholder) if p.this})
    normalised = query.sql(dialect=_DIALECT, comments=False, normalize=False)
    code_hash = hashlib.blake2b(normalised.encode(), digest_size=16).hexdigest()
    recipe = Recipe(name=name, kind=RecipeKind.SQL, file=file, line=1, inputs=tuple(inputs),
                    outputs=(name,), code_hash=code_hash, variables=tuple(variables))
    return recipe, []


def _plain(err: dict[str, object]) -> str:
    """sqlglot's description in the user's words: the clause, not the parser's class name, and
    the token it stopped at."""
    description = str(err.get("description") or "invalid query")
    token = str(err.get("highlight") or "").strip()
    clause = re.search(r"missing for <class '[\w.]*\.(\w+)'>", description)
    if clause:
        return f"{clause.group(1).upper()} is incomplete"
    if description.startswith("Invalid expression / Unexpected token") and token:
        return f"unexpected '{token}'"
    if description.startswith("Expecting ") and token:
        return f"expected {description[len('Expecting '):]} before '{token}'"
    return f"{description}, at '{token}'" if token else description


def variable_line(text: str, variable: str) -> int:
    return _line_of(text, rf"\${re.escape(variable)}\b")
