"""Partitioned datasets as files in the Hive layout (``events/day=2026-12-01/part-0.parquet``):
listing the partitions, reading some of them as one table, and replacing one whole.

What does not depend on where the files are is here once, for a local directory and an S3
prefix alike (``s3_backend`` uses it): which partition a file belongs to (`discover`), a
partition's version from its files' stamps (`versions_of`), reading a partition's files as one
table with its partition columns (`read_partition_files`), and refusing a row of another
partition (`check_inside`). The rest is the directory's own.

On a disk a partition is a directory, replaced the way a managed folder is: written into a
staging directory beside it, then swapped in (the old one moved aside first, put back by
``cleanup_stale`` if the process dies in between), so a reader never sees half a partition and
a failed build keeps the previous one. A partition's data may leave out its partition columns
(Hive's way: the path says them); reading adds them from the path, typed — a day as a date, an
hour as a timestamp, a month and a discrete value as text. Data written into a partition that
does hold the time column must fall inside the partition: a row of another day is refused with
its value, never filed under the wrong day. A partition's version is made of its files'
names, sizes and modification times (a stat each, no read; an object's ETag on s3): what says
a source's partition changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from weir.errors import DataError
from weir.model.partitions import (Grain, Partitioning, discover, floor, format_time, is_hidden,
                                   parse_time)
from weir.model.project import FORMATS, ColumnSpec
from weir.storage.locations import remove_path, temp_path_for

if TYPE_CHECKING:  # pyarrow is imported where rows are read or written: a status lists
    import pyarrow as pa  # partitions without it (its import is most of a status's time)

F = TypeVar("F")


def part_file(fmt: str) -> str:
    """The one file a partition weir builds holds (``part-0.parquet``): a partition is
    replaced whole, so it never needs a second."""
    return f"part-0.{FORMATS[fmt]}"


def list_partitions(root: Path, partitioning: Partitioning) -> set[str]:
    """The partitions the directory ``root`` (the dataset's path) holds."""
    if not root.is_dir():
        return set()
    paths = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    return discover(partitioning, paths)[0]


def partition_versions(root: Path, partitioning: Partitioning) -> dict[str, str]:
    """Each partition under ``root``, with a version of its files (names, sizes, times).
    One scandir per directory, and the layout asked once per directory, not once per file:
    a status lists a year of days of many sources each time (the versions are those
    `versions_of` makes of the same stamps)."""
    if not root.is_dir():
        return {}
    lines: dict[str, list[str]] = {}
    keys: dict[str, str | None] = {}  # a directory's path -> the partition it is in

    def walk(directory: str, rel: str) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name[0] in "._":
                    continue
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, path)
                    continue
                if rel not in keys:
                    found, _ = discover(partitioning, [path])
                    keys[rel] = next(iter(found)) if found else None
                key = keys[rel]
                if key is not None:
                    st = entry.stat()
                    lines.setdefault(key, []).append(f"{path}:{st.st_size}:{st.st_mtime_ns}")

    walk(str(root), "")
    return {key: hashlib.blake2b("\n".join(sorted(got)).encode(), digest_size=12).hexdigest()
            for key, got in lines.items()}


def versions_of(partitioning: Partitioning, stamps: Iterable[tuple[str, str]]
                ) -> dict[str, str]:
    """Each partition the files ``stamps`` show (``(path relative to the dataset, what
    changes when the file does)``), with a version made of its files' paths and stamps; a
    file that fits no partition (or is hidden) counts for none."""
    lines: dict[str, list[str]] = {}
    for path, stamp in stamps:
        found, _ = discover(partitioning, [path])
        if found:
            lines.setdefault(next(iter(found)), []).append(f"{path}:{stamp}")
    return {key: hashlib.blake2b("\n".join(sorted(got)).encode(), digest_size=12).hexdigest()
            for key, got in lines.items()}


def read_partitions(root: Path, fmt: str, partitioning: Partitioning, keys: Collection[str],
                    schema: list[ColumnSpec] | None = None) -> pa.Table:
    """The rows of the partitions ``keys`` of the dataset at ``root``, as one table, each with
    its partition columns (from the path where the files leave them out). A partition that is
    not there is an error naming it."""
    from weir.storage.formats import read_table

    def files_of(key: str) -> list[Path]:
        directory = root / key
        if not directory.is_dir():
            return []
        return sorted(p for p in directory.rglob("*")
                      if p.is_file() and not is_hidden(p.relative_to(root).as_posix()))

    return read_partition_files(partitioning, keys, files_of,
                                lambda file: read_table(file, fmt, schema), str(root))


