"""Reading and writing tables as Parquet, CSV and JSON lines, always through Arrow.

Writes go to a temporary sibling and are renamed into place by the caller, so a failed or killed
build never leaves half a file where the data should be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from weir.errors import DataError
from weir.model.project import ColumnSpec

TYPE_ALIASES = {"float64": "double", "float32": "float", "large_string": "string",
                "utf8": "string", "large_utf8": "string", "boolean": "bool", "int": "int64",
                "str": "string", "date": "date32", "date32[day]": "date32"}


def normalise_type(name: str) -> str:
    name = name.strip().lower()
    return TYPE_ALIASES.get(name, name)


def arrow_type(name: str) -> pa.DataType:
    try:
        return pa.type_for_alias(normalise_type(name))
    except (ValueError, KeyError):
        raise DataError(f"unknown column type '{name}'",
                        hint="use Arrow type names: int64, double, string, bool, date32, "
                        "timestamp[us] …") from None


def read_table(path: Path | Any, fmt: str, schema: Sequence[ColumnSpec] | None = None,
               columns: list[str] | None = None, label: str | None = None) -> pa.Table:
    """Read a local path or an open binary file (``label`` names it in messages)."""
    where = label or str(path)
    try:
        if fmt == "parquet":
            return pq.read_table(path, columns=columns)
        if fmt == "csv":
            types = {c.name: arrow_type(c.type) for c in schema} if schema else None
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                column_types=types, include_columns=columns))
            return table
        if fmt == "jsonl":
            table = pajson.read_json(path)
            return table.select(columns) if columns else table
    except FileNotFoundError:
        raise DataError(f"no data at {where}", hint="build it, or fix the dataset's path") from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"cannot read {where} as {fmt}: {exc}",
                        hint="check the dataset's `format` and the file's content") from None
    raise DataError(f"unknown format '{fmt}'")


def stream_batches(f: Any, fmt: str, batch_size: int, columns: list[str] | None = None,
                   schema: Sequence[ColumnSpec] | None = None,
                   label: str = "data") -> Iterator[pa.RecordBatch]:
    """Record batches from an open binary file, without loading it whole (JSON lines, which
    pyarrow cannot stream, is read whole and then cut)."""
    try:
        if fmt == "parquet":
            yield from pq.ParquetFile(f).iter_batches(batch_size=batch_size, columns=columns)
        elif fmt == "csv":
            types = {c.name: arrow_type(c.type) for c in schema} if schema else None
            reader = pacsv.open_csv(f, read_options=pacsv.ReadOptions(
                block_size=max(1 << 20, batch_size * 64)),
                convert_options=pacsv.ConvertOptions(column_types=types,
                                                     include_columns=columns))
            for batch in reader:
                yield from pa.Table.from_batches([batch]).to_batches(max_chunksize=batch_size)
        else:
            yield from read_table(f, fmt, schema, columns, label).to_batches(batch_size)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"cannot read {label} as {fmt}: {exc}") from None


def write_table(data: pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch], path: Path,
                fmt: str) -> tuple[pa.Schema, int]:
    """Write ``data`` to ``path`` (the caller's temporary path); returns its schema and rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, pa.Table):
        if fmt == "parquet":
            pq.write_table(data, path)
        elif fmt == "csv":
            pacsv.write_csv(data, path)
        elif fmt == "jsonl":
            _write_jsonl(data, path)
        return data.schema, data.num_rows
    reader = data if isinstance(data, pa.RecordBatchReader) else None
    batches: Iterable[pa.RecordBatch] = reader if reader is not None else data
    rows = 0
    writer: Any = None
    schema: pa.Schema | None = reader.schema if reader is not None else None
    try:
        for batch in batches:
            if writer is None:
                schema = batch.schema
                writer = _open_writer(path, fmt, schema)
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is None:
            if schema is None:
                raise DataError("the recipe produced no batches and no schema")
            write_table(schema.empty_table(), path, fmt)
    finally:
        if writer is not None:
            writer.close()
    assert schema is not None
    return schema, rows


class _JsonlWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_bytes(b"")

    def write_batch(self, batch: pa.RecordBatch) -> None:
        _write_jsonl(pa.Table.from_batches([batch]), self.path, append=True)

    def close(self) -> None:
        pass


def _open_writer(path: Path, fmt: str, schema: pa.Schema) -> Any:
    if fmt == "parquet":
        return pq.ParquetWriter(path, schema)
    if fmt == "csv":
        return pacsv.CSVWriter(path, schema)
    return _JsonlWriter(path)


def _write_jsonl(table: pa.Table, path: Path, append: bool = False) -> None:
    frame = table.to_pandas()
    text = frame.to_json(orient="records", lines=True, date_format="iso", date_unit="us")
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        if text:
            f.write(text if text.endswith("\n") else text + "\n")


def schema_rows(schema: pa.Schema, table: pa.Table | None = None) -> list[list[Any]]:
    """``[[name, type, nullable], …]`` — the observed schema as recorded in the state store."""
    out = []
    for field in schema:
        nullable = field.nullable
        if table is not None:
            nullable = table.column(field.name).null_count > 0 or field.nullable
        out.append([field.name, normalise_type(str(field.type)), bool(nullable)])
    return out


def as_table(data: pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]) -> pa.Table:
    """What a recipe returned (a table, a reader, batches) as one table in memory."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    return pa.Table.from_batches(list(data))


def schema_diff(declared: Sequence[ColumnSpec], table: pa.Table) -> list[str]:
    """Column-by-column differences between a declared schema and data; empty if it conforms."""
    return schema_diff_of(declared, table.schema, lambda name: table.column(name).null_count)


def schema_diff_of(declared: Sequence[ColumnSpec], schema: pa.Schema,
                   nulls: Callable[[str], int]) -> list[str]:
    """``schema_diff`` of data known by its schema and a count of a column's nulls (asked only
    of the columns declared not nullable): data not in memory is audited where it lies."""
    problems = []
    actual = {f.name: f for f in schema}
    wanted = {c.name: c for c in declared}
    for col in declared:
        field = actual.get(col.name)
        if field is None:
            problems.append(f"- {col.name}: declared {col.type}, missing from the output")
            continue
        got = normalise_type(str(field.type))
        if got != normalise_type(col.type):
            problems.append(f"~ {col.name}: declared {normalise_type(col.type)}, got {got}")
        if not col.nullable and (n := nulls(col.name)):
            problems.append(f"~ {col.name}: declared not nullable, has {n} nulls")
    for name, field in actual.items():
        if name not in wanted:
            problems.append(f"+ {name}: {normalise_type(str(field.type))}, not in the declared "
                            "schema")
    return problems
