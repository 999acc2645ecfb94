"""Data-quality checks as a dataset's YAML declares them (``checks:``), read without running
anything.

Each item of ``checks:`` is one check: a mapping with exactly one kind key (``not_null: [a]``,
``range: {amount: {min: 0}}``…), an optional ``name`` and ``severity`` (``error``, the default,
or ``warning``); ``- schema`` alone is the schema check. What a check's parameters are is
normalised here to plain values (lists, numbers, text), so a check crosses the pipe to the
worker that runs it as it is, and every mistake in a declaration is a diagnostic at its line.
Whether the columns and datasets it names exist is the loader's to say
(:func:`check_references`), once every dataset is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from weir.model.diagnostics import Diagnostic, Severity, Span, whole_line
from weir.model.durations import parse_duration
from weir.model.suggest import closest, hint_for
from weir.model.yamlfile import LineDict


class CheckKind(str, Enum):
    ROW_COUNT = "row_count"
    NOT_NULL = "not_null"
    UNIQUE = "unique"
    ACCEPTED_VALUES = "accepted_values"
    RANGE = "range"
    RELATIONSHIPS = "relationships"
    FRESHNESS = "freshness"
    SCHEMA = "schema"
    SQL = "sql"
    PYTHON = "python"


KINDS = tuple(k.value for k in CheckKind)
ITEM_KEYS = (*KINDS, "name", "severity")
EXAMPLES = {
    CheckKind.ROW_COUNT: "row_count: {min: 1}",
    CheckKind.NOT_NULL: "not_null: [order_id, customer_id]",
    CheckKind.UNIQUE: "unique: [order_id]  (a combination: unique: [[day, store]])",
    CheckKind.ACCEPTED_VALUES: "accepted_values: {status: [placed, shipped]}",
    CheckKind.RANGE: "range: {amount: {min: 0, max: 10000}}",
    CheckKind.RELATIONSHIPS: "relationships: {customer_id: customers.customer_id}",
    CheckKind.FRESHNESS: "freshness: {column: ordered_at, max_age: 2d}",
    CheckKind.SCHEMA: "- schema",
    CheckKind.SQL: "sql: SELECT * FROM orders WHERE amount < 0",
    CheckKind.PYTHON: "python: checks:no_refunds",
}


@dataclass(frozen=True)
class Check:
    """One declared check. ``params`` by kind (plain values, so it pickles and prints):

    - row_count: ``{"min": n | None, "max": n | None}``
    - not_null: ``{"columns": [a, b]}``
    - unique: ``{"sets": [[a], [b, c]]}`` (each set of columns unique together)
    - accepted_values: ``{"values": {column: [v, …]}}``
    - range: ``{"bounds": {column: [min | None, max | None]}}``
    - relationships: ``{"links": {column: [dataset, column]}}``
    - freshness: ``{"column": c, "max_age": seconds}``
    - schema: ``{}``; sql: ``{"query": text}``; python: ``{"function": "module:function"}``
    """

    kind: CheckKind
    name: str
    severity: Severity
    line: int
    params: Mapping[str, Any]

    def columns(self) -> list[str]:
        """The dataset's own columns this check reads (to tell an unknown one)."""
        p = self.params
        if self.kind is CheckKind.NOT_NULL:
            return list(p["columns"])
        if self.kind is CheckKind.UNIQUE:
            return [c for s in p["sets"] for c in s]
        if self.kind is CheckKind.ACCEPTED_VALUES:
            return list(p["values"])
        if self.kind is CheckKind.RANGE:
            return list(p["bounds"])
        if self.kind is CheckKind.RELATIONSHIPS:
            return list(p["links"])
        if self.kind is CheckKind.FRESHNESS:
            return [p["column"]]
        return []


def parse_checks(file: str, value: Any, where: Span) -> tuple[tuple[Check, ...], list[Diagnostic]]:
    """``checks:`` of a dataset file (``where``: the key, for a mistake in the list itself)."""
    if value is None:
        return (), []
    if not isinstance(value, list):
        return (), [Diagnostic(file, message="`checks` must be a list of checks",
                               code="invalid-checks", subject="key:checks",
                               hint="e.g.\n  checks:\n    - not_null: [order_id]", **where)]
    checks: list[Check] = []
    diags: list[Diagnostic] = []
    names: dict[str, int] = {}
    for item in value:
        check = _parse_item(file, item, where, diags)
        if check is None:
            continue
        if check.name in names:
            diags.append(Diagnostic(file, message=f"two checks are named '{check.name}' (the "
                                    f"other at line {names[check.name]})",
                                    code="duplicate-check", subject=f"check:{check.name}",
                                    hint="give one of them its own `name:`",
                                    **whole_line(check.line)))
            continue
        names[check.name] = check.line
        checks.append(check)
    return tuple(checks), diags


