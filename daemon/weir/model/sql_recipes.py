"""Reading SQL recipe files: the output is the file stem, the inputs are the query's tables.

sqlglot parses the query (DuckDB dialect) so CTE names are not mistaken for inputs, and gives a
normalised text — comments and layout removed — for the fingerprint. ``$name`` placeholders are
project variables, bound as parameters at run time, never pasted into the text.
"""

from __future__ import annotations

import hashlib
import re

from weir.model.diagnostics import Diagnostic, Span, span, whole_line
from weir.model.partitions import SQL_PARAMETERS
from weir.model.project import Interface, Location, Recipe, RecipeInput, RecipeKind

_DIALECT = "duckdb"


def _line_of(text: str, pattern: str, default: int = 1) -> int:
    match = re.search(pattern, text, flags=re.IGNORECASE)
    return text.count("\n", 0, match.start()) + 1 if match else default


def _span_of(text: str, pattern: str, default: int = 1) -> Span:
    """Where the ``name`` group of ``pattern`` first matches ``text`` (the whole of the match
    without one), else the whole ``default`` line."""
    match = re.search(pattern, text, flags=re.IGNORECASE)
    if match is None:
        return whole_line(default)
    group = "name" if "name" in match.re.groupindex else 0
    start, end = match.start(group), match.end(group)
    line_start = text.rfind("\n", 0, start) + 1
    return span(text.count("\n", 0, start) + 1, start - line_start, end - line_start)


