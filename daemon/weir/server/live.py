"""The daemon's live project: every Flow file's bytes in memory, and the Flow they make.

The one owner of the daemon's mutable project state. File changes come in as sets of paths;
only those files are re-read, and parsing goes through the in-memory parse cache, so a save
re-parses one file. Every change produces a new immutable snapshot: builds and API requests
work on a snapshot and never see a half-applied change. A broken file yields diagnostics and
keeps the rest of the Flow (the datasets it touches are invalid, the others keep their status);
an unusable weir.yaml keeps the previous Flow. A deploying daemon (weir.server.deploy) moves
it to another directory — the worktree of a newly deployed commit — with ``switch``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from weir.assemble import read_flow
from weir.flow.graph import Flow
from weir.wire import FlowChange
from weir.model.diagnostics import Diagnostic
from weir.model.loader import is_project_file, read_project_files
from weir.model.parse_cache import ParseCache
from weir.model.project import Project


@dataclass(frozen=True)
class FlowSnapshot:
    """One version of the project's files, parsed: what builds and requests work on, so
    none of them sees a half-applied change."""

    version: int
    project: Project | None
    flow: Flow | None
    diagnostics: tuple[Diagnostic, ...]
    at: float = field(default_factory=time.time)

    @property
    def errors(self) -> list[Diagnostic]:
        """What stops builds (a broken scenario file does not: ``blocks_builds``)."""
        from weir.model.diagnostics import blocks_builds

        return [d for d in self.diagnostics if blocks_builds(d)]


class LiveProject:
    def __init__(self, root: Path, machine_connections: tuple[str, str] | None = None,
                 environment: str | None = None, cache_file: Path | None = None) -> None:
        self.root = root  # where the Flow's files are read (a snapshot's project.root)
        self.machine_connections = machine_connections
        self.environment = environment  # weir.yaml's, whose connections and variables apply
        # A deploying daemon keeps its cache in its state directory, not in a worktree.
        self.cache = ParseCache(cache_file or root / ".weir" / "cache" / "flow.msgpack")
        self._lock = threading.Lock()
        self.texts, _ = read_project_files(root)
        self.snapshot = self._assemble(0, None)
        self.cache.save()

    def _assemble(self, version: int, previous: FlowSnapshot | None) -> FlowSnapshot:
        read = read_flow(self.root, cache=self.cache, files=self.texts,
                         machine_connections=self.machine_connections,
                         environment=self.environment)
        if read.flow is None and previous is not None and previous.flow is not None:
            # An unusable weir.yaml: keep serving the last good Flow.
            return FlowSnapshot(version, previous.project, previous.flow, read.diagnostics)
        return FlowSnapshot(version, read.project, read.flow, read.diagnostics)

    def apply(self, paths: set[str] | None, always: bool = False) -> FlowChange | None:
        """Re-read ``paths`` (project-relative; None: rescan everything) and rebuild the Flow.
        Returns None when no Flow file was among them (``always``: a new snapshot even when
        no file's bytes changed — its root did)."""
        started = time.perf_counter()
        with self._lock:
            if paths is None:
                texts, _ = read_project_files(self.root)
                touched = set(texts) | set(self.texts)
                changed_any = texts != self.texts
                self.texts = texts
            else:
                touched = {p for p in paths if is_project_file(p)}
                changed_any = False
                for rel in touched:
                    try:
                        data = (self.root / rel).read_bytes()
                    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                        changed_any |= self.texts.pop(rel, None) is not None
                        continue
                    except OSError:
                        continue
                    if self.texts.get(rel) != data:
                        self.texts[rel] = data
                        changed_any = True
            if not changed_any and not always:
                return None
            old = self.snapshot
            new = self._assemble(old.version + 1, old)
            self.snapshot = new
        added, removed, changed = _diff(old, new)
        return FlowChange(new.version, tuple(sorted(touched)), added, removed, changed,
                          len(new.errors), time.perf_counter() - started)

    def switch(self, root: Path) -> FlowChange | None:
        """Read the Flow from another directory from now on (a deploy's new worktree): every
        file is read there, and the snapshot's ``project.root`` says where, so a build or
        run that took the previous snapshot keeps working in the previous directory."""
        with self._lock:
            self.root = root
        return self.apply(None, always=True)

    def save_cache(self) -> None:
        with self._lock:
            self.cache.save()


def _diff(old: FlowSnapshot, new: FlowSnapshot) -> tuple[tuple[str, ...], tuple[str, ...],
                                                  tuple[str, ...]]:
    a = old.project.datasets if old.project else {}
    b = new.project.datasets if new.project else {}
    ra = old.project.recipes if old.project else {}
    rb = new.project.recipes if new.project else {}
    added = tuple(sorted(set(b) - set(a)))
    removed = tuple(sorted(set(a) - set(b)))
    changed = []
    for name in sorted(set(a) & set(b)):
        da, db = a[name], b[name]
        recipe_a = ra.get(da.recipe) if da.recipe else None
        recipe_b = rb.get(db.recipe) if db.recipe else None
        if da != db or recipe_a != recipe_b:
            changed.append(name)
    return added, removed, tuple(changed)