def _parse_item(file: str, item: Any, where: Span, diags: list[Diagnostic]) -> Check | None:
    if item == "schema":
        return Check(CheckKind.SCHEMA, "schema", Severity.ERROR, where["line"], {})
    if not isinstance(item, LineDict):
        best = closest(str(item), KINDS) if isinstance(item, str) else None
        diags.append(Diagnostic(file, message=f"a check must be a mapping like "
                                f"`not_null: [id]`, not {item!r}", code="invalid-check",
                                subject="key:checks", suggestion=best,
                                hint=hint_for(best) or f"check kinds: {', '.join(KINDS)}",
                                **where))
        return None
    line = item.line
    bad = False
    for key in item:
        if key not in ITEM_KEYS:
            best = closest(key, ITEM_KEYS)
            diags.append(Diagnostic(file, message=f"unknown check kind '{key}'",
                                    code="unknown-check", subject=f"key:{key}", suggestion=best,
                                    hint=hint_for(best) or f"check kinds: {', '.join(KINDS)}",
                                    **item.key_span(key)))
            bad = True
    kinds = [k for k in item if k in KINDS]
    if bad:
        return None
    if len(kinds) != 1:
        diags.append(Diagnostic(file, message="a check has exactly one kind"
                                + (f" (this one has {', '.join(kinds)})" if kinds else ""),
                                code="invalid-check", subject="key:checks",
                                hint="one `- kind: …` item per check", **whole_line(line)))
        return None
    kind = CheckKind(kinds[0])
    severity = Severity.ERROR
    if "severity" in item:
        raw = item["severity"]
        if raw not in ("error", "warning"):
            diags.append(Diagnostic(file, message=f"severity must be error or warning, not "
                                    f"{raw!r}", code="invalid-severity", subject="key:severity",
                                    **item.value_span("severity")))
            return None
        severity = Severity(raw)
    name = item.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        diags.append(Diagnostic(file, message="a check's `name` must be text",
                                code="invalid-value", subject="key:name",
                                **item.value_span("name")))
        return None
    params = _params(file, kind, item[kind.value], item, diags)
    if params is None:
        return None
    return Check(kind, name or _default_name(kind, params), severity, line, params)


def _fail(file: str, kind: CheckKind, item: LineDict, diags: list[Diagnostic],
          why: str) -> None:
    diags.append(Diagnostic(file, message=f"`{kind.value}` {why}", code="invalid-check",
                            subject=f"key:{kind.value}", hint=f"e.g. {EXAMPLES[kind]}",
                            **item.value_span(kind.value)))


