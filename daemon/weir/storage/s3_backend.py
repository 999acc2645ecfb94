"""Files as objects on an S3-compatible store (AWS, MinIO, Ceph, moto…) through s3fs.

A write uploads a temporary object beside the final key and, on commit, copies it into place
(an object appears whole or not at all) and deletes the temporary one. A source object's version
is its ETag.

A managed folder and a partition of a partitioned dataset (the Hive layout, as on a disk:
``events/day=2026-12-01/part-0.parquet``) are many objects under a prefix, and S3 cannot swap a
prefix at once: the new objects are staged under a hidden prefix beside it (``.NAME.weir-tmp-…``,
which no listing of the dataset counts), copied over the prefix on commit, and then the old
objects the new version does not have are deleted. A reader during the commit may see some
objects new and some old; a commit that fails midway leaves the prefix partly replaced, and the
dataset's state is not recorded, so the next build replaces it again. A partition's version is
made of its objects' keys and ETags (one listing, no read).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.errors import DataError
from weir.storage.base import Backend, ConnectionProblem
from weir.storage.locations import TMP_MARK

if TYPE_CHECKING:
    import pyarrow as pa

    from weir.model.project import ColumnSpec


class S3Backend(Backend):
    _fs: Any = None

    @property
    def fs(self) -> Any:
        if self._fs is None:
            try:
                import s3fs
            except ImportError:
                raise ConnectionProblem(f"connection '{self.name}' is on S3 and s3fs is not "
                                        "installed", hint="pip install 'weir[s3]'") from None
            p = self.params
            client: dict[str, Any] = {}
            if p.get("endpoint_url"):
                client["endpoint_url"] = p["endpoint_url"]
            if p.get("region"):
                client["region_name"] = p["region"]
            self._fs = s3fs.S3FileSystem(key=p.get("access_key_id"),
                                         secret=p.get("secret_access_key"),
                                         token=p.get("session_token"), client_kwargs=client,
                                         use_listings_cache=False, skip_instance_cache=True,
                                         config_kwargs={"connect_timeout": 5,
                                                                   "retries": {"max_attempts": 2}})
        return self._fs

    def key(self, loc: str) -> str:
        prefix = str(self.params.get("prefix") or "").strip("/")
        return "/".join(x for x in (str(self.params["bucket"]), prefix, loc) if x)

    def describe(self, loc: str) -> str:
        return f"s3://{self.key(loc)}"

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except FileNotFoundError:
            raise
        except PermissionError as exc:
            raise self.problem(f"access denied ({what})", exc,
                               hint="check access_key_id / secret_access_key") from None
        except Exception as exc:  # noqa: BLE001 - botocore's errors share no base with OSError
            raise self.problem(f"cannot {what}", exc,
                               hint="check endpoint_url, the bucket and the network") from None

    def exists(self, loc: str, fmt: str) -> bool:
        return bool(self._call("look up objects", self.fs.exists, self.key(loc)))

    def version(self, loc: str, fmt: str, known: tuple[str, str] | None,
                version_query: str | None = None) -> tuple[str | None, tuple[str, str] | None]:
        if fmt == "folder":
            found = self._list(self.key(loc))
            if not found:
                return None, None
            listing = sorted((k, _object_version(v)) for k, v in found.items())
            return hashlib.blake2b(repr(listing).encode(), digest_size=16).hexdigest(), None
        try:
            info = self._call("look up objects", self.fs.info, self.key(loc))
        except FileNotFoundError:
            return None, None
        return _object_version(info), None

    def read(self, loc: str, fmt: str, schema: list[ColumnSpec] | None = None,
             columns: list[str] | None = None) -> pa.Table:
        from weir.storage.formats import read_table

        try:
            with self._call("read objects", self.fs.open, self.key(loc), "rb") as f:
                return read_table(f, fmt, schema, columns, label=self.describe(loc))
        except FileNotFoundError:
            raise DataError(f"no object at {self.describe(loc)}",
                            hint="build it, or fix the dataset's path") from None

    def batches(self, loc: str, fmt: str, batch_size: int, columns: list[str] | None = None,
                schema: list[ColumnSpec] | None = None) -> Iterator[pa.RecordBatch]:
        from weir.storage.formats import stream_batches

        try:
            f = self._call("read objects", self.fs.open, self.key(loc), "rb")
        except FileNotFoundError:
            raise DataError(f"no object at {self.describe(loc)}") from None
        with f:
            yield from stream_batches(f, fmt, batch_size, columns, schema,
                                      label=self.describe(loc))

    def place(self, loc: str) -> str:
        p = self.raw_params  # unresolved: a place is written to the state store
        return f"s3://{p.get('endpoint_url') or 'aws'}#{p.get('bucket')}/" + \
            "/".join(x for x in (str(p.get("prefix") or "").strip("/"), loc) if x)

    def can_copy_from(self, place: str) -> bool:
        return place.startswith(f"s3://{self.raw_params.get('endpoint_url') or 'aws'}#")

    def copy_in(self, copies: list[tuple[str, str, str]],
                keep: Mapping[str, str] | None = None) -> dict[str, str]:
        """A server-side copy to a temporary key, then the same copy into place a commit
        makes: no byte passes through weir."""
        kept: dict[str, str] = {}
        for place, loc, fmt in copies:
            tmp = self._tmp_key(loc, "copy")
            self._call("copy objects", self.fs.copy, place.partition("#")[2], tmp)
            if keep and loc in keep:
                aside = self.commit_keeping(loc, fmt, tmp, keep[loc])
                if aside is not None:
                    kept[loc] = aside
            else:
                self.commit(loc, fmt, tmp)
        return kept

    def commit_keeping(self, loc: str, fmt: str, handle: str, fingerprint: str) -> str | None:
        """The object replaced is first copied aside on the server (`.weir-kept/` beside the
        data, named by its fingerprint), so a revert copies it back instead of running. A
        folder is not kept: its files are many objects."""
        if fmt == "folder":
            self.commit(loc, fmt, handle)
            return None
        final = self.key(loc)
        head, _, name = final.rpartition("/")
        kept = f"{head}/.weir-kept/{name}.{fingerprint[:16]}"
        there = self._call("look for objects", self.fs.exists, final)
        if there:
            self._call("copy objects", self.fs.copy, final, kept)
        self.commit(loc, fmt, handle)
        if not there:
            return None
        return f"s3://{self.raw_params.get('endpoint_url') or 'aws'}#{kept}"

    def drop_copy(self, place: str) -> None:
        try:
            self._call("delete objects", self.fs.rm, place.partition("#")[2])
        except FileNotFoundError:
            pass

    def _tmp_key(self, loc: str, token: str) -> str:
        final = self.key(loc)
        head, _, name = final.rpartition("/")
        return f"{head}/.{name}{TMP_MARK}{token}"

    def stage(self, loc: str, fmt: str, data: Any, token: str) -> tuple[str, pa.Schema, int]:
        tmp_key = self._tmp_key(loc, token)
        schema, rows = self._upload(data, fmt, tmp_key)
        return tmp_key, schema, rows

    def _upload(self, data: Any, fmt: str, key: str) -> tuple[pa.Schema, int]:
        """Write ``data`` to a local temporary file in ``fmt`` and upload it as ``key``."""
        from weir.storage.formats import write_table

        with tempfile.TemporaryDirectory(prefix="weir-s3-") as tmp_dir:
            local = Path(tmp_dir) / "data"
            schema, rows = write_table(data, local, fmt)
            self._call("upload", self.fs.put_file, str(local), key)
        return schema, rows

    def commit(self, loc: str, fmt: str, handle: str) -> None:
        if fmt == "folder":
            self._replace_prefix(handle, self.key(loc), self._list(handle))
            self.discard(loc, fmt, handle)
            return
        self._call("copy objects", self.fs.copy, handle, self.key(loc))
        self.discard(loc, fmt, handle)

    def _list(self, prefix: str) -> dict[str, Any]:
        """The objects under ``prefix`` (``prefix/…``), each with its listing's details."""
        try:
            return dict(self._call("list objects", self.fs.find, prefix, None, False, True))
        except FileNotFoundError:
            return {}

    def _replace_prefix(self, staged: str, final: str, new: Collection[str]) -> None:
        """Make the prefix ``final`` hold what the prefix ``staged`` holds (its objects
        ``new``). Objects under a prefix cannot be swapped at once: the new ones are copied in
        first, then the ones the new version does not have are deleted."""
        keep = {final + k[len(staged):] for k in new}
        for key in sorted(new):
            self._call("copy objects", self.fs.copy, key, final + key[len(staged):])
        self._delete(sorted(set(self._list(final)) - keep))

    def _delete(self, keys: list[str]) -> None:
        """Delete the objects ``keys`` (in as few requests as the store takes)."""
        if keys:
            self._call("delete objects", self.fs.rm, keys)

    def discard(self, loc: str, fmt: str, handle: str) -> None:
        """Delete what ``handle`` staged: an object, or every object under it (a folder's, a
        partition's)."""
        try:
            self._call("delete objects", self.fs.rm, handle, True)
        except FileNotFoundError:
            pass

    # -- partitioned datasets: a prefix per partition, in the Hive layout -------------------
    def partitions(self, loc: str, fmt: str, partitioning: Any) -> dict[str, str]:
        """One listing of the dataset's prefix: each partition its objects show (values of a
        discrete dimension found there when none are declared), its version made of its
        objects' keys and ETags."""
        from weir.storage.partitioned_files import versions_of

        root = self.key(loc)
        return versions_of(partitioning, ((key[len(root) + 1:], _object_version(info))
                                          for key, info in self._list(root).items()))

    def read_partitions(self, loc: str, fmt: str, partitioning: Any, keys: list[str],
                        schema: list[ColumnSpec] | None = None) -> pa.Table:
        from weir.model.partitions import is_hidden
        from weir.storage.formats import read_table
        from weir.storage.partitioned_files import read_partition_files

        root = self.key(loc)

        def files_of(key: str) -> list[str]:
            return sorted(k for k in self._list(f"{root}/{key}")
                          if not is_hidden(k[len(root) + 1:]))

        def read(key: str) -> pa.Table:
            with self._call("read objects", self.fs.open, key, "rb") as f:
                return read_table(f, fmt, schema, label=f"s3://{key}")

        return read_partition_files(partitioning, keys, files_of, read, self.describe(loc))

    def stage_partition(self, loc: str, fmt: str, partitioning: Any, key: str, data: Any,
                        token: str) -> tuple[str, pa.Schema, int]:
        """Upload ``data`` as the one object of partition ``key`` under a hidden staging
        prefix beside the partition's (``day=…/.country=FR.weir-tmp-TOKEN/part-0.parquet``);
        the prefix is the handle. A row of another partition is refused before anything is
        uploaded."""
        from weir.storage.formats import as_table
        from weir.storage.partitioned_files import check_inside, part_file

        table = as_table(data)
        check_inside(table, partitioning, key)
        staged = self._tmp_key(f"{loc}/{key}", token)
        self.discard(loc, fmt, staged)
        schema, rows = self._upload(table, fmt, f"{staged}/{part_file(fmt)}")
        return staged, schema, rows

    def commit_partition(self, loc: str, fmt: str, handle: str, partitioning: Any,
                         key: str) -> None:
        """Copy the staged objects over the partition's prefix, delete its old objects the
        new version does not have, and the staging (see the module's docstring for what a
        reader may see meanwhile). Nothing staged is an error, never an emptied partition."""
        new = self._list(handle)
        if not new:
            raise DataError(f"partition {key} of {self.describe(loc)} has nothing staged at "
                            f"s3://{handle}", hint="build the partition again")
        self._replace_prefix(handle, f"{self.key(loc)}/{key}", new)
        self.discard(loc, fmt, handle)

    def drop_partition(self, loc: str, fmt: str, partitioning: Any, key: str) -> None:
        self._delete(sorted(self._list(f"{self.key(loc)}/{key}")))

    def drop(self, loc: str, fmt: str) -> None:
        try:
            self._call("delete objects", self.fs.rm, self.key(loc), True)
        except FileNotFoundError:
            pass

    def cleanup_stale(self, loc: str, fmt: str) -> None:
        final = self.key(loc)
        head, _, name = final.rpartition("/")
        try:
            listing = self._call("list objects", self.fs.ls, head, False)
        except FileNotFoundError:
            return
        for key in listing:
            if os.path.basename(str(key)).startswith(f".{name}{TMP_MARK}"):
                self.discard(loc, fmt, str(key))

    def folder_store(self, loc: str, name: str, writable: bool) -> Any:
        from weir.storage.folders import S3FolderStore

        return S3FolderStore(name, self.fs, self.key(loc), writable)

    def folder_staging(self, loc: str, name: str, token: str) -> tuple[str, Any]:
        from weir.storage.folders import S3FolderStore

        tmp = self._tmp_key(loc, token)
        return tmp, S3FolderStore(name, self.fs, tmp, writable=True)

    def check(self) -> str:
        bucket = str(self.params["bucket"])
        try:
            self._call("list the bucket", self.fs.ls, bucket, False)
        except FileNotFoundError:
            raise ConnectionProblem(f"connection '{self.name}': bucket '{bucket}' does not "
                                    "exist", hint="create it, or fix `bucket`") from None
        return f"listed bucket {bucket}" + (f" at {self.params['endpoint_url']}"
                                            if self.params.get("endpoint_url") else "")


def _object_version(info: Mapping[str, Any]) -> str:
    """An object's version from its listing or lookup: its ETag, else its size and time
    (a store that gives no ETag)."""
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
    return etag or f"{info.get('size')}:{info.get('LastModified')}"
