"""A dataset's metrics, measured at every build from the data in the worker's hands: its row
count and, per column, nulls, min, max, an estimate of distinct values and the mean of a
number. Cheap by design: Arrow's kernels on a small table (a fraction of a millisecond),
DuckDB's one-pass aggregates (HyperLogLog for distinct values) on a big one, so measuring never
costs a build more than a small part of writing its output."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from weir.wire import ColumnMetrics, Metrics

SMALL = 100_000  # rows: below, Arrow's kernels (exact distinct); above, DuckDB's estimates


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def _measurable(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_temporal(t) \
        or pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t) \
        or pa.types.is_decimal(t)


def _number(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def measure(table: pa.Table) -> Metrics:
    if table.num_rows >= SMALL:
        return _measure_big(table)
    columns = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        lo = hi = mean = distinct = None
        if _measurable(col.type) and len(col) > col.null_count:
            mm = pc.min_max(col)
            lo, hi = _plain(mm["min"].as_py()), _plain(mm["max"].as_py())
            distinct = pc.count_distinct(col).as_py()
            if _number(col.type):
                mean = _plain(pc.mean(col).as_py())
        columns.append(ColumnMetrics(name, col.null_count, lo, hi, distinct, mean))
    return Metrics(table.num_rows, tuple(columns))


def _measure_big(table: pa.Table) -> Metrics:
    import duckdb

    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    parts, which = [], []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if not _measurable(col.type):
            continue
        c = q(name)
        parts += [f"min({c})", f"max({c})", f"approx_count_distinct({c})",
                  f"avg({c})" if _number(col.type) else "NULL"]
        which.append(name)
    values: list[Any] = []
    if parts:
        con = duckdb.connect()
        try:
            con.register("_data", table)
            values = list(con.execute(f"SELECT {', '.join(parts)} FROM _data").fetchall()[0])
        finally:
            con.close()
    got = {n: values[i * 4:i * 4 + 4] for i, n in enumerate(which)}
    columns = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        lo, hi, distinct, mean = got.get(name, [None] * 4)
        columns.append(ColumnMetrics(name, col.null_count, _plain(lo), _plain(hi),
                                     int(distinct) if distinct is not None else None,
                                     _plain(mean)))
    return Metrics(table.num_rows, tuple(columns))