def _names(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _params(file: str, kind: CheckKind, value: Any, item: LineDict,
            diags: list[Diagnostic]) -> dict[str, Any] | None:
    def fail(why: str) -> None:
        _fail(file, kind, item, diags, why)

    if kind is CheckKind.SCHEMA:
        if value not in (True, None):
            fail("takes no settings")
            return None
        return {}
    if kind in (CheckKind.SQL, CheckKind.PYTHON):
        if not isinstance(value, str) or not value.strip():
            fail("needs a query" if kind is CheckKind.SQL else "needs `module:function`")
            return None
        if kind is CheckKind.PYTHON:
            module, _, function = value.partition(":")
            if not module or not function.isidentifier():
                fail(f"names a function as `module:function`, not {value!r}")
                return None
            return {"function": value.strip()}
        return {"query": value}
    if kind is CheckKind.NOT_NULL:
        columns = _names(value)
        if columns is None:
            fail("needs a list of columns")
            return None
        return {"columns": columns}
    if kind is CheckKind.UNIQUE:
        sets: list[list[str]] = []
        for entry in value if isinstance(value, list) else [value]:
            names = _names(entry)
            if names is None:
                fail("needs a list of columns (or of lists of columns, unique together)")
                return None
            sets.append(names if isinstance(entry, list) else [entry])
        if not sets:
            fail("needs a list of columns")
            return None
        return {"sets": sets}
    if kind is CheckKind.ROW_COUNT:
        if not isinstance(value, dict) or not set(value) <= {"min", "max"} or not value \
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                           for v in value.values()):
            fail("needs `min` and/or `max`, whole numbers")
            return None
        return {"min": value.get("min"), "max": value.get("max")}
    if kind is CheckKind.ACCEPTED_VALUES:
        if not isinstance(value, dict) or not value or not all(
                isinstance(v, list) and v for v in value.values()):
            fail("maps each column to the list of values it may hold")
            return None
        return {"values": {str(c): list(v) for c, v in value.items()}}
    if kind is CheckKind.RANGE:
        bounds: dict[str, list[Any]] = {}
        if not isinstance(value, dict) or not value:
            fail("maps each column to its `min` and/or `max`")
            return None
        for column, b in value.items():
            if not isinstance(b, dict) or not b or not set(b) <= {"min", "max"} \
                    or not all(_number(v) or isinstance(v, str) for v in b.values()):
                fail(f"needs `min` and/or `max` for '{column}'")
                return None
            bounds[str(column)] = [b.get("min"), b.get("max")]
        return {"bounds": bounds}
    if kind is CheckKind.RELATIONSHIPS:
        links: dict[str, list[str]] = {}
        if not isinstance(value, dict) or not value:
            fail("maps each column to `dataset.column`")
            return None
        for column, target in value.items():
            ds, _, col = str(target).partition(".")
            if not isinstance(target, str) or not ds or not col:
                fail(f"maps '{column}' to `dataset.column`, not {target!r}")
                return None
            links[str(column)] = [ds, col]
        return {"links": links}
    assert kind is CheckKind.FRESHNESS
    if not isinstance(value, dict) or set(value) != {"column", "max_age"} \
            or not isinstance(value["column"], str):
        fail("needs `column` and `max_age`")
        return None
    age = parse_duration(value["max_age"])
    if age is None or age <= 0:
        fail(f"has a `max_age` weir cannot read: {value['max_age']!r} (e.g. 36h, 2d)")
        return None
    return {"column": value["column"], "max_age": age}


def _default_name(kind: CheckKind, params: Mapping[str, Any]) -> str:
    """A name that says what the check is, for reports and `failed: check <name>`."""
    if kind is CheckKind.NOT_NULL:
        return f"not_null({', '.join(params['columns'])})"
    if kind is CheckKind.UNIQUE:
        return "unique(" + "; ".join(", ".join(s) for s in params["sets"]) + ")"
    if kind in (CheckKind.ACCEPTED_VALUES, CheckKind.RANGE, CheckKind.RELATIONSHIPS):
        key = {"accepted_values": "values", "range": "bounds",
               "relationships": "links"}[kind.value]
        return f"{kind.value}({', '.join(params[key])})"
    if kind is CheckKind.FRESHNESS:
        return f"freshness({params['column']})"
    if kind is CheckKind.PYTHON:
        return params["function"]
    return kind.value


def check_references(file: str, dataset: str, checks: tuple[Check, ...],
                     columns: list[str] | None, known: Mapping[str, list[str] | None]
                     ) -> list[Diagnostic]:
    """What the checks name that does not exist: a column of the dataset (when its columns are
    known: a declared schema), a dataset a relationship points to, or that dataset's column."""
    diags: list[Diagnostic] = []
    for check in checks:
        if columns is not None:
            for column in check.columns():
                if column not in columns:
                    best = closest(column, columns)
                    diags.append(Diagnostic(
                        file, message=f"check {check.name}: '{dataset}' has no column "
                        f"'{column}'", code="check-unknown-column", subject=f"check:{check.name}",
                        suggestion=best, hint=hint_for(best) or
                        f"its columns: {', '.join(columns)}", **whole_line(check.line)))
        if check.kind is CheckKind.RELATIONSHIPS:
            for other, column in check.params["links"].values():
                if other not in known:
                    best = closest(other, list(known))
                    diags.append(Diagnostic(
                        file, message=f"check {check.name}: no dataset '{other}'",
                        code="check-unknown-dataset", subject=f"check:{check.name}",
                        suggestion=best, hint=hint_for(best), **whole_line(check.line)))
                elif (theirs := known[other]) is not None and column not in theirs:
                    best = closest(column, theirs)
                    diags.append(Diagnostic(
                        file, message=f"check {check.name}: '{other}' has no column "
                        f"'{column}'", code="check-unknown-column", subject=f"check:{check.name}",
                        suggestion=best, hint=hint_for(best), **whole_line(check.line)))
    return diags
