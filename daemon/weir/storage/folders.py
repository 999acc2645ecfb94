"""The files of a managed folder, on a local directory or an S3 prefix.

Every path a recipe or notebook passes is relative to the folder and checked: absolute paths,
``..`` and symlinks that lead outside the folder are refused, so a recipe cannot read or clobber
files elsewhere through a folder.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import IO, Any

from weir.errors import WeirError
from weir.storage.locations import TMP_MARK


class PathEscape(WeirError):
    """A path that would leave its folder."""


def is_weir_temp(relative: str) -> bool:
    """A file under a name weir gives its own temporary files (``.NAME.weir-tmp-TOKEN``, see
    ``temp_path_for``), judged on the path *inside* the folder only: a folder being staged
    lives under such a name itself, and its files are no less its files."""
    return any(part.startswith(".") and TMP_MARK in part for part in relative.split("/"))


def clean_relative(path: str, folder: str) -> str:
    """A normalised relative path inside the folder, or PathEscape."""
    text = str(path).replace("\\", "/")
    if not text or text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise PathEscape(f"'{path}' is not a path inside folder '{folder}'",
                         hint="give a relative path such as 'charts/revenue.png'")
    norm = posixpath.normpath(text)
    if norm == "." or norm.startswith("../") or norm == "..":
        raise PathEscape(f"'{path}' leaves folder '{folder}'",
                         hint="paths are relative to the folder and stay inside it")
    return norm


class LocalFolderStore:
    def __init__(self, name: str, root: Path, writable: bool) -> None:
        self.name = name
        self.root = root
        self.writable = writable

    def _path(self, path: str, for_write: bool = False) -> Path:
        if for_write and not self.writable:
            raise WeirError(f"folder '{self.name}' is an input here: it can be read, not written",
                            hint="list it in the recipe's outputs to write it")
        rel = clean_relative(path, self.name)
        full = self.root / rel
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(full)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise PathEscape(f"'{path}' leads outside folder '{self.name}' (through a symlink)",
                             hint="a folder's files must stay inside it")
        return full

    def list(self) -> list[str]:
        if not self.root.is_dir():
            return []
        out = []
        for dirpath, _, files in os.walk(self.root):
            for f in files:
                relative = Path(dirpath, f).relative_to(self.root).as_posix()
                if not is_weir_temp(relative):
                    out.append(relative)
        return sorted(out)

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if mode not in ("rb", "wb", "r", "w"):
            raise WeirError(f"folders open files with 'rb', 'wb', 'r' or 'w', not '{mode}'")
        writing = "w" in mode
        full = self._path(path, for_write=writing)
        if writing:
            full.parent.mkdir(parents=True, exist_ok=True)
        elif not full.is_file():
            raise WeirError(f"folder '{self.name}' has no file '{path}'",
                            hint=f"it has: {', '.join(self.list()[:10]) or 'no files'}")
        return open(full, mode, encoding=None if "b" in mode else "utf-8")

    def delete(self, path: str) -> None:
        full = self._path(path, for_write=True)
        if full.is_dir():
            import shutil

            shutil.rmtree(full)
        elif full.exists():
            full.unlink()

    def local_path(self, path: str) -> Path:
        return self._path(path, for_write=self.writable)


class S3FolderStore:
    def __init__(self, name: str, fs: Any, prefix: str, writable: bool) -> None:
        self.name = name
        self.fs = fs
        self.prefix = prefix.rstrip("/")
        self.writable = writable

    def _key(self, path: str, for_write: bool = False) -> str:
        if for_write and not self.writable:
            raise WeirError(f"folder '{self.name}' is an input here: it can be read, not written")
        return f"{self.prefix}/{clean_relative(path, self.name)}"

    def list(self) -> list[str]:
        try:
            keys = self.fs.find(self.prefix)
        except FileNotFoundError:
            return []
        relative = (str(k)[len(self.prefix) + 1:] for k in keys)
        return sorted(r for r in relative if r and not is_weir_temp(r))

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if mode not in ("rb", "wb", "r", "w"):
            raise WeirError(f"folders open files with 'rb', 'wb', 'r' or 'w', not '{mode}'")
        key = self._key(path, for_write="w" in mode)
        try:
            return self.fs.open(key, mode)
        except FileNotFoundError:
            raise WeirError(f"folder '{self.name}' has no file '{path}'") from None

    def delete(self, path: str) -> None:
        try:
            self.fs.rm(self._key(path, for_write=True), recursive=True)
        except FileNotFoundError:
            pass

    def local_path(self, path: str) -> Path:
        raise WeirError(f"folder '{self.name}' is on S3: it has no local path",
                        hint="use folder.open(path, 'wb') and write to the file object")
