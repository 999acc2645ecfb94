"""``weir.Folder``: a managed folder's files (charts, models, documents) by name.

As a recipe input it is read-only; listed in a recipe's ``outputs`` and taken as a parameter
annotated ``weir.Folder``, it is writable — and starts empty, so what a build leaves in it is
exactly what the recipe wrote. Outside a build the project is found as for ``weir.Dataset``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from weir.errors import WeirError


class Folder:
    def __init__(self, name: str, project: str | os.PathLike[str] | None = None) -> None:
        self.name = name
        self._project = Path(project) if project is not None else None
        self._store: Any = None

    @classmethod
    def _bound(cls, name: str, store: Any) -> Folder:
        folder = cls(name)
        folder._store = store
        return folder

    def _files(self) -> Any:
        if self._store is None:
            from weir.model.suggest import did_you_mean
            from weir.workspace import Workspace

            ws = Workspace.open(self._project)
            try:
                ds = ws.project.datasets.get(self.name)
                if ds is None or not ds.is_folder:
                    folders = [n for n, d in ws.project.datasets.items() if d.is_folder]
                    raise WeirError(f"unknown folder '{self.name}'" if ds is None else
                                    f"'{self.name}' is a dataset, not a folder",
                                    hint=did_you_mean(self.name, folders)
                                    or "managed folders are defined in folders/*.yaml or by "
                                    "a recipe's outputs")
                self._store = ws.backends[ds.connection].folder_store(ds.path, self.name,
                                                                      writable=True)
            finally:
                ws.close()
        return self._store

    def list(self) -> list[str]:
        """Every file, as a path relative to the folder, sorted."""
        return list(self._files().list())

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        return self._files().open(path, mode)

    def read_bytes(self, path: str) -> bytes:
        with self.open(path, "rb") as f:
            return f.read()

    def write_bytes(self, path: str, data: bytes) -> None:
        with self.open(path, "wb") as f:
            f.write(data)

    def delete(self, path: str) -> None:
        self._files().delete(path)

    def local_path(self, path: str) -> Path:
        """A local filesystem path for ``path`` (for libraries that want a file name, such as
        matplotlib's savefig); folders on S3 have none."""
        return self._files().local_path(path)

    def __repr__(self) -> str:
        return f"weir.Folder({self.name!r})"
