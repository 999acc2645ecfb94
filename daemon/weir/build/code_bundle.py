"""The project's code, carried to a cluster's workers with the build.

A Dask worker on another machine has no checkout of the project, or one at another commit; a
build must run the recipes as they are where it was started. So the build takes its project's
code files (Python, SQL, R: what a recipe is or imports) as one bundle, sent once to each worker;
a worker that sees the project at the same path with the same bytes (a shared checkout, the
tests' loopback cluster) runs it in place, any other writes the bundle once into a directory of
its own named by the bundle's digest and runs the job there. Data is not code: it stays where
its connection says.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from weir.errors import WeirError

CODE_SUFFIXES = (".py", ".sql", ".R", ".r")
# Never the project's own code: weir's state, git, caches, installed packages.
SKIPPED = {".weir", ".git", "__pycache__", "node_modules", ".venv", "venv", "site-packages",
           ".mypy_cache", ".pytest_cache", ".ruff_cache"}
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CodeBundle:
    digest: str
    files: tuple[tuple[str, bytes], ...]  # (path relative to the project, with /, its bytes)


def bundle_project(root: Path, data_dirs: Iterable[Path] = ()) -> CodeBundle:
    """The code files under ``root``, but for those in ``data_dirs`` (connections' roots)
    and in a virtualenv."""
    skip = {os.path.realpath(d) for d in data_dirs}
    files: list[tuple[str, bytes]] = []
    size = 0
    for here, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED
                         and os.path.realpath(os.path.join(here, d)) not in skip
                         and not os.path.exists(os.path.join(here, d, "pyvenv.cfg")))
        for name in sorted(names):
            if name.endswith(CODE_SUFFIXES):
                path = os.path.join(here, name)
                try:
                    data = Path(path).read_bytes()
                except OSError as exc:
                    rel = os.path.relpath(path, root)
                    raise WeirError(f"{rel}: cannot be read to send to the cluster's workers "
                                    f"({exc.strerror or exc})", hint="fix or remove the file "
                                    "(a dangling link?); a build on a cluster carries the "
                                    "project's code files") from None
                size += len(data)
                if size > MAX_BYTES:  # said as soon as it is known, not after reading it all
                    raise _too_big(size)
                files.append((os.path.relpath(path, root).replace(os.sep, "/"), data))
    digest = hashlib.sha256()
    for rel, data in files:
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return CodeBundle(digest.hexdigest()[:24], tuple(files))


def _too_big(size: int) -> WeirError:
    return WeirError(f"the project's code files come to more than {MAX_BYTES // 2**20} MiB, "
                     "more than a build carries to a cluster",
                     hint="keep data out of the project's code directories (a .py, .sql or "
                     ".R file is code), or give it a connection")


def matches(bundle: CodeBundle, root: str) -> bool:
    """Whether ``root`` holds the bundle's files, byte for byte (a shared checkout)."""
    try:
        return all(Path(root, rel).read_bytes() == data for rel, data in bundle.files)
    except OSError:
        return False


def unpack(bundle: CodeBundle, base: Path | None = None) -> Path:
    """The bundle's files in a directory of this machine, written once per digest (written
    aside and renamed, so processes unpacking the same bundle at once never see half of it)."""
    base = base or Path(tempfile.gettempdir()) / "weir-code"
    target = base / bundle.digest
    if target.is_dir():
        return target
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{bundle.digest}-", dir=base))
    try:
        for rel, data in bundle.files:
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.is_dir():  # (else another process unpacked it first)
            raise
    return target
