"""The project's own Python code in a long-lived worker: never stale, never carrying state.

A worker lives for many jobs (for a whole build in the CLI, across builds in the daemon), so a
recipe module cached by the worker could run code the user has since edited, and a module-level
global one run mutated could change what the next run computes. Neither may happen: for every
job, the recipe's module and every *project module* it imports — a ``.py`` file under the
project root, not inside a virtualenv — are executed anew, from the file as it is when the job
starts. What is reused is only the compiled code, and only while the file's bytes are the same
(compared by content, not by mtime: an edit within the same second that keeps the size is still
seen, which Python's own ``__pycache__`` check would miss).

Libraries (pandas, installed packages) are imported once per worker and keep their state; that
is the price of starting warm, and why a worker is replaced after a number of jobs
(``weir.build.pool``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import CodeType, ModuleType
from typing import Any


class ProjectCode:
    """One worker's view of a project's code: which modules it executed, and their compiled
    code by content."""

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[bytes, CodeType]] = {}  # path -> (source, code)
        self._loaded: set[str] = set()  # names in sys.modules that are project modules
        self._finder: _ProjectFinder | None = None

    def fresh_module(self, project_root: str, recipes_dir: str, path: str,
                     name: str) -> ModuleType:
        """The module at ``path`` executed anew, after forgetting every project module the
        previous job imported (so they are executed anew too when it imports them)."""
        self.forget()
        self._watch(project_root)
        if sys.path[:1] != [recipes_dir]:  # first: another root's recipes must not shadow it
            if recipes_dir in sys.path:
                sys.path.remove(recipes_dir)
            sys.path.insert(0, recipes_dir)
        importlib.invalidate_caches()  # a module added since the last job is found
        loader = _ProjectLoader(name, path, self)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # as an import would (dataclasses and pickle look there)
        self._loaded.add(name)
        try:
            loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module

    def forget(self) -> None:
        """Drop the project modules from ``sys.modules``: the next import executes them."""
        for name in self._loaded:
            sys.modules.pop(name, None)
        self._loaded.clear()

    def code(self, path: str) -> CodeType:
        """``path`` compiled, reusing the last compilation while its bytes are unchanged."""
        with open(path, "rb") as f:
            source = f.read()
        known = self._compiled.get(path)
        if known is not None and known[0] == source:
            return known[1]
        code = compile(source, path, "exec", dont_inherit=True)
        self._compiled[path] = (source, code)
        return code

    def _watch(self, project_root: str) -> None:
        root = os.path.realpath(project_root) + os.sep
        if self._finder is not None and self._finder.root == root:
            return
        if self._finder is not None:
            sys.meta_path.remove(self._finder)
            self._compiled.clear()
        self._finder = _ProjectFinder(root, self)
        sys.meta_path.insert(0, self._finder)


def is_project_file(path: str, root: str) -> bool:
    """A ``.py`` file of the project's own (``root`` ends with a separator): under the root and
    not inside an installed package (a virtualenv in the project)."""
    real = os.path.realpath(path)
    if not real.startswith(root) or not real.endswith(".py"):
        return False
    parts = set(real[len(root):].split(os.sep))
    return not parts & {"site-packages", "dist-packages", ".venv", "venv"}


class _ProjectFinder:
    """First on ``sys.meta_path``: finds modules as Python would, and gives those that are
    project files the content-checked loader."""

    def __init__(self, root: str, code: ProjectCode) -> None:
        self.root = root
        self.code = code

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: Any = None) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or not spec.origin or not spec.has_location \
                or not is_project_file(spec.origin, self.root):
            return spec
        spec.loader = _ProjectLoader(name, spec.origin, self.code)
        spec.cached = None
        return spec


class _ProjectLoader(importlib.machinery.SourceFileLoader):
    """Compiles from the source's current bytes (never from ``__pycache__``) and records the
    module as a project module, to be executed anew in the next job."""

    def __init__(self, fullname: str, path: str, code: ProjectCode) -> None:
        super().__init__(fullname, path)
        self.project_code = code

    def get_code(self, fullname: str) -> CodeType:
        return self.project_code.code(self.path)

    def exec_module(self, module: ModuleType) -> None:
        self.project_code._loaded.add(module.__name__)
        super().exec_module(module)