def parse_sql_file(file: str, name: str, text: str) -> tuple[Recipe | None, list[Diagnostic]]:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    subject = f"recipe:{file}"  # a SQL recipe's id is its file
    if not text.strip():
        return None, [Diagnostic(file, 1, "the SQL recipe is empty", code="sql-empty",
                                 subject=subject, hint=f"write the SELECT that builds '{name}'")]
    try:
        statements = [s for s in sqlglot.parse(text, dialect=_DIALECT) if s is not None]
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        return None, [Diagnostic(file, int(err.get("line") or 1),
                                 f"SQL syntax error: {_plain(err) if err else exc}",
                                 code="sql-syntax", subject=subject,
                                 hint="weir reads the query to find its inputs; fix the syntax",
                                 col=max(int(err.get("col") or 1) - 1, 0))]
    except TokenError:
        line, what = _unclosed(text)
        return None, [Diagnostic(file, line, f"SQL syntax error: {what}", code="sql-syntax",
                                 subject=subject,
                                 hint="weir reads the query to find its inputs; fix the syntax")]
    if len(statements) != 1:
        return None, [Diagnostic(file, 1, f"a SQL recipe holds one query, this file has "
                                 f"{len(statements)}", code="sql-not-one-query", subject=subject,
                                 hint=f"keep one SELECT that builds '{name}'")]
    query = statements[0]
    if not isinstance(query, (exp.Query)):
        return None, [Diagnostic(file, 1, f"a SQL recipe is a query (SELECT …), not "
                                 f"{query.key.upper()}", code="sql-not-a-query", subject=subject,
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
        where = _span_of(text, rf"\b(from|join)\s+(?P<name>{re.escape(table_name)})\b")
        inputs.append(RecipeInput(table_name, Interface.ARROW, Location(file, where["line"]),
                                  where["col"]))
    inputs.sort(key=lambda i: i.location.line)
    # $partition and its kin are bound by weir to the partition a job builds: not variables.
    variables = sorted({str(p.this) for p in query.find_all(exp.Placeholder) if p.this}
                       - set(SQL_PARAMETERS))
    normalised = query.sql(dialect=_DIALECT, comments=False, normalize=False)
    code_hash = hashlib.blake2b(normalised.encode(), digest_size=16).hexdigest()
    recipe = Recipe(name=name, kind=RecipeKind.SQL, file=file, line=1, inputs=tuple(inputs),
                    outputs=(name,), code_hash=code_hash, variables=tuple(variables))
    return recipe, []


# sqlglot's expression classes for operators, as the user wrote them
_OPERATORS = {"EQ": "=", "NEQ": "<>", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<=",
              "Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Mod": "%", "DPipe": "||"}
_TOKEN = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+.*?>")


def _plain(err: dict[str, object]) -> str:
    """sqlglot's description in the user's words: the clause or operator, not the parser's class
    name, and the token it stopped at, not the parser's token object."""
    description = str(err.get("description") or "invalid query")
    token = str(err.get("highlight") or "").strip()
    clause = re.search(r"missing for <class '[\w.]*\.(\w+)'>", description)
    if clause:
        name = clause.group(1)
        return f"{_OPERATORS[name]!r} is incomplete" if name in _OPERATORS \
            else f"{name.upper()} is incomplete"
    if description.startswith("Invalid expression / Unexpected token") and token:
        return f"unexpected '{token}'"
    if description.startswith("Expecting ") and token:
        return f"expected {description[len('Expecting '):]} before '{token}'"
    got = re.fullmatch(r"Expected (.+) but got " + _TOKEN.pattern, description)
    if got:
        expected, kind, text = got.groups()
        if kind == "SENTINEL":  # the parser ran out of query
            return f"expected {expected} after '{token}', but the query ends there"
        return f"expected {expected} before '{text}'"
    description = _TOKEN.sub(lambda m: "the end of the query" if m.group(1) == "SENTINEL"
                             else f"'{m.group(2)}'", description)
    if description.startswith("Expected "):
        description = "e" + description[1:]
    return f"{description}, at '{token}'" if token else description


def _unclosed(text: str) -> tuple[int, str]:
    """What the tokenizer could not read, in words, and its line: a string, quoted name or
    comment opened and never closed (sqlglot says only "Error tokenizing")."""
    i, line = 0, 1
    while i < len(text):
        two = text[i:i + 2]
        if two == "--":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        opened = {"'": ("'", "a string", "'"), '"': ('"', "a quoted name", '"'),
                  "/*": ("*/", "a comment", "*/")}.get("/*" if two == "/*" else text[i])
        if opened is None:
            line += text[i] == "\n"
            i += 1
            continue
        close, what, missing = opened
        end = text.find(close, i + len(two if two == "/*" else text[i]))
        if end < 0:
            return line, f"{what} is opened here and never closed (a {missing} is missing)"
        line += text.count("\n", i, end)
        i = end + len(close)
    return 1, "the query cannot be read (an unexpected character?)"


def engine_error(text: str, message: str) -> tuple[int, str, str | None]:
    """An error the SQL engine (DuckDB) gave for a recipe's query, as ``(line, message, hint)``:
    the line it names (``LINE 3:``), else the line where the name it quotes appears; a syntax
    error in the words the Flow uses for one; its suggestion as the hint. 0: no line known."""
    where = re.search(r"^LINE (\d+):", message, flags=re.MULTILINE)
    body = message[:where.start()] if where else message
    first, *rest = [ln.strip() for ln in body.strip().splitlines() if ln.strip()] or [message]
    line = int(where.group(1)) if where else 0
    if not line:
        for name in re.findall(r'"([^"\n]+)"|with name (\w+)', first):
            line = _line_of(text, rf"(?<![\w$]){re.escape(name[0] or name[1])}(?!\w)", 0)
            if line:
                break
    hints = []
    for extra in rest:
        candidates = re.fullmatch(r"Candidate bindings: (.+)", extra)
        hints.append(f"did you mean {candidates.group(1)}?" if candidates else extra)
    syntax = re.fullmatch(r'Parser Error: syntax error at or near "(.*)"', first)
    if syntax:
        return line, f"SQL syntax error: unexpected '{syntax.group(1)}'", \
            "DuckDB runs the query and cannot read it here; fix the syntax"
    if re.fullmatch(r"Parser Error: syntax error at end of input", first):
        return line, "SQL syntax error: the query ends too early", \
            "DuckDB runs the query and cannot read its end; fix the syntax"
    return line, first, " ".join(hints) or None


def variable_span(text: str, variable: str) -> Span:
    """Where a query first binds ``$variable`` (the name, after the ``$``)."""
    return _span_of(text, rf"\$(?P<name>{re.escape(variable)})\b")
