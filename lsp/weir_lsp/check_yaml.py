"""`checks:` in a dataset's YAML: what the cursor is on there, what to offer, what a kind does.

Read from the text as typed, like context.py: a half-written item does not parse, and
completion is asked for exactly then. The check kinds, their examples and which settings name
columns are the model's (weir.model.checks); this adds what an editor needs around them — the
slot under the cursor, a sentence per kind for the popup and the hover, and the exact range of
a wrong column in a check, so its diagnostic gets a quick fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from weir.model.checks import EXAMPLES, KINDS, CheckKind
from weir.model.diagnostics import Diagnostic, name_on_line
from weir.model.project import Project
from weir.model.suggest import closest

# What each kind checks, for the completion popup and the hover (tests: one per kind).
DOCS: dict[CheckKind, str] = {
    CheckKind.ROW_COUNT: "The output has at least `min` and at most `max` rows.",
    CheckKind.NOT_NULL: "No row has a null in any of these columns.",
    CheckKind.UNIQUE: "No two rows have the same value in each of these columns; a list "
                      "inside the list is a combination, unique together.",
    CheckKind.ACCEPTED_VALUES: "Each column holds only the listed values (nulls pass).",
    CheckKind.RANGE: "Each column's values lie between its `min` and `max`, either may be "
                     "left out (nulls pass).",
    CheckKind.RELATIONSHIPS: "Every value of the column exists in `dataset.column` (a "
                             "foreign key; nulls pass).",
    CheckKind.FRESHNESS: "The newest value of a timestamp column is no older than `max_age` "
                         "(`36h`, `2d`).",
    CheckKind.SCHEMA: "The data has exactly the dataset's declared schema.",
    CheckKind.SQL: "A query over the dataset (by its own name) that returns the failing rows; "
                   "none returned: it passes.",
    CheckKind.PYTHON: "A function of the project (`module:function`) given the data as a "
                      "DataFrame, returning True/False or (ok, message).",
}
SEVERITY_DOCS = {
    "error": "the default: an output that fails is not published, the last good version "
             "stays live",
    "warning": "a failure is reported and logged, and the output is published",
}
ITEM_DOCS = {
    "name": "The check's name in reports and `failed: check NAME` (else it is named by what "
            "it is).",
    "severity": "`error` (the default: a failing output is not published) or `warning` "
                "(reported, published).",
}
# Snippets inserted for a kind (``$1``… the places to type; NAME: the dataset's name).
SNIPPETS: dict[str, str] = {
    "row_count": "row_count: {min: ${1:1}}",
    "not_null": "not_null: [$1]",
    "unique": "unique: [$1]",
    "accepted_values": "accepted_values: {${1:column}: [$2]}",
    "range": "range: {${1:column}: {min: ${2:0}}}",
    "relationships": "relationships: {${1:column}: ${2:dataset.column}}",
    "freshness": "freshness: {column: $1, max_age: ${2:1d}}",
    "schema": "schema",
    "sql": "sql: SELECT * FROM NAME WHERE $1",
    "python": "python: ${1:module}:${2:function}",
    "name": "name: $1",
    "severity": "severity: ${1|error,warning|}",
}
# The kinds whose settings name the dataset's own columns.
COLUMN_KINDS = frozenset({"not_null", "unique", "accepted_values", "range", "relationships",
                          "freshness"})
# The settings of kinds written as a mapping of fixed keys: `row_count: {min: 1}`…
SETTING_KEYS = {"row_count": ("min", "max"), "freshness": ("column", "max_age")}
_KEY = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*:(?:\s|$)")
_NAME = r"[^\s,\[\]{}:'\"#]*"


def dataset_of(rel: str) -> str | None:
    """The dataset a project file declares (``datasets/…/NAME.yaml``), if it is one."""
    path = PurePosixPath(rel)
    if path.parts[:1] != ("datasets",) or path.suffix not in (".yaml", ".yml"):
        return None
    return path.stem


@dataclass(frozen=True)
class CheckSlot:
    """What goes under the cursor in ``checks:``.

    ``what``: "item" (a check kind or an item key), "severity", "column" (the dataset's own),
    "dataset" (a relationship's target), "target-column" (``other``'s), "setting" (a fixed
    key of the kind's settings: ``min``, ``max_age``…)."""

    what: str
    prefix: str
    kind: str | None = None
    other: str | None = None
    present: frozenset[str] = field(default_factory=frozenset)  # an item's keys written so far


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _significant(text: str) -> bool:
    s = text.strip()
    return bool(s) and not s.startswith("#")


def checks_block(lines: list[str], row: int) -> int | None:
    """The 0-based line of the ``checks:`` key when ``row`` is inside its list, else None."""
    for i in range(row, -1, -1):
        text = lines[i].rstrip("\r\n")
        if not _significant(text) or _indent(text) > 0 or text.startswith("-"):
            continue
        if i == row:
            return None  # the top-level key itself
        return i if re.match(r"checks\s*:\s*(#.*)?$", text) else None
    return None


def _item_start(lines: list[str], top: int, row: int) -> int | None:
    """The line of the ``- `` that begins the item ``row`` is in (a ``- `` nested deeper than
    the list's first, in a block list of columns, begins none)."""
    dashes = [i for i in range(top + 1, row + 1) if re.match(r"^\s*-(\s|$)", lines[i])]
    if not dashes:
        return None
    depth = _indent(lines[dashes[0]])
    return next((i for i in reversed(dashes) if _indent(lines[i]) <= depth), None)


def check_slot(lines: list[str], row: int, col: int) -> CheckSlot | None:
    """The slot at (``row``, ``col``) of a dataset YAML's ``checks:``, or None."""
    if row >= len(lines):
        return None
    top = checks_block(lines, row)
    if top is None:
        return None
    line = lines[row].rstrip("\r\n")
    before = line[:col]
    if "#" in before:
        return None
    start = _item_start(lines, top, row)
    if start is None:
        return None
    m = re.fullmatch(r"\s*-\s+([A-Za-z_]*)", before)
    if m and start == row:
        return CheckSlot("item", m.group(1))
    head = lines[start].rstrip("\r\n")
    key_col = _key_col(head)
    keys = {k.group(2) for i in range(start, row)
            if (k := _KEY.match(lines[i])) and _key_col(lines[i]) == key_col}
    m = re.fullmatch(r"(\s*)([A-Za-z_]*)", before)
    if m and len(m.group(1)) == key_col and row > start:
        return CheckSlot("item", m.group(2), present=frozenset(keys))
    # The key whose value the cursor is in: the last one at the item's key column.
    key_row = next((i for i in range(row, start - 1, -1)
                    if _KEY.match(lines[i]) and _key_col(lines[i]) == key_col), None)
    if key_row is None:
        return None
    km = _KEY.match(lines[key_row])
    assert km is not None
    kind = km.group(2)
    if key_row == row and (len(before) < km.end() or before.endswith(":")):
        return None  # right after the colon: the value starts after a space
    first = lines[key_row].rstrip("\r\n")[km.end():] if key_row < row else before[km.end():]
    rest = " ".join([first] + [lines[i].rstrip("\r\n") for i in range(key_row + 1, row)]
                    + ([before] if key_row < row else []))
    if kind == "severity":
        sm = re.fullmatch(r"\s*([A-Za-z_]*)", rest)
        return CheckSlot("severity", sm.group(1)) if sm else None
    if kind not in COLUMN_KINDS and kind not in SETTING_KEYS:
        return None
    if key_row < row and not first.split("#")[0].strip():
        return _block(kind, before)
    return _flow(kind, rest)


def _key_col(text: str) -> int:
    m = re.match(r"\s*(?:-\s+)?", text)
    return len(m.group(0)) if m else 0


def _block(kind: str, before: str) -> CheckSlot | None:
    """A kind's settings in block style, on the lines under it (`- a` or `a: …`)."""
    m = re.fullmatch(r"\s*-\s+(" + _NAME + ")", before)
    if m and kind in ("not_null", "unique"):
        return CheckSlot("column", m.group(1).lstrip("'\""), kind)
    m = re.fullmatch(r"\s*(" + _NAME + ")", before)
    if m and kind in ("accepted_values", "range", "relationships"):
        return CheckSlot("column", m.group(1), kind)
    if m and kind in SETTING_KEYS:
        return CheckSlot("setting", m.group(1), kind)
    return None


def _flow(kind: str, rest: str) -> CheckSlot | None:
    """A kind's settings in flow style (`[a, b]`, `{col: …}`), up to the cursor."""
    stack: list[str] = []
    after_colon = False
    key = segment = ""
    for ch in rest:
        if ch in "[{":
            stack.append(ch)
            after_colon, segment = False, ""
        elif ch in "]}":
            if not stack:
                return None
            stack.pop()
            segment = ""
        elif ch == ",":
            after_colon, segment = False, ""
        elif ch == ":" and not after_colon:
            after_colon, key, segment = True, segment.strip(), ""
        else:
            segment += ch
    prefix = segment.strip().lstrip("'\"")
    if not re.fullmatch(_NAME, prefix) or not stack and re.search(r"[\[{]", rest):
        return None  # not a name, or after the value's end
    if kind in ("not_null", "unique"):
        if all(b == "[" for b in stack) and len(stack) <= (2 if kind == "unique" else 1) \
                and not after_colon:
            return CheckSlot("column", prefix, kind)
        return None
    if stack == ["{"] and not after_colon:
        if kind in SETTING_KEYS:
            return CheckSlot("setting", prefix, kind)
        return CheckSlot("column", prefix, kind)
    if stack == ["{"] and after_colon:
        if kind == "freshness" and key == "column":
            return CheckSlot("column", prefix, kind)
        if kind == "relationships":
            other, dot, column = prefix.partition(".")
            if dot:
                return CheckSlot("target-column", column, kind, other)
            return CheckSlot("dataset", prefix, kind)
        return None
    if stack == ["{", "{"] and not after_colon and kind == "range":
        return CheckSlot("setting", prefix, kind)
    return None


def kind_at(lines: list[str], row: int, col: int) -> tuple[str, int, int] | None:
    """The check kind (or ``name``/``severity``) key under the cursor in ``checks:``, and where
    it stands on the line."""
    if row >= len(lines) or checks_block(lines, row) is None:
        return None
    line = lines[row].rstrip("\r\n")
    for m in re.finditer(r"[A-Za-z_]+", line):
        if m.start() <= col <= m.end():
            word = m.group(0)
            if word not in KINDS and word not in ITEM_DOCS:
                return None
            keyed = re.match(r"\s*:", line[m.end():]) is not None
            alone = word == "schema" and re.fullmatch(r"\s*-\s*", line[:m.start()]) \
                and not line[m.end():].strip()
            at_key = _key_col(line) == m.start()
            return (word, m.start(), m.end()) if at_key and (keyed or alone) else None
    return None


def kind_markdown(word: str) -> str:
    """What a check kind (or an item key) does, with its example."""
    if word in ITEM_DOCS:
        return f"**{word}** — of a check\n\n{ITEM_DOCS[word]}"
    kind = CheckKind(word)
    example = EXAMPLES[kind]
    example = example if example.startswith("- ") else f"- {example}"
    return (f"**{word}** — data-quality check\n\n{DOCS[kind]}\n\n```yaml\n{example}\n```\n\n"
            "`severity: warning` reports a failure and publishes the output; `error` (the "
            "default) keeps the last good version live.")


def narrowed(project: Project, d: Diagnostic, text: str | None) -> Diagnostic:
    """A check's diagnostic about a wrong column or dataset, on that name rather than on the
    whole line, so its suggestion becomes a quick fix. Found from the diagnostic's fields and
    the model (the check on its line, the names it has that do not exist), never its words."""
    if d.code not in ("check-unknown-column", "check-unknown-dataset") or not d.suggestion \
            or d.end_col is not None or not d.subject or not d.subject.startswith("check:"):
        return d
    name = dataset_of(d.file)
    ds = project.datasets.get(name) if name else None
    if ds is None:
        return d
    check = next((c for c in ds.checks if c.line == d.line
                  and d.subject == f"check:{c.name}"), None)
    if check is None:
        return d
    known = {n: [c.name for c in x.schema] if x.schema else None
             for n, x in project.datasets.items()}
    wrong: list[tuple[str, list[str]]] = []  # a name that does not exist, and what does
    links = check.params["links"].values() if check.kind is CheckKind.RELATIONSHIPS else ()
    if d.code == "check-unknown-column":
        own = known.get(ds.name)
        if own is not None:
            wrong += [(c, own) for c in check.columns() if c not in own]
        wrong += [(c, theirs) for other, c in links
                  if (theirs := known.get(other)) is not None and c not in theirs]
    else:
        wrong += [(other, list(known)) for other, _ in links if other not in known]
    fits = {w for w, pool in wrong if closest(w, pool) == d.suggestion}
    if len(fits) != 1:
        return d
    where = name_on_line(text, d.line, fits.pop())
    return replace(d, **where) if where["end_col"] is not None else d


def snippet(word: str, dataset: str) -> str:
    return SNIPPETS[word].replace("NAME", dataset)


def plain(word: str) -> str:
    """What a kind inserts without snippets: the key, ready for its value."""
    return word if word == "schema" else f"{word}: "
