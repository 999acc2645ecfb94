"""A dataset's metrics, measured at every build from the data in the worker's hands: its row
count and, per column, nulls, min, max, an estimate of distinct values and the mean of a
number. Cheap by design: Arrow's kernels on a small table (a fraction of a millisecond),
DuckDB's one-pass aggregates (HyperLogLog for distinct values) on a big one, and the same
aggregates where data lies when it is not in memory (a streamed output's staged file, a table
PostgreSQL computed), so measuring never costs a build more than a small part of writing its
output."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from weir.build.scans import Scan, q
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
    from weir.build.scans import arrow_scan

    with arrow_scan("_measured", table) as scan:
        return measure_scan(scan, {c: table.column(c).null_count for c in table.column_names},
                            table.num_rows)


def measure_scan(scan: Scan, nulls: dict[str, int] | None = None,
                 rows: int | None = None) -> Metrics:
    """The metrics of data where it lies (a staged Parquet file, a PostgreSQL table): one
    aggregate query, one pass over the columns it names. ``nulls`` and ``rows``, when the
    caller knows them (an Arrow table does), are not asked of the engine."""
    schema = scan.schema()
    parts: list[str] = [] if rows is not None else ["count(*)"]
    which = []
    for field in schema:
        c = q(field.name)
        if nulls is None:
            parts.append(f"count(*) - count({c})")
        if _measurable(field.type):
            lo, hi = scan.min_max(field.name, field.type)
            parts += [lo, hi, scan.distinct(field.name),
                      f"avg({c})" if _number(field.type) else "NULL"]
            which.append(field.name)
    values = list(scan.rows(f"SELECT {', '.join(parts)} FROM _data")[1][0]) if parts else []
    if rows is None:
        rows = int(values.pop(0))
    counted = {}
    if nulls is None:
        nulls = {}
        for field in schema:
            nulls[field.name] = int(values.pop(0))
            counted[field.name] = values[:4] if field.name in which else None
            if field.name in which:
                del values[:4]
    else:
        counted = {n: values[i * 4:i * 4 + 4] for i, n in enumerate(which)}
    columns = []
    for field in schema:
        lo, hi, distinct, mean = counted.get(field.name) or [None] * 4
        columns.append(ColumnMetrics(field.name, nulls[field.name], _plain(lo), _plain(hi),
                                     int(distinct) if distinct is not None else None,
                                     float(mean) if mean is not None else None))
    return Metrics(rows, tuple(columns))
