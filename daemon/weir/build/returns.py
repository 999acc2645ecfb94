"""What a recipe returns (or a person writes with ``Dataset.write``), as what a backend writes.

Apart from the worker so that writing a dataset from a notebook or a script uses the same
conversions and says a wrong value the same way, without importing the worker itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas
import pyarrow as pa

from weir.errors import WeirError


class RecipeError(WeirError):
    """A mistake in what the recipe did (wrong return value, schema mismatch, a query the
    database refuses): said at ``where`` (``file:line``), without a traceback."""

    def __init__(self, message: str, hint: str | None = None, where: str | None = None) -> None:
        super().__init__(message, hint)
        self.where = where


def as_writable(name: str, value: Any, said: str | None = None) -> Any:
    """What a recipe returned, as something a backend can write: an Arrow table or reader, or
    a stream of record batches (from a generator of batches, tables or frames). ``said`` is
    how a wrong value is described, ``{}`` standing for what it is ("recipe 'x' returned {}")."""
    said = said or f"the data written to '{name}' is {{}}"
    if isinstance(value, (pa.Table, pa.RecordBatchReader, pandas.DataFrame)) \
            or type(value).__module__.split(".")[0] in ("polars", "duckdb"):
        return _to_arrow(value, said)
    if isinstance(value, Iterator) or isinstance(value, (list, tuple)) and value \
            and not isinstance(value[0], (int, float, str)):
        return _stream(iter(value), said.format("a batch that is {}"))
    return _to_arrow(value, said)


def _stream(items: Iterator[Any], said: str) -> Iterator[pa.RecordBatch]:
    for item in items:
        if isinstance(item, pa.RecordBatch):
            yield item
            continue
        table = _to_arrow(item, said)
        if isinstance(table, pa.RecordBatchReader):
            yield from table
        else:
            yield from table.to_batches()


_RETURNS = ("a recipe returns a pandas or polars DataFrame, a pyarrow Table or a DuckDB "
            "relation, or yields them batch by batch; one with several outputs returns a dict "
            "of them by output name")


def _to_arrow(value: Any, said: str) -> pa.Table | pa.RecordBatchReader:
    if isinstance(value, (pa.Table, pa.RecordBatchReader)):
        return value
    if isinstance(value, pandas.DataFrame):
        # pyarrow starts a thread pool per call by default: a loss for small frames.
        threads = 1 if len(value) < 100_000 else None
        return pa.Table.from_pandas(value, preserve_index=False, nthreads=threads)
    module = type(value).__module__.split(".")[0]
    if module == "polars" and hasattr(value, "to_arrow"):
        return value.to_arrow()
    if module == "duckdb" and hasattr(value, "to_arrow_table"):
        return value.to_arrow_table()
    if module == "pyspark":
        raise RecipeError(f"{said.format('a Spark DataFrame')}, which only a recipe that takes "
                          "Spark DataFrames can return", hint="annotate its inputs "
                          "pyspark.sql.DataFrame (weir then runs it in a Spark session), or "
                          "return df.toPandas()")
    if value is None:
        raise RecipeError(f"{said.format('None')}, not a DataFrame",
                          hint=f"is a `return` missing? {_RETURNS}")
    kind = type(value).__name__
    article = "an" if kind[0].lower() in "aeiou" else "a"
    raise RecipeError(f"{said.format(f'{article} {kind}')}, not a DataFrame", hint=_RETURNS)
