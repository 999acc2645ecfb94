"""Where checks and metrics read a dataset's data: one SQL relation, ``_data``, in the engine
that can read it without moving it.

Checks and metrics are SQL over ``_data`` (and over the dataset's own name, which a ``sql:``
check uses), so the same code audits three places:

- an Arrow table in the worker's memory (the common case: the recipe returned its data), read
  by DuckDB in place, no copy;
- a Parquet file, scanned by DuckDB column by column and batch by batch: a streamed output is
  staged first and audited from its staged file, so no check needs it whole in memory;
- a table in PostgreSQL, queried there: the data of an in-database SQL recipe never leaves the
  server, and a ``sql:`` check on a PostgreSQL dataset is PostgreSQL's SQL, like its recipes.

What a scan cannot do in its engine (a ``python:`` check wants a DataFrame) it reads whole,
once, and only for that check.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from weir.storage.base import Backend

# DuckDB's own memory, in a worker: what a streamed output's checks (a unique key's hash
# table) may hold before DuckDB spills to disk, so a worker stays well under 1 GiB.
DUCKDB_MEMORY = "512MB"


def q(name: str) -> str:
    """An identifier, quoted for DuckDB and PostgreSQL alike."""
    return '"' + name.replace('"', '""') + '"'


class Scan(ABC):
    """A dataset's data as the relation ``_data`` of one SQL engine."""

    placeholder = "?"  # how this engine's queries take a parameter

    @abstractmethod
    def rows(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        """Run a query: its column names and rows."""

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.rows(sql, params)[1][0][0]

    @abstractmethod
    def schema(self) -> pa.Schema:
        ...

    def count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM _data"))

    @abstractmethod
    def table(self) -> pa.Table:
        """The whole data in memory (for what only Python can check)."""

    def write_parquet(self, path: str) -> None:
        """All of it to a Parquet file (what a rejected output keeps)."""
        import pyarrow.parquet as pq

        pq.write_table(self.table(), path)

    @abstractmethod
    def other(self, index: int, dataset: str, column: str,
              read: Callable[[str], pa.Table]) -> str:
        """A relation holding ``column`` of another dataset (a relationship's other side)."""

    def known(self) -> dict[str, tuple[int, Any, Any]]:
        """What is known of columns without reading rows: ``name -> (nulls, min, max)``."""
        return {}

    def integers(self, column: str) -> Any:
        """An integer or temporal column as a NumPy array of int64 with its null count, when
        the engine can give it cheaply (a sort finds duplicates many times faster than a
        hash aggregate); None otherwise."""
        return None

    def after_error(self) -> None:  # noqa: B027 - most engines need nothing
        """A query failed (a check that cannot run): make the session usable again."""

    def distinct(self, column: str) -> str:
        """The SQL of a column's distinct-value count, estimated where the engine can."""
        return f"approx_count_distinct({q(column)})"

    def min_max(self, column: str, type_: pa.DataType) -> tuple[str, str]:
        return f"min({q(column)})", f"max({q(column)})"


class DuckScan(Scan):
    """An Arrow table or a Parquet file, read by an in-process DuckDB."""

    def __init__(self, dataset: str, table: pa.Table | None = None,
                 parquet: str | None = None,
                 kept: Mapping[str, pa.ChunkedArray] | None = None,
                 reader: pa.RecordBatchReader | None = None) -> None:
        """``kept``: columns of a streamed output held while it was staged (a unique key),
        so they need not be read back. ``reader``: a stream, read once (by one query)."""
        import duckdb

        self._table, self._parquet, self._kept = table, parquet, dict(kept or {})
        self._reader = reader
        self.con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY})
        if reader is not None:
            self.con.register("_data", reader)
        elif table is not None:
            self.con.register("_data", table)
            self.con.register(dataset, table)
        else:
            assert parquet is not None
            source = "read_parquet('" + parquet.replace("'", "''") + "')"
            self.con.execute(f"CREATE VIEW _data AS SELECT * FROM {source}")
            self.con.execute(f"CREATE VIEW {q(dataset)} AS SELECT * FROM _data")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        rel = self.con.execute(sql, list(params) or None)
        return [d[0] for d in rel.description], rel.fetchall()

    def schema(self) -> pa.Schema:
        if self._reader is not None:
            return self._reader.schema
        if self._table is not None:
            return self._table.schema
        import pyarrow.parquet as pq

        assert self._parquet is not None
        return pq.read_schema(self._parquet)

    def count(self) -> int:
        if self._table is not None:
            return self._table.num_rows
        if self._parquet is not None:
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(self._parquet).metadata.num_rows)
        return super().count()

    def known(self) -> dict[str, tuple[int, Any, Any]]:
        """A Parquet file's footer has each row group's nulls, min and max (of numbers,
        strings and booleans here: a temporal value's text would differ from a query's)."""
        if self._parquet is None:
            return {}
        import pyarrow.parquet as pq

        md = pq.ParquetFile(self._parquet).metadata
        schema = md.schema.to_arrow_schema()
        out: dict[str, tuple[int, Any, Any]] = {}
        for j, field in enumerate(schema):
            t = field.type
            if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                    or pa.types.is_string(t) or pa.types.is_large_string(t)):
                continue
            if md.schema.column(j).path != field.name:
                continue  # a nested column: its leaves are not the column
            nulls, lo, hi, ok = 0, None, None, True
            for i in range(md.num_row_groups):
                st = md.row_group(i).column(j).statistics
                if st is None or not st.has_null_count:
                    ok = False
                    break
                nulls += st.null_count
                if st.has_min_max:
                    lo = st.min if lo is None else min(lo, st.min)
                    hi = st.max if hi is None else max(hi, st.max)
                elif md.row_group(i).column(j).num_values > st.null_count:
                    ok = False  # values, but no min and max said: not known
                    break
            if ok and not (pa.types.is_floating(t) and _nan(lo, hi)):
                out[field.name] = (nulls, lo, hi)
        return out

    def integers(self, column: str) -> Any:
        if column in self._kept:
            col = self._kept[column]
        elif self._table is not None:
            col = self._table.column(column)
        else:
            import pyarrow.parquet as pq

            assert self._parquet is not None
            col = pq.read_table(self._parquet, columns=[column]).column(0)
        t = col.type
        if not (pa.types.is_integer(t) or pa.types.is_temporal(t)) or pa.types.is_time(t):
            return None
        nulls = col.null_count
        values = col.drop_null() if nulls else col
        import numpy as np

        arr = values.cast(pa.int64()).to_numpy() if not pa.types.is_int64(t) else \
            values.to_numpy()
        return np.asarray(arr, dtype=np.int64), nulls

    def table(self) -> pa.Table:
        if self._table is not None:
            return self._table
        import pyarrow.parquet as pq

        assert self._parquet is not None
        return pq.read_table(self._parquet)

    def write_parquet(self, path: str) -> None:
        if self._parquet is None:
            super().write_parquet(path)
            return
        import shutil

        shutil.copyfile(self._parquet, path)  # it is one already: no need to read it

    def other(self, index: int, dataset: str, column: str,
              read: Callable[[str], pa.Table]) -> str:
        name = f"_other{index}"
        self.con.register(name, read(dataset).select([column]))
        return name

    def close(self) -> None:
        self.con.close()


