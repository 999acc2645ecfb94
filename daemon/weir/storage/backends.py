"""Connections as storage backends: one interface (``weir.storage.base``) for files, objects
and tables, and the backend each connection gets.

A write is always two steps so it can be atomic everywhere: the worker *stages* the data (a
temporary file, object or table) and the parent *commits* it (rename, copy, or a table swap in one
transaction) — or discards it. A failed or killed build therefore leaves the previous data
readable. Backends are built from plain values so workers can make their own; each kind other
than the filesystem lives in its own module, imported only when a connection of that kind is
used, so a command that touches no database loads no database driver.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.errors import DataError, WeirError
from weir.storage.base import Backend, ConnectionProblem
from weir.storage.locations import (TMP_MARK, FileStat, connection_root, content_hash,
                                    link_copy, remove_path, remove_stale_temps, stat_data,
                                    temp_path_for)
from weir.storage.secrets import MissingSecret

if TYPE_CHECKING:
    import pyarrow as pa

    from weir.model.project import ColumnSpec, Connection


class FilesystemBackend(Backend):
    _root: Path | None = None
    copies_folders = True

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = connection_root(self.project_root, self.name,
                                         str(self.raw_params["root"]))
        return self._root

    def describe(self, loc: str) -> str:
        return str(self.root / loc)

    def local_path(self, loc: str) -> Path:
        return self.root / loc

    def exists(self, loc: str, fmt: str) -> bool:
        return os.path.exists(os.path.join(self.root, loc))

    def place(self, loc: str) -> str:
        return (self.root / loc).resolve().as_uri()

    def can_copy_from(self, place: str) -> bool:
        return place.startswith("file://")

    def copy_in(self, copies: list[tuple[str, str, str]],
                keep: Mapping[str, str] | None = None) -> dict[str, str]:
        """Hard links where the file system allows it (no byte copied: the other
        environment's file is rewritten by a rename, never in place), else a copy; a folder
        is copied (`link_copy`)."""
        from urllib.parse import unquote, urlparse

        for place, loc, fmt in copies:
            source = Path(unquote(urlparse(place).path))
            tmp = temp_path_for(self.root / loc, "copy")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            remove_path(tmp)  # a copy an earlier, killed build left
            try:
                link_copy(source, tmp)
            except shutil.Error as exc:  # a folder's files that could not be copied
                remove_path(tmp)
                first = exc.args[0][0] if exc.args and exc.args[0] else ("", "", str(exc))
                raise DataError(f"cannot copy {first[0] or source}: {first[2]}",
                                hint="build it here instead (`weir build NAME --only`)"
                                ) from None
            except OSError as exc:
                remove_path(tmp)
                raise DataError(f"cannot copy {source}: {exc.strerror}",
                                hint="build it here instead (`weir build NAME --only`)"
                                ) from None
            self.commit(loc, fmt, str(tmp))
        return {}  # a replaced file is kept by the runner, as a hard link

    def folder_store(self, loc: str, name: str, writable: bool) -> Any:
        from weir.storage.folders import LocalFolderStore

        return LocalFolderStore(name, self.root / loc, writable)

    def folder_staging(self, loc: str, name: str, token: str) -> tuple[str, Any]:
        from weir.storage.folders import LocalFolderStore

        tmp = temp_path_for(self.root / loc, token)
        tmp.mkdir(parents=True)
        return str(tmp), LocalFolderStore(name, tmp, writable=True)

    def version(self, loc: str, fmt: str, known: tuple[str, str] | None,
                version_query: str | None = None) -> tuple[str | None, tuple[str, str] | None]:
        path = self.root / loc
        st: FileStat | None = stat_data(path)
        if st is None:
            return None, None
        probe = f"{path}|{st.key()}"
        if known is not None and known[0] == probe:
            return known[1], None
        digest = content_hash(path)
        return digest, (probe, digest)

    def read(self, loc: str, fmt: str, schema: list[ColumnSpec] | None = None,
             columns: list[str] | None = None) -> pa.Table:
        from weir.storage.formats import read_table

        return read_table(self.root / loc, fmt, schema, columns)

    def batches(self, loc: str, fmt: str, batch_size: int, columns: list[str] | None = None,
                schema: list[ColumnSpec] | None = None) -> Iterator[pa.RecordBatch]:
        from weir.storage.formats import stream_batches

        with open(self.root / loc, "rb") as f:
            yield from stream_batches(f, fmt, batch_size, columns, schema,
                                      label=str(self.root / loc))

    def stage(self, loc: str, fmt: str, data: Any, token: str) -> tuple[str, pa.Schema, int]:
        from weir.storage.formats import write_table

        tmp = temp_path_for(self.root / loc, token)
        schema, rows = write_table(data, tmp, fmt)
        return str(tmp), schema, rows

    def commit(self, loc: str, fmt: str, handle: str) -> None:
        final = self.root / loc
        final.parent.mkdir(parents=True, exist_ok=True)
        if fmt != "folder" or not final.exists():
            os.replace(handle, final)
            return
        # A directory cannot be replaced in one rename: move the old one aside first. If the
        # process dies in between, cleanup_stale puts the old one back.
        old = temp_path_for(final, "old")
        os.replace(final, old)
        os.replace(handle, final)
        remove_path(old)

    def discard(self, loc: str, fmt: str, handle: str) -> None:
        remove_path(Path(handle))

    def partitions(self, loc: str, fmt: str, partitioning: Any) -> dict[str, str]:
        from weir.storage.partitioned_files import partition_versions

        return partition_versions(self.root / loc, partitioning)

    def read_partitions(self, loc: str, fmt: str, partitioning: Any, keys: list[str],
                        schema: list[ColumnSpec] | None = None) -> pa.Table:
        from weir.storage.partitioned_files import read_partitions

        return read_partitions(self.root / loc, fmt, partitioning, keys, schema)

    def stage_partition(self, loc: str, fmt: str, partitioning: Any, key: str, data: Any,
                        token: str) -> tuple[str, pa.Schema, int]:
        from weir.storage.formats import as_table
        from weir.storage.partitioned_files import stage_partition

        table = as_table(data)
        staged = stage_partition(self.root / loc, fmt, partitioning, key, table, token)
        return str(staged), table.schema, table.num_rows

    def commit_partition(self, loc: str, fmt: str, handle: str, partitioning: Any,
                         key: str) -> None:
        from weir.storage.partitioned_files import commit_partition

        commit_partition(self.root / loc, key, Path(handle))

    def drop_partition(self, loc: str, fmt: str, partitioning: Any, key: str) -> None:
        from weir.storage.partitioned_files import drop_partition

        drop_partition(self.root / loc, key)

    def drop(self, loc: str, fmt: str) -> None:
        remove_path(self.root / loc)

    def cleanup_stale(self, loc: str, fmt: str) -> None:
        final = self.root / loc
        old = temp_path_for(final, "old")
        if fmt == "folder" and old.exists() and not final.exists():
            os.replace(old, final)  # a swap was interrupted: the previous folder comes back
        remove_stale_temps(final)

    def cleanup_stale_many(self, locs: list[tuple[str, str]]) -> None:
        """One directory scan per directory, not per dataset (a build may plan thousands)."""
        by_dir: dict[str, set[str]] = {}
        for loc, _ in locs:
            directory, name = os.path.split(os.path.join(self.root, loc))
            by_dir.setdefault(directory, set()).add(name)
        for directory, names in by_dir.items():
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                if TMP_MARK in entry.name and entry.name.startswith("."):
                    base = entry.name[1:].split(TMP_MARK, 1)[0]
                    if base in names:
                        final = os.path.join(directory, base)
                        if entry.name.endswith(f"{TMP_MARK}old") and not os.path.exists(final):
                            os.replace(entry.path, final)
                        else:
                            remove_path(Path(entry.path))
        from weir.storage.partitioned_files import cleanup_partitions

        # A partitioned dataset's partitions' staging too — only here, where a build starts
        # and has claimed what it writes: a job that died mid-build (`cleanup_stale`) must not
        # sweep away the staging of its dataset's other partitions, still running.
        for loc, fmt in locs:
            if fmt != "folder" and (self.root / loc).is_dir():
                cleanup_partitions(self.root / loc)

    def check(self) -> str:
        root = self.root
        if not root.exists():
            return f"{root} does not exist yet; weir creates it on the first write"
        if not root.is_dir():
            raise ConnectionProblem(f"connection '{self.name}': {root} is not a directory")
        if not os.access(root, os.R_OK | os.W_OK):
            raise ConnectionProblem(f"connection '{self.name}': {root} is not readable and "
                                    "writable by this user")
        return f"{root} is a readable, writable directory"


def backend_for(project_root: Path, name: str, type_: str, params: Mapping[str, Any]) -> Backend:
    kind: type[Backend]
    if type_ == "filesystem":
        kind = FilesystemBackend
    elif type_ == "sqlite":
        from weir.storage.sqlite_backend import SQLiteBackend as kind
    elif type_ == "duckdb":
        from weir.storage.duckdb_backend import DuckDBBackend as kind
    elif type_ == "postgresql":
        from weir.storage.postgres_backend import PostgresBackend as kind
    elif type_ == "s3":
        from weir.storage.s3_backend import S3Backend as kind
    else:
        raise DataError(f"connection '{name}' has unsupported type '{type_}'")
    return kind(project_root, name, type_, params)


class Backends:
    """One backend per connection of a project, made on first use."""

    def __init__(self, project_root: Path, connections: Mapping[str, Connection]) -> None:
        self.project_root = project_root
        self.connections = connections
        self._made: dict[str, Backend] = {}
        # Connections that could not be used, and why: asked once, not once per dataset.
        self.down: dict[str, WeirError] = {}

    @contextmanager
    def using(self, name: str) -> Iterator[Backend]:
        """The connection's backend — unless the connection itself already failed here, then
        that failure again at once. A server that is down costs its connect timeout once per
        Backends (one command, one build, one daemon request), however many datasets it
        holds; a dataset's own error (a missing table) is not remembered."""
        if name in self.down:
            raise self.down[name]
        try:
            yield self[name]
        except (ConnectionProblem, MissingSecret) as exc:
            self.down[name] = exc
            raise

    def __getitem__(self, name: str) -> Backend:
        if name not in self._made:
            c = self.connections[name]
            self._made[name] = backend_for(self.project_root, c.name, c.type, c.params)
        return self._made[name]
