"""Running a dataset's checks on its staged data, in the worker, while the data is at hand.

Write, audit, publish: a worker stages an output, runs its checks here, and hands back what
they said; an output that fails an ``error`` check is discarded instead of handed back, so the
parent never commits it and the previous version stays live. Every kind but ``python`` is SQL
over the data where it lies (``weir.build.scans``: the Arrow table in memory, a staged Parquet
file, a PostgreSQL table): the rows that break the check, counted, and five of them as
examples.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa

from weir.model.checks import Check, CheckKind
from weir.build.scans import Scan, arrow_scan, q
from weir.model.project import ColumnSpec
from weir.wire import CheckResult, Severity

EXAMPLES = 5


def run_checks(dataset: str, data: pa.Table | Scan, checks: Sequence[Check],
               schema: Sequence[ColumnSpec] | None, read: Callable[[str], pa.Table],
               project_root: str, now: Callable[[], float] = time.time) -> list[CheckResult]:
    """What each check says of ``data``: a table in hand, or a ``Scan`` of data where it lies
    (``weir.build.scans``). ``read(name)``: another dataset's data, for a relationship. A
    check that cannot run (a query with an error, a python check that raises) fails with what
    went wrong, never the worker."""
    if isinstance(data, pa.Table):
        with arrow_scan(dataset, data) as scan:
            return run_checks(dataset, scan, checks, schema, read, project_root, now)
    counted = _count_filters(data, checks)
    return [_one(data, c, schema, read, project_root, now, counted.get(i))
            for i, c in enumerate(checks)]


def _count_filters(scan: Scan, checks: Sequence[Check]) -> dict[int, int]:
    """The failing rows of every row-by-row check (not_null, accepted_values, range), all
    counted in one pass over the data: on data that passes (the common case) that is all
    they cost. Empty if the query cannot run: each check then runs (and fails) alone."""
    parts, params, which = [], [], []
    for i, c in enumerate(checks):
        cond = _condition(scan, c)
        if cond is not None:
            parts.append(f"count(*) FILTER (WHERE {cond[0]})")
            params += cond[1]
            which.append(i)
    if not parts:
        return {}
    try:
        got = scan.rows(f"SELECT {', '.join(parts)} FROM _data", params)[1][0]
    except Exception:  # noqa: BLE001 - said by the check itself, when it runs alone
        scan.after_error()
        return {}
    return {i: int(n) for i, n in zip(which, got, strict=True)}


def _one(scan: Scan, check: Check, schema: Sequence[ColumnSpec] | None,
         read: Callable[[str], pa.Table], project_root: str,
         now: Callable[[], float], counted: int | None = None) -> CheckResult:
    def result(passed: bool, failing: int = 0, message: str = "",
               examples: Sequence[dict[str, Any]] = ()) -> CheckResult:
        return CheckResult(check.name, check.kind.value, check.severity, passed, failing,
                           message, tuple(_plain(e) for e in examples))

    p = check.params
    try:
        if check.kind is CheckKind.ROW_COUNT:
            n = scan.count()
            low, high = p.get("min"), p.get("max")
            ok = (low is None or n >= low) and (high is None or n <= high)
            want = " and ".join(x for x in (f"at least {low}" if low is not None else "",
                                            f"at most {high}" if high is not None else "") if x)
            return result(ok, 0 if ok else 1,
                          _count(n, "rows") + ("" if ok else f" (wanted {want})"))
        if check.kind is CheckKind.SCHEMA:
            from weir.storage.formats import schema_diff_of

            if not schema:
                return result(False, 1, "the dataset declares no schema to compare with")
            problems = schema_diff_of(list(schema), scan.schema(), lambda c: int(scan.scalar(
                f"SELECT count(*) - count({q(c)}) FROM _data")))
            return result(not problems, len(problems), "; ".join(problems))
        if check.kind is CheckKind.PYTHON:
            return _python(check, scan.table(), project_root, result)
        if check.kind is CheckKind.FRESHNESS:
            newest = scan.scalar(f"SELECT max({q(p['column'])}) FROM _data")
            if newest is None:
                return result(False, 1, f"'{p['column']}' has no values")
            if isinstance(newest, dt.datetime):
                stamp = newest.timestamp() if newest.tzinfo else newest.replace(
                    tzinfo=dt.UTC).timestamp()
            elif isinstance(newest, dt.date):
                stamp = dt.datetime(newest.year, newest.month, newest.day,
                                    tzinfo=dt.UTC).timestamp()
            else:
                return result(False, 1, f"'{p['column']}' is not a date or a timestamp")
            age = now() - stamp
            ok = age <= p["max_age"]
            return result(ok, 0 if ok else 1, f"newest {p['column']} is {newest} "
                          f"({_duration(age)} old{'' if ok else ', more than ' + _duration(p['max_age'])})")
        if counted == 0 or (check.kind is CheckKind.UNIQUE and _sorted_unique(scan, check)):
            return result(True)
        queries, what = _failing_rows(scan, check, read)
        failing = 0
        examples: list[dict[str, Any]] = []
        for query, params in queries:
            n = int(scan.scalar(f"SELECT count(*) FROM ({query}) AS failing", params))
            failing += n
            if n and len(examples) < EXAMPLES:
                names, rows = scan.rows(f"SELECT * FROM ({query}) AS failing "
                                        f"LIMIT {EXAMPLES - len(examples)}", params)
                examples += [dict(zip(names, row, strict=True)) for row in rows]
        return result(not failing, failing, _count(failing, what) if failing else "", examples)
    except Exception as exc:  # noqa: BLE001 - a check that cannot run fails, the build goes on
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        scan.after_error()
        return result(False, 1, f"the check could not run: {message}")


def _condition(scan: Scan, check: Check) -> tuple[str, list[Any]] | None:
    """The condition of a row breaking a row-by-row check, with its parameters; None for the
    other kinds."""
    p, ph = check.params, scan.placeholder
    if check.kind is CheckKind.NOT_NULL:
        return " OR ".join(f"{q(c)} IS NULL" for c in p["columns"]), []
    if check.kind is CheckKind.ACCEPTED_VALUES:
        conds, params = [], []
        for column, values in p["values"].items():
            conds.append(f"({q(column)} IS NOT NULL AND {q(column)} NOT IN "
                         f"({', '.join(ph for _ in values)}))")
            params += values
        return " OR ".join(conds), params
    if check.kind is CheckKind.RANGE:
        conds, params = [], []
        for column, (low, high) in p["bounds"].items():
            if low is not None:
                conds.append(f"{q(column)} < {ph}")
                params.append(low)
            if high is not None:
                conds.append(f"{q(column)} > {ph}")
                params.append(high)
        return " OR ".join(conds), params
    return None


def _sorted_unique(scan: Scan, check: Check) -> bool:
    """Whether a unique check on integer (or temporal) columns, one column per set, passes,
    found by sorting (many times faster than grouping); False when it fails or cannot be
    found this way — the query then counts it and finds examples."""
    import numpy as np

    for cols in check.params["sets"]:
        if len(cols) != 1:
            return False
        try:
            got = scan.integers(cols[0])
        except Exception:  # noqa: BLE001 - the query says what is wrong
            return False
        if got is None:
            return False
        values, nulls = got
        if nulls > 1:  # nulls group together, as in the query's GROUP BY
            return False
        ordered = np.sort(values)
        if len(ordered) > 1 and bool((ordered[1:] == ordered[:-1]).any()):
            return False
    return True


def _failing_rows(scan: Scan, check: Check, read: Callable[[str], pa.Table]
                  ) -> tuple[list[tuple[str, list[Any]]], str]:
    """The queries of the rows breaking ``check`` (one per part: a unique check's each set of
    columns), each with its parameters, and what one row is."""
    p = check.params
    cond = _condition(scan, check)
    if cond is not None:
        what = {CheckKind.NOT_NULL: "rows with a null",
                CheckKind.ACCEPTED_VALUES: "rows with a value not accepted",
                CheckKind.RANGE: "rows out of range"}[check.kind]
        return [(f"SELECT * FROM _data WHERE {cond[0]}", cond[1])], what
    if check.kind is CheckKind.UNIQUE:
        parts: list[tuple[str, list[Any]]] = []
        for cols in p["sets"]:
            keys = ", ".join(q(c) for c in cols)
            parts.append((f"SELECT {keys}, count(*) AS times FROM _data GROUP BY {keys} "
                          "HAVING count(*) > 1", []))
        return parts, "values found more than once"
    if check.kind is CheckKind.RELATIONSHIPS:
        conds = []
        for i, (column, (other, their)) in enumerate(p["links"].items()):
            where = scan.other(i, other, their, read)
            conds.append(f"({q(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {where} o "
                         f"WHERE o.{q(their)} = _data.{q(column)}))")
        return [(f"SELECT * FROM _data WHERE {' OR '.join(conds)}", [])], \
            "rows whose value is not in the other dataset"
    assert check.kind is CheckKind.SQL
    return [(p["query"].strip().rstrip(";"), [])], "rows returned by the query"


def _python(check: Check, table: pa.Table, project_root: str,
            result: Callable[..., CheckResult]) -> CheckResult:
    """``module:function`` of the project, given the data as a pandas DataFrame; it returns
    True/False, or ``(passed, message)``."""
    module_name, _, function = check.params["function"].partition(":")
    for where in (project_root, f"{project_root}/recipes"):
        if where not in sys.path:
            sys.path.insert(0, where)
    module = importlib.import_module(module_name)
    fn = getattr(module, function, None)
    if not callable(fn):
        return result(False, 1, f"{module_name} has no function '{function}'")
    said = fn(table.to_pandas())
    passed, message = (said if isinstance(said, tuple) and len(said) == 2 else (said, ""))
    return result(bool(passed), 0 if passed else 1, str(message or ""))


def _count(n: int, what: str) -> str:
    """``3 rows with a null``, ``1 row with a null``, ``1 value found more than once``."""
    head, _, rest = what.partition(" ")
    if n == 1 and head.endswith("s"):
        head = head[:-1]
    return f"{n} {head}" + (f" {rest}" if rest else "")


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON can say it (dates and decimals as text)."""
    out = {}
    for k, v in row.items():
        out[str(k)] = v if v is None or isinstance(v, (bool, int, float, str)) else str(v)
    return out


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0", "")
    return f"{seconds:.0f}s"


def failed_errors(results: Sequence[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.passed and r.severity is Severity.ERROR]


def describe(dataset: str, failures: Sequence[CheckResult]) -> str:
    """The error of an output its checks rejected: each failed check, with examples."""
    lines = []
    for r in failures:
        lines.append(f"check {r.name} failed on '{dataset}'" + (f": {r.message}" if r.message
                                                                 else ""))
        for e in r.examples:
            lines.append("    " + ", ".join(f"{k}={v!r}" for k, v in e.items()))
    return "\n".join(lines)
