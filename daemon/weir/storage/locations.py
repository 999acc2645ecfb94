"""Where a dataset's data is on disk, and its version — with nothing heavier than ``os.stat``.

Kept free of pyarrow so that status and no-op builds start in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir.errors import WeirError
from weir.model.project import Dataset, Project

TMP_MARK = ".weir-tmp-"


def connection_root(project_root: Path, name: str, root_setting: str) -> Path:
    from weir.storage.secrets import resolve_value

    root = Path(os.path.expanduser(str(resolve_value(root_setting, name, "root"))))
    return root if root.is_absolute() else project_root / root


def dataset_path(project: Project, ds: Dataset) -> Path:
    """The local file of a dataset on a filesystem connection."""
    conn = project.connections[ds.connection]
    if conn.type != "filesystem":
        raise WeirError(f"dataset '{ds.name}' is on a {conn.type} connection, not in a file")
    return connection_root(Path(project.root), conn.name, str(conn.params["root"])) / ds.path


def temp_path_for(final: Path, token: str) -> Path:
    """A sibling of ``final`` (same filesystem, so the rename into place is atomic)."""
    return final.with_name(f".{final.name}{TMP_MARK}{token}")


def link_copy(source: Path, target: Path) -> None:
    """``target`` as an exact copy of the file or directory ``source``. A file is a hard link
    where the file system allows (no byte copied: weir never rewrites a dataset's published
    file in place — a new version is written elsewhere and renamed over), else a copy. A
    directory — a managed folder — is copied file by file: its files are written in place
    (``weir.Folder`` outside a build, a tool saving into it), and a link would carry such a
    write into every version and environment sharing the inode."""
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def remove_path(path: Path) -> None:
    """Remove a file or a directory tree; one already gone is not an error."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def remove_stale_temps(final: Path) -> int:
    """Delete temporary files a killed build left beside ``final``; returns how many."""
    removed = 0
    try:
        entries = list(os.scandir(final.parent))
    except OSError:
        return 0
    prefix = f".{final.name}{TMP_MARK}"
    for entry in entries:
        if entry.name.startswith(prefix):
            try:
                if entry.is_dir(follow_symlinks=False):
                    import shutil

                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int

    def key(self) -> str:
        return f"{self.size}:{self.mtime_ns}"


def stat_data(path: Path) -> FileStat | None:
    """Size and mtime of a file, or of a directory's files taken together; None if absent."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not path.is_dir():
        return FileStat(st.st_size, st.st_mtime_ns)
    size, mtime = 0, 0
    for file in sorted(_files(path)):
        s = file.stat()
        size += s.st_size
        mtime = max(mtime, s.st_mtime_ns)
    return FileStat(size, mtime)


def _files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file() and not p.name.startswith(".")]


def content_hash(path: Path) -> str:
    """blake2b of a file's bytes, or of a directory's (relative names and contents)."""
    h = hashlib.blake2b(digest_size=16)
    files = sorted(_files(path)) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def source_versions(project: Project, known: Mapping[str, tuple[str, str]],
                    backends: Any, problems: dict[str, WeirError] | None = None,
                    only: Collection[str] | None = None
                    ) -> tuple[dict[str, str | None], dict[str, tuple[str, str]]]:
    """Each source's data version (files: content hash, recomputed only when size or mtime
    moved; objects: ETag; tables: a change probe or the dataset's version_query).

    ``known`` maps a source to ``(probe, version)`` from the state store; the second value
    returned is the entries that changed and should be stored. ``only``: just these datasets
    (the daemon probes what changed, not the whole Flow). With ``problems``, a source
    whose connection cannot be used (a missing credential, an unreachable server) gets no
    version and its error goes there, instead of stopping every other source.
    """
    versions: dict[str, str | None] = {}
    updates: dict[str, tuple[str, str]] = {}
    asked = set(only) if only is not None else None  # a poll passes every dataset: no O(N²)
    for name, ds in project.datasets.items():
        if asked is not None and name not in asked:
            continue
        if not ds.is_source or ds.connection not in project.connections:
            continue  # an unknown connection is the project's error, reported where it is
        if ds.partitioning is not None:
            continue  # versioned per partition (source_partitions)
        try:
            with backends.using(ds.connection) as backend:
                version, update = backend.version(ds.path, ds.format, known.get(name),
                                                  ds.version_query)
        except WeirError as exc:  # e.g. a credential that is not set: only this source suffers
            if problems is None:
                raise
            problems[name] = exc
            version, update = None, None
        versions[name] = version
        if update is not None:
            updates[name] = update
    return versions, updates


def partitions_version(found: Mapping[str, str]) -> str:
    """A partitioned source's data version as one text — its partitions, each with its own
    version — so a new partition, a changed one and one gone each make another: what the
    daemon's status and a `dataset_changed` trigger compare."""
    return json.dumps(sorted(found.items()))


def partitions_in(version: str) -> dict[str, str]:
    """The partitions and their versions that `partitions_version` made ``version`` of."""
    return dict(json.loads(version))


def source_partitions(project: Project, backends: Any,
                      problems: dict[str, WeirError] | None = None,
                      only: Collection[str] | None = None) -> dict[str, dict[str, str]]:
    """Each partitioned source's partitions, with their data versions (its layout listed:
    a stat per file, or one ``GROUP BY`` of a table); errors as `source_versions`."""
    found: dict[str, dict[str, str]] = {}
    for name, ds in project.datasets.items():
        if not ds.is_source or ds.partitioning is None or (only is not None
                                                            and name not in only):
            continue
        if ds.connection not in project.connections:
            continue
        try:
            with backends.using(ds.connection) as backend:
                found[name] = backend.partitions(ds.path, ds.format, ds.partitioning)
        except WeirError as exc:
            if problems is None:
                raise
            problems[name] = exc
            found[name] = {}
    return found


def rejected_path(project_root: str | Path, dataset: str) -> Path:
    """Where the last output of ``dataset`` that its checks rejected is kept to look at (a
    Parquet file under ``.weir/``, whatever storage the dataset lives on): never published,
    replaced by the next one rejected."""
    return Path(project_root) / ".weir" / "rejected" / f"{dataset}.parquet"


def rejected_file(project_root: str | Path, dataset: str) -> Path:
    """``rejected_path`` of a dataset that has rejected data; none is the user's error."""
    path = rejected_path(project_root, dataset)
    if not path.is_file():
        raise WeirError(f"'{dataset}' has no rejected data",
                        hint="a build whose `error` checks fail keeps the output it did not "
                        "publish (`weir show NAME --rejected`); none has yet")
    return path
