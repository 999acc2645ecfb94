"""Files as objects on an S3-compatible store (AWS, MinIO, Ceph, moto…) through s3fs.

A write uploads a temporary object beside the final key and, on commit, copies it into place
(an object appears whole or not at all) and deletes the temporary one. A source object's version
is its ETag.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
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
            try:
                found = self._call("list objects", self.fs.find, self.key(loc), None, False, True)
            except FileNotFoundError:
                return None, None
            if not found:
                return None, None
            listing = sorted((k, str(v.get("ETag", "")).strip('"')) for k, v in found.items())
            return hashlib.blake2b(repr(listing).encode(), digest_size=16).hexdigest(), None
        try:
            info = self._call("look up objects", self.fs.info, self.key(loc))
        except FileNotFoundError:
            return None, None
        etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
        return (etag or f"{info.get('size')}:{info.get('LastModified')}"), None

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
        from weir.storage.formats import write_table

        tmp_key = self._tmp_key(loc, token)
        with tempfile.TemporaryDirectory(prefix="weir-s3-") as tmp_dir:
            local = Path(tmp_dir) / "data"
            schema, rows = write_table(data, local, fmt)
            self._call("upload", self.fs.put_file, str(local), tmp_key)
        return tmp_key, schema, rows

    def commit(self, loc: str, fmt: str, handle: str) -> None:
        if fmt == "folder":
            # Objects under a prefix cannot be swapped at once: the new files are copied in
            # first, then files the new version does not have are deleted.
            final = self.key(loc)
            try:
                new = set(self._call("list objects", self.fs.find, handle))
            except FileNotFoundError:
                new = set()
            keep = {final + k[len(handle):] for k in new}
            for key in sorted(new):
                self._call("copy objects", self.fs.copy, key, final + key[len(handle):])
            try:
                old = set(self._call("list objects", self.fs.find, final))
            except FileNotFoundError:
                old = set()
            for key in sorted(old - keep):
                self._call("delete objects", self.fs.rm, key)
            self.discard(loc, fmt, handle)
            return
        self._call("copy objects", self.fs.copy, handle, self.key(loc))
        self.discard(loc, fmt, handle)

    def discard(self, loc: str, fmt: str, handle: str) -> None:
        try:
            self._call("delete objects", self.fs.rm, handle, fmt == "folder")
        except FileNotFoundError:
            pass

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
