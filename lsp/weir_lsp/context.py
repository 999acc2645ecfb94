"""What is under the cursor: which kind of name is expected there, and of what.

Pure functions over text, so they are tested without an editor. They read the line as typed —
half-written code does not parse, and completion is asked for exactly then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"

# SQL words that may follow a table name and so are never its alias.
_SQL_KEYWORDS = frozenset("""
    where join left right inner outer full cross natural on using group order by having limit
    offset union intersect except window qualify as select from and or not lateral semi anti
    asof positional
""".split())


class SlotKind(str, Enum):
    DATASET = "dataset"
    COLUMN = "column"
    CONNECTION = "connection"
    VARIABLE = "variable"


@dataclass(frozen=True)
class Slot:
    """A place where a name goes: its kind, the partial name typed so far, where it starts,
    and for a column the expression it belongs to (a recipe parameter, a SQL table or alias;
    None for "any table of this query")."""

    kind: SlotKind
    prefix: str
    start: int
    owner: str | None = None
    attribute: bool = False  # `df.col`: only identifier-shaped names fit
    output: bool = False  # `outputs=["…`: a name this recipe will build, not one it reads


def _slot(kind: SlotKind, prefix: str, col: int, owner: str | None = None,
          attribute: bool = False) -> Slot:
    return Slot(kind, prefix, col - len(prefix), owner, attribute)


def completion_slot(language: str, line: str, col: int) -> Slot | None:
    """What is expected at ``col`` of ``line``, or None (no completion there)."""
    before = line[:col]
    if language == "python":
        return _python_slot(before, col)
    if language == "r":
        return _r_slot(before, col)
    if language == "sql":
        return _sql_slot(before, col)
    if language == "yaml":
        m = re.match(r"^\s*connection\s*:\s*([A-Za-z0-9_-]*)$", before)
        if m:
            return _slot(SlotKind.CONNECTION, m.group(1), col)
    return None


# A function's head up to its opening parenthesis, in each language that has recipe functions:
# `def name(` and R's `name <- function(` (or `=`, `<<-`, `\(`; R names may hold dots).
_FUNCTION_HEADS = {
    "python": r"\s*def\s+" + IDENT + r"\s*\(",
    "r": r"\s*`?[A-Za-z._][A-Za-z0-9._]*`?\s*(?:<<-|<-|=)\s*(?:function|\\)\s*\(",
}


def _in_comment(before: str) -> bool:
    """A `#` comment (Python's and R's) has started, outside a string."""
    return "#" in before and not re.search(r"""["'][^"']*#""", before)


def _recipe_slot(language: str, before: str, col: int, attribute: str) -> Slot | None:
    """What Python and R recipes share: `var("…`, a function's parameters, `df["…`,
    `df[["a", "…`, and a column named after the frame (``attribute``: `df.` in Python, `df$`
    in R, where only identifier-shaped columns fit)."""
    m = re.search(r"""\bvar\(\s*["']([A-Za-z0-9_]*)$""", before)
    if m:
        return _slot(SlotKind.VARIABLE, m.group(1), col)
    m = re.match(_FUNCTION_HEADS[language] + r"([^)]*)$", before)
    if m:
        current = m.group(1).split(",")[-1]
        if ":" in current or "=" in current:
            return None  # typing an annotation or default, not a name
        name = current.strip()
        if re.fullmatch(r"[A-Za-z0-9_]*", name):
            return _slot(SlotKind.DATASET, name, col)
        return None
    # df["col  and  df[["a", "col
    m = re.search(r"""(""" + IDENT + r""")\[\[?(?:\s*["'][^"']*["']\s*,)*\s*["']([^"'\]]*)$""",
                  before)
    if m:
        return _slot(SlotKind.COLUMN, m.group(2), col, m.group(1))
    m = re.search(attribute, before)
    if m:
        return _slot(SlotKind.COLUMN, m.group(2), col, m.group(1), attribute=True)
    return None


def _python_slot(before: str, col: int) -> Slot | None:
    if _in_comment(before):
        return None
    m = re.search(r"""\b(?:weir\.)?(?:Dataset|Folder)\(\s*["']([A-Za-z0-9_]*)$""", before)
    if m:
        return _slot(SlotKind.DATASET, m.group(1), col)
    m = re.search(r"""outputs\s*=\s*\[[^\]]*["']([A-Za-z0-9_]*)$""", before)
    if m:
        return replace(_slot(SlotKind.DATASET, m.group(1), col), output=True)
    return _recipe_slot("python", before, col, r"(?<![\w.])(" + IDENT + r")\.([A-Za-z0-9_]*)$")


def _r_slot(before: str, col: int) -> Slot | None:
    # `# outputs: train, te` in the header names datasets this recipe will build, as
    # Python's `outputs=[…]` does.
    m = re.match(r"^\s*#+'?\s*outputs\s*:(?:[^,]*,)*\s*([A-Za-z0-9_]*)$", before, re.IGNORECASE)
    if m:
        return replace(_slot(SlotKind.DATASET, m.group(1), col), output=True)
    if _in_comment(before):
        return None
    return _recipe_slot("r", before, col, r"(?<![\w.$@])(" + IDENT + r")\$([A-Za-z0-9_.]*)$")


def _sql_slot(before: str, col: int) -> Slot | None:
    if "--" in before:
        return None
    m = re.search(r"\b(?:from|join)\s+([A-Za-z0-9_]*)$", before, re.IGNORECASE)
    if m:
        return _slot(SlotKind.DATASET, m.group(1), col)
    m = re.search(r"(?<![\w.])(" + IDENT + r")\.([A-Za-z0-9_]*)$", before)
    if m:
        return _slot(SlotKind.COLUMN, m.group(2), col, m.group(1))
    m = re.search(r"""(?:\b(?:select|where|on|and|or|by|having|distinct)\s+|[,(=<>+\-*/]\s*)"""
                  r"""([A-Za-z_][A-Za-z0-9_]*|)$""", before, re.IGNORECASE)
    if m and m.group(1).lower() not in _SQL_KEYWORDS:
        return _slot(SlotKind.COLUMN, m.group(1), col)
    return None


def sql_tables(text: str) -> dict[str, str]:
    """``alias or name -> table`` for every table named after FROM/JOIN in a (possibly
    half-written) query."""
    out: dict[str, str] = {}
    for m in re.finditer(r"\b(?:from|join)\s+(" + IDENT + r")(?:\s+(?:as\s+)?(" + IDENT + r"))?",
                         text, re.IGNORECASE):
        table, alias = m.group(1), m.group(2)
        out[table] = table
        if alias and alias.lower() not in _SQL_KEYWORDS:
            out[alias] = table
    return out


def params_above(language: str, lines: list[str], line: int) -> list[str]:
    """The parameter names of the nearest function (`def` in Python, `function(` in R) at or
    above 0-based ``line`` — for a file that does not parse right now, where the model has no
    recipe to ask."""
    head = re.compile(_FUNCTION_HEADS.get(language, _FUNCTION_HEADS["python"]))
    for i in range(min(line, len(lines) - 1), -1, -1):
        m = head.match(lines[i])
        if m:
            text = "".join(lines[i:i + 20])[m.end():]
            params = text.split(")", 1)[0]
            return [p.split(":")[0].split("=")[0].strip().lstrip("*").strip("`")
                    for p in params.split(",") if p.strip()]
    return []


def name_span(line: str, name: str) -> tuple[int, int] | None:
    """Where ``name`` stands on ``line`` as a whole word (not inside a longer name)."""
    m = re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", line)
    return (m.start(), m.end()) if m else None


def word_at(line: str, col: int) -> tuple[str, int, int] | None:
    """The identifier at ``col`` (also when the cursor is right after it)."""
    for m in re.finditer(IDENT, line):
        if m.start() <= col <= m.end():
            return m.group(0), m.start(), m.end()
    return None