def read_partition_files(partitioning: Partitioning, keys: Collection[str],
                         files_of: Callable[[str], list[F]], read: Callable[[F], pa.Table],
                         where: str) -> pa.Table:
    """The rows of the partitions ``keys`` as one table: each partition's files
    (``files_of``, its data files only) read (``read``) and given its partition columns. A
    partition without files is an error naming it and ``where`` the dataset is."""
    import pyarrow as pa

    tables: list[pa.Table] = []
    for key in sorted(keys):
        files = files_of(key)
        if not files:
            raise DataError(f"partition {key} of {where} does not exist",
                            hint="build it first, or ask for the partitions the dataset has")
        tables.extend(with_partition_columns(read(file), partitioning, key) for file in files)
    if not tables:
        raise DataError("no partition asked for")
    return pa.concat_tables(tables, promote_options="default")


def stage_partition(root: Path, fmt: str, partitioning: Partitioning, key: str, data: pa.Table,
                    token: str) -> Path:
    """Write ``data`` as partition ``key`` into a staging directory beside it; returns the
    staging directory, for `commit_partition` (or removal)."""
    from weir.storage.formats import write_table

    check_inside(data, partitioning, key)
    final = root / key
    staged = temp_path_for(final, token)
    remove_path(staged)
    staged.mkdir(parents=True)
    write_table(data, staged / part_file(fmt), fmt)
    return staged


def commit_partition(root: Path, key: str, staged: Path) -> None:
    """Publish the staged partition whole, replacing the one before."""
    final = root / key
    final.parent.mkdir(parents=True, exist_ok=True)
    if not final.exists():
        os.replace(staged, final)
        return
    old = temp_path_for(final, "old")
    remove_path(old)
    os.replace(final, old)
    os.replace(staged, final)
    remove_path(old)


def cleanup_partitions(root: Path) -> None:
    """After a build that died: a partition swapped out but not back in comes back, and the
    staging directories of partitions never committed go (hidden, so no reader saw them)."""
    from weir.storage.locations import TMP_MARK

    def sweep(directory: Path, depth: int) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") and TMP_MARK in entry.name:
                final = directory / entry.name[1:].split(TMP_MARK, 1)[0]
                if entry.name.endswith(f"{TMP_MARK}old") and not final.exists():
                    os.replace(entry.path, final)
                else:
                    remove_path(Path(entry.path))
            elif depth and "=" in entry.name and entry.is_dir(follow_symlinks=False):
                sweep(Path(entry.path), depth - 1)  # the partitions of a second dimension

    if root.is_dir():
        sweep(root, 1)


def drop_partition(root: Path, key: str) -> None:
    remove_path(root / key)


def with_partition_columns(table: pa.Table, partitioning: Partitioning, key: str) -> pa.Table:
    """``table``, read from partition ``key``, with the partition columns its file leaves out
    (Hive's way: the path says them), typed from the path."""
    import pyarrow as pa

    time, value = partitioning.split(key)
    if partitioning.time is not None and partitioning.time.column not in table.column_names:
        assert time is not None
        table = table.append_column(partitioning.time.column,
                                    pa.array([_typed_time(partitioning.time.grain, time)]
                                             * table.num_rows, _time_type(partitioning.time.grain)))
    if partitioning.value is not None and partitioning.value.name not in table.column_names:
        table = table.append_column(partitioning.value.name,
                                    pa.array([value] * table.num_rows, pa.string()))
    return table


def _time_type(grain: Grain) -> pa.DataType:
    import pyarrow as pa

    return {Grain.HOUR: pa.timestamp("us"), Grain.DAY: pa.date32(), Grain.MONTH: pa.string()}[
        grain]


def _typed_time(grain: Grain, text: str) -> object:
    when = parse_time(grain, text)
    return when.date() if grain is Grain.DAY else when if grain is Grain.HOUR else text


def check_inside(data: pa.Table, partitioning: Partitioning, key: str) -> None:
    """Every row of ``data`` belongs to partition ``key``, where it says its time or value."""
    import pyarrow.compute as pc

    time, value = partitioning.split(key)
    dim = partitioning.time
    if dim is not None and time is not None and dim.column in data.column_names:
        column = data.column(dim.column)
        for got in pc.unique(column).to_pylist():
            if got is None:
                raise DataError(f"partition {key} holds a row whose {dim.column} is null",
                                hint="a recipe built per partition gives each row its "
                                "partition's time (weir.partition() says which), or leaves "
                                "the column out: the path says it")
            when = got if isinstance(got, dt.datetime) else dt.datetime.combine(got, dt.time()) \
                if isinstance(got, dt.date) else None
            said = format_time(dim.grain, floor(dim.grain, when)) if when is not None \
                else str(got)[:len(time)]
            if said != time:
                raise DataError(f"partition {key} holds a row whose {dim.column} is {got}, "
                                f"outside {dim.name} {time}",
                                hint="a recipe built per partition returns only its "
                                "partition's rows (weir.partition() says which)")
    if partitioning.value is not None and value is not None \
            and partitioning.value.name in data.column_names:
        others = [v for v in pc.unique(data.column(partitioning.value.name)).to_pylist()
                  if v is None or str(v) != value]
        if others:
            raise DataError(f"partition {key} holds a row whose {partitioning.value.name} is "
                            f"{others[0]}", hint="a recipe built per partition returns only its "
                            "partition's rows")
