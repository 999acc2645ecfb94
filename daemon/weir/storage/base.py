"""The one interface every kind of storage implements, and the error of a connection that
cannot be used.

It lives apart from ``backends`` (which picks the implementation for a connection) so that the
implementations depend on this module only, and nothing imports back the module that
dispatches to them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.errors import WeirError
from weir.storage.secrets import redact, resolve_params, secret_values

if TYPE_CHECKING:
    import pyarrow as pa

    from weir.model.project import ColumnSpec


class ConnectionProblem(WeirError):
    """A connection cannot be used: unreachable, refused, bad credentials."""


class Backend(ABC):
    """Base: ``loc`` is a path relative to the connection's root, or a table name."""

    def __init__(self, project_root: Path, name: str, type_: str, params: Mapping[str, Any]):
        self.project_root = project_root
        self.name = name
        self.type = type_
        self.raw_params = dict(params)
        self._params: dict[str, Any] | None = None

    @property
    def params(self) -> dict[str, Any]:
        """Settings with secret references resolved — only now, when the connection is used."""
        if self._params is None:
            self._params = resolve_params(self.name, self.raw_params)
        return self._params

    def redact(self, text: str) -> str:
        if self._params is None:
            return text
        return redact(text, secret_values(self.raw_params, self._params))

    def problem(self, what: str, exc: BaseException, hint: str | None = None) -> ConnectionProblem:
        return ConnectionProblem(self.redact(f"connection '{self.name}': {what}: {exc}"),
                                 hint=hint)

    # -- what every backend does ----------------------------------------------------------
    def describe(self, loc: str) -> str:
        return f"{self.name}:{loc}"

    def local_path(self, loc: str) -> Path | None:
        """A local file holding the data, when there is one (fast paths, kept outputs)."""
        return None

    # -- copying data another environment built (zero-recompute promotion) ------------------
    def place(self, loc: str) -> str | None:
        """Where ``loc``'s data lives, said so that another environment's backend can tell
        whether it can copy it exactly without weir reading a row (`can_copy_from`): the kind
        of storage, the server or file, and the table or key — never a credential. None: this
        storage says nothing of the kind."""
        return None

    #: Can `copy_in` copy a managed folder, and can the runner keep a replaced one (a tree of
    #: hard links)? A folder elsewhere is many objects: it is built where it is used.
    copies_folders = False

    def can_copy_from(self, place: str) -> bool:
        """Can this storage make an exact copy of the data at ``place`` by itself (a link, a
        server-side copy, a table copy in the same database)?"""
        return False

    def copy_in(self, copies: list[tuple[str, str, str]],
                keep: Mapping[str, str] | None = None) -> dict[str, str]:
        """Make each ``(place, loc, fmt)``'s ``loc`` an exact copy of the data at ``place``,
        each published whole, as a commit publishes (only places `can_copy_from` accepts).
        ``keep``: loc -> the fingerprint of the version it replaces, kept as `commit_keeping`
        keeps one where this storage does; returns their places, by loc."""
        raise WeirError(f"connection '{self.name}' cannot copy data in")

    def commit_keeping(self, loc: str, fmt: str, handle: str, fingerprint: str) -> str | None:
        """Commit, keeping the data it replaces (the version at ``fingerprint``) where
        `copy_in` can bring it back: its place, or None when nothing was kept (this storage
        keeps nothing this way, or there was nothing to replace). Files are kept by the
        runner as hard links instead."""
        self.commit(loc, fmt, handle)
        return None

    def drop_copy(self, place: str) -> None:  # noqa: B027 - optional hook
        """Drop a kept version made by `commit_keeping` (it is evicted)."""

    def drop_copies(self, places: list[str]) -> None:
        """Drop several kept versions: a restore of hundreds evicts hundreds (a database
        drops them over one connection)."""
        for place in places:  # one that cannot be dropped does not keep the others
            try:
                self.drop_copy(place)
            except Exception:  # noqa: BLE001 - housekeeping: the kept copy merely stays
                pass

    @abstractmethod
    def exists(self, loc: str, fmt: str) -> bool:
        ...

    @abstractmethod
    def version(self, loc: str, fmt: str, known: tuple[str, str] | None,
                version_query: str | None = None) -> tuple[str | None, tuple[str, str] | None]:
        """The data's version, and a ``(probe, version)`` pair worth remembering (or None)."""
        ...

    @abstractmethod
    def read(self, loc: str, fmt: str, schema: list[ColumnSpec] | None = None,
             columns: list[str] | None = None) -> pa.Table:
        ...

    def batches(self, loc: str, fmt: str, batch_size: int, columns: list[str] | None = None,
                schema: list[ColumnSpec] | None = None) -> Iterator[pa.RecordBatch]:
        """The data in record batches; file formats stream, so memory stays bounded."""
        yield from self.read(loc, fmt, schema, columns).to_batches(max_chunksize=batch_size)

    def sample_schema(self, loc: str, fmt: str) -> pa.Schema | None:
        """The data's columns, from its first rows (a file is streamed, so little is read);
        None when there are no rows to tell."""
        batch = next(iter(self.batches(loc, fmt, 64)), None)
        return None if batch is None else batch.schema

    @abstractmethod
    def stage(self, loc: str, fmt: str, data: Any, token: str) -> tuple[str, pa.Schema, int]:
        """Write ``data`` (a Table or record batches) somewhere temporary; returns a handle."""
        ...

    @abstractmethod
    def commit(self, loc: str, fmt: str, handle: str) -> None:
        ...

    @abstractmethod
    def discard(self, loc: str, fmt: str, handle: str) -> None:
        ...

    @abstractmethod
    def drop(self, loc: str, fmt: str) -> None:
        ...

    def cleanup_stale(self, loc: str, fmt: str) -> None:  # noqa: B027 - optional hook
        """Remove what a killed build left staged for ``loc`` (nothing, by default)."""

    def exists_many(self, items: list[tuple[str, str]]) -> dict[str, bool]:
        """``exists`` of each ``(loc, fmt)``, by loc: a database answers them all over one
        connection (a status of a thousand tables must not open a thousand)."""
        return {loc: self.exists(loc, fmt) for loc, fmt in items}

    def cleanup_stale_many(self, locs: list[tuple[str, str]]) -> None:
        for loc, fmt in locs:
            self.cleanup_stale(loc, fmt)

    @abstractmethod
    def check(self) -> str:
        """Connect and say what was reached; raise ConnectionProblem saying what is wrong."""
        ...

    # -- partitioned datasets (weir.model.partitions): one partition replaced at a time -----
    @abstractmethod
    def partitions(self, loc: str, fmt: str, partitioning: Any) -> dict[str, str]:
        """The partitions ``loc`` holds, each with a version that changes when its data does
        (what a partitioned source's status and its readers' fingerprints are made of)."""
        ...

    @abstractmethod
    def read_partitions(self, loc: str, fmt: str, partitioning: Any, keys: list[str],
                        schema: list[ColumnSpec] | None = None) -> pa.Table:
        """The rows of the partitions ``keys``, as one table with its partition columns."""
        ...

    @abstractmethod
    def stage_partition(self, loc: str, fmt: str, partitioning: Any, key: str, data: Any,
                        token: str) -> tuple[str, pa.Schema, int]:
        """Write ``data`` as partition ``key`` somewhere temporary; a row outside the
        partition is refused (here, or at the commit)."""
        ...

    @abstractmethod
    def commit_partition(self, loc: str, fmt: str, handle: str, partitioning: Any,
                         key: str) -> None:
        """Publish the staged partition whole, in place of the one before (the rest of the
        dataset untouched)."""
        ...

    @abstractmethod
    def drop_partition(self, loc: str, fmt: str, partitioning: Any, key: str) -> None:
        ...

    def folder_store(self, loc: str, name: str, writable: bool) -> Any:
        raise WeirError(f"connection '{self.name}' holds tables, not folders")

    def folder_staging(self, loc: str, name: str, token: str) -> tuple[str, Any]:
        """An empty place to write a folder output: ``(handle, store)``."""
        raise WeirError(f"connection '{self.name}' holds tables, not folders")
