"""``weir.Dataset``: a project's dataset by name, for notebooks, scripts and streaming recipes.

Outside a build the project is found from the current directory (or ``$WEIR_PROJECT``, or the
``project=`` argument) and the dataset read from wherever its connection puts it — a file, an
object or a table — in the shape the caller wants. As a recipe parameter annotated
``weir.Dataset`` it is a lazy handle: ``iter_batches`` streams, so a recipe can turn a dataset
larger than memory into another in bounded memory (return a generator of batches or frames).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.errors import WeirError

if TYPE_CHECKING:
    import pyarrow as pa

    from weir.model.project import ColumnSpec
    from weir.storage.base import Backend


class Dataset:
    """A handle on one dataset; nothing is read until a method asks for data."""

    def __init__(self, name: str, project: str | os.PathLike[str] | None = None) -> None:
        self.name = name
        self._project = Path(project) if project is not None else None
        self._target: tuple[Backend, str, str, list[ColumnSpec] | None] | None = None
        self._partitioning: Any = None  # weir.model.partitions.Partitioning, if partitioned

    @classmethod
    def _bound(cls, name: str, backend: Backend, loc: str, fmt: str,
               schema: list[ColumnSpec] | None) -> Dataset:
        """A handle made by a build for a recipe input (no project lookup)."""
        ds = cls(name)
        ds._target = (backend, loc, fmt, schema)
        return ds

    def _resolve(self) -> tuple[Backend, str, str, list[ColumnSpec] | None]:
        if self._target is None:
            from weir.workspace import Workspace

            ws = Workspace.open(self._project)
            try:
                ds = ws.dataset(self.name)
                schema = list(ds.schema) if ds.schema and ds.is_source else None
                self._target = (ws.backends[ds.connection], ds.path, ds.format, schema)
                self._partitioning = ds.partitioning
            finally:
                ws.close()
        return self._target

    def rejected(self) -> Dataset:
        """The last output of this dataset its checks rejected (never published), to read
        like the dataset itself: ``weir.Dataset("orders").rejected().to_pandas()``."""
        from weir.storage.backends import FilesystemBackend
        from weir.storage.locations import rejected_file
        from weir.workspace import project_root

        root = project_root(self._project)
        path = rejected_file(root, self.name)
        backend = FilesystemBackend(root, "rejected", "filesystem", {"root": str(path.parent)})
        return Dataset._bound(f"{self.name} (rejected)", backend, path.name, "parquet", None)

    # -- partitions -----------------------------------------------------------------------------
    def partitions(self) -> list[str]:
        """The partitions its data holds now, oldest first (``day=2026-12-01``, …); a dataset
        that is not partitioned is an error saying so."""
        backend, loc, fmt, _ = self._resolve()
        if self._partitioning is None:
            raise WeirError(f"dataset '{self.name}' is not partitioned",
                            hint="declare `partitioning:` in its file to cut it by time or "
                            "value")
        return sorted(backend.partitions(loc, fmt, self._partitioning))

    def _read_partitions(self, partition: str, columns: list[str] | None) -> pa.Table:
        from weir.model.partitions import PartitionError, expand_request

        backend, loc, fmt, schema = self._resolve()
        if self._partitioning is None:
            raise WeirError(f"dataset '{self.name}' is not partitioned: `partition=` does not "
                            "apply", hint="read it whole: leave `partition=` out")
        known = self.partitions()
        try:
            keys = expand_request(self._partitioning, partition, known) if partition else known
        except PartitionError as exc:
            raise WeirError(f"partition={partition!r}: {exc}",
                            hint=f"it has {', '.join(known[-3:]) or 'no partition yet'}"
                            + (" …" if len(known) > 3 else "")) from None
        table = backend.read_partitions(loc, fmt, self._partitioning, keys, schema)
        return table.select(columns) if columns else table

    # -- reading --------------------------------------------------------------------------------
    def to_arrow(self, columns: list[str] | None = None, partition: str | None = None
                 ) -> pa.Table:
        """The data (of a partitioned dataset: every partition, or those ``partition``
        names: ``"2026-12-01"``, ``"2026-11-01..2026-11-30"``, ``"latest"``)."""
        backend, loc, fmt, schema = self._resolve()
        if partition is not None or self._partitioning is not None:
            return self._read_partitions(partition or "", columns)
        return backend.read(loc, fmt, schema, columns)

    def to_pandas(self, columns: list[str] | None = None, partition: str | None = None) -> Any:
        return self.to_arrow(columns, partition).to_pandas()

    def to_polars(self, columns: list[str] | None = None) -> Any:
        try:
            import polars
        except ImportError:
            raise WeirError("polars is not installed", hint="pip install polars") from None
        return polars.from_arrow(self.to_arrow(columns))

    def iter_batches(self, batch_size: int = 65_536,
                     columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        backend, loc, fmt, schema = self._resolve()
        return backend.batches(loc, fmt, batch_size, columns, schema)

    def duckdb(self, connection: Any = None) -> Any:
        """A DuckDB relation over the data (a lazy scan for local Parquet files)."""
        import duckdb
        import pyarrow as pa

        con = connection or duckdb.connect()
        backend, loc, fmt, _ = self._resolve()
        local = backend.local_path(loc)
        if local is not None and fmt == "parquet":
            return con.read_parquet(str(local))
        batches = self.iter_batches()
        first = next(batches, None)
        if first is None:
            return con.from_arrow(self.to_arrow())
        reader = pa.RecordBatchReader.from_batches(first.schema, _chain(first, batches))
        return con.from_arrow(reader)

    @property
    def schema(self) -> pa.Schema:
        backend, loc, fmt, _ = self._resolve()
        local = backend.local_path(loc)
        if local is not None and fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_schema(local)
        first = next(iter(self.iter_batches(batch_size=1)), None)
        return first.schema if first is not None else self.to_arrow().schema

    # -- writing --------------------------------------------------------------------------------
    def write(self, data: Any) -> int:
        """Replace the data atomically with a DataFrame, an Arrow table, or an iterator of
        batches or frames (streamed: memory stays bounded). Returns the number of rows."""
        from weir.build.returns import as_writable

        backend, loc, fmt, _ = self._resolve()
        handle, _, rows = backend.stage(loc, fmt, as_writable(self.name, data),
                                        f"api-{secrets.token_hex(4)}")
        try:
            backend.commit(loc, fmt, handle)
        except BaseException:
            backend.discard(loc, fmt, handle)
            raise
        return rows

    def __repr__(self) -> str:
        return f"weir.Dataset({self.name!r})"


def _chain(first: pa.RecordBatch, rest: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest
