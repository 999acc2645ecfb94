"""A dataset's metrics, measured at every build from the data in the worker's hands: its row
count and, per column, nulls, min, max, an estimate of distinct values and the mean of a
number. Cheap by design: Arrow's kernels on a small table (a fraction of a millisecond),
DuckDB's one-pass aggregates (HyperLogLog for distinct values) on a big one, and the same
aggregates where data lies when it is not in memory (a streamed output's staged file, a table
PostgreSQL computed), so measuring never costs a build more than a small part of writing its
output."""

from __future__ import annotations

import threading
from collections.abc import Iterator
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
    aggregate query, one pass over the columns it names. What is known without it is not
    asked: ``nulls`` and ``rows`` from the caller (an Arrow table knows them), a Parquet
    file's nulls, min and max from its footer."""
    schema = scan.schema()
    known = scan.known()
    parts: list[str] = [] if rows is not None else ["count(*)"]
    asked: dict[str, dict[str, int]] = {}  # column -> measure -> index in the row

    def ask(column: str, measure: str, sql: str) -> None:
        asked.setdefault(column, {})[measure] = len(parts)
        parts.append(sql)

    for field in schema:
        c = q(field.name)
        if nulls is None and field.name not in known:
            ask(field.name, "nulls", f"count(*) - count({c})")
        if _measurable(field.type):
            if field.name not in known:
                lo, hi = scan.min_max(field.name, field.type)
                ask(field.name, "min", lo)
                ask(field.name, "max", hi)
            ask(field.name, "distinct", scan.distinct(field.name))
            if _number(field.type):
                ask(field.name, "mean", f"avg({c})")
    values = list(scan.rows(f"SELECT {', '.join(parts)} FROM _data")[1][0]) if parts else []
    if rows is None:
        rows = int(values[0])
    columns = []
    for field in schema:
        got = {m: values[i] for m, i in asked.get(field.name, {}).items()}
        if field.name in known:
            n, lo, hi = known[field.name]
            got.setdefault("nulls", n)
            got.update(min=lo, max=hi)
        elif nulls is not None:
            got["nulls"] = nulls[field.name]
        distinct, mean = got.get("distinct"), got.get("mean")
        columns.append(ColumnMetrics(
            field.name, int(got["nulls"]) if nulls is None else nulls[field.name],
            _plain(got.get("min")), _plain(got.get("max")),
            int(distinct) if distinct is not None else None,
            float(mean) if mean is not None else None))
    return Metrics(rows, tuple(columns))


class StreamMeasure:
    """The metrics of a stream, measured as it goes by, in a thread beside the one writing it.

    A streamed output's batches pass through ``tee``; a DuckDB query in another thread reads
    them as they come, through a short queue, so measuring takes the core the writer leaves
    idle instead of a pass over the staged file after it (the query releases the GIL; the
    queue's bound keeps at most a few batches in memory, and makes the writer wait if the
    query falls behind). A query that fails costs only the metrics: the stream goes on."""

    def __init__(self, depth: int = 4) -> None:
        import queue

        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        self._result: Metrics | None = None
        self._failed = threading.Event()

    def tee(self, data: Any) -> Any:
        def batches() -> Iterator[pa.RecordBatch]:
            try:
                for batch in data:
                    if self._thread is None:
                        self._start(batch.schema)
                    if not self._failed.is_set():
                        self._queue.put(batch)
                    yield batch
            finally:
                self._end()

        if isinstance(data, pa.RecordBatchReader):
            return pa.RecordBatchReader.from_batches(data.schema, batches())
        return batches()

    def _start(self, schema: pa.Schema) -> None:
        def incoming() -> Iterator[pa.RecordBatch]:
            while (batch := self._queue.get()) is not None:
                yield batch

        def run() -> None:
            from weir.build.scans import DuckScan

            reader = pa.RecordBatchReader.from_batches(schema, incoming())
            try:
                scan = DuckScan("_measured", table=None, reader=reader)
                try:
                    self._result = measure_scan(scan)
                finally:
                    scan.close()
            except Exception:  # noqa: BLE001 - no metrics this time; the build goes on
                self._failed.set()
                while self._queue.get() is not None:  # let the writer go on
                    pass

        self._thread = threading.Thread(target=run, name="weir-measure", daemon=True)
        self._thread.start()

    def _end(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)

    def result(self) -> Metrics | None:
        """The metrics, once the stream has ended (None if they could not be measured)."""
        if self._thread is None:
            return None
        self._thread.join()
        return self._result