class PostgresScan(Scan):
    """A table on a PostgreSQL server, queried there. ``_data`` and the dataset's name are
    temporary views of it (pg_temp comes first in the search path, so for this session the
    dataset's name means the table audited, the staged one during a build). ``tables``: the
    datasets on the same connection, by name, whose data a relationship joins in place."""

    placeholder = "%s"

    def __init__(self, backend: Any, con: Any, dataset: str, loc: str,
                 tables: Mapping[str, str]) -> None:
        self.backend, self.con, self.tables = backend, con, tables
        self.relation = backend.qualified(loc)
        with con.cursor() as cur:
            cur.execute(f"CREATE TEMP VIEW _data AS SELECT * FROM {self.relation}")
            cur.execute(f"CREATE TEMP VIEW {q(dataset)} AS SELECT * FROM {self.relation}")
        con.commit()  # the views outlive a failed query's rollback (``after_error``)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        with self.con.cursor() as cur:
            # No parameters: the query goes as written (a `%` in a user's LIKE stays one).
            cur.execute(sql, list(params) if params else None)
            return [d.name for d in cur.description or []], cur.fetchall()

    def schema(self) -> pa.Schema:
        return self.backend.fetch(self.con, "SELECT * FROM _data LIMIT 0").schema

    def table(self) -> pa.Table:
        return self.backend.fetch(self.con, "SELECT * FROM _data")

    def other(self, index: int, dataset: str, column: str,
              read: Callable[[str], pa.Table]) -> str:
        if dataset in self.tables:
            return self.backend.qualified(self.tables[dataset])
        # Elsewhere: its one column comes into a temporary table, so the join still runs here.
        values = read(dataset).select([column])
        name = f"_other{index}"
        with self.con.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {name} ({q(column)} "
                        f"{self.backend.sql_type(values.schema.field(0).type)})")
        self.backend.insert(self.con, name, values)
        self.con.commit()
        return name

    def after_error(self) -> None:
        self.con.rollback()

    def distinct(self, column: str) -> str:
        return f"count(DISTINCT {q(column)})"  # PostgreSQL has no estimate built in

    def min_max(self, column: str, type_: pa.DataType) -> tuple[str, str]:
        if pa.types.is_boolean(type_):
            return f"bool_and({q(column)})", f"bool_or({q(column)})"
        return super().min_max(column, type_)


def _nan(*values: Any) -> bool:
    return any(isinstance(v, float) and v != v for v in values)


@contextmanager
def arrow_scan(dataset: str, table: pa.Table) -> Iterator[Scan]:
    scan = DuckScan(dataset, table=table)
    try:
        yield scan
    finally:
        scan.close()


@contextmanager
def stored_scan(backend: Backend, dataset: str, loc: str, fmt: str,
                read: Callable[[], pa.Table], tables: Mapping[str, str] | None = None,
                kept: Mapping[str, pa.ChunkedArray] | None = None) -> Iterator[Scan]:
    """The data at ``loc`` of ``backend`` (a dataset's table or file, or a staged one), read
    where it lies: a PostgreSQL table in PostgreSQL, a local Parquet file by DuckDB; anything
    else is ``read()`` into memory first."""
    if backend.type == "postgresql":
        with backend.connect() as con:  # type: ignore[attr-defined]
            try:
                yield PostgresScan(backend, con, dataset, loc, tables or {})
            finally:
                con.rollback()  # the temporary views and tables go with the session
        return
    local = backend.local_path(loc) if fmt == "parquet" else None
    scan = DuckScan(dataset, parquet=str(local), kept=kept) if local is not None \
        else DuckScan(dataset, table=read())
    try:
        yield scan
    finally:
        scan.close()
