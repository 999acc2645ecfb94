"""The projects open in the editor: one per weir.yaml, each with its files' current text.

Open documents are overlays over the disk, so diagnostics, completion and hover follow what the
user types, not what was last saved. Parsing goes through a long-lived parse cache, so a
keystroke re-parses one file. What the data says (statuses, observed schemas, row counts) is
read from the state store and kept until the store or the Flow's fingerprints change, so a
hover or a CodeLens answers from memory. While the project's daemon runs, the statuses are the
daemon's (taken when its event stream connects, then changed by each `status` event), so the
editor shows what the Flow page, the API and `weir status` show of the saved files; what the
open buffers change is shown on top, as the editor knows it before any save (a dataset they
make invalid; one whose code they change, stale "changed in an unsaved edit").
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from weir import wire
from weir.build.state import DatasetRecord, StateStore
from weir.errors import StateError
from weir.assemble import read_flow
from weir.flow.graph import Flow
from weir.flow.status import State, Status
from weir.model.diagnostics import Diagnostic
from weir.model.loader import find_project_root, is_project_file, read_project_files
from weir.model.parse_cache import ParseCache
from weir.model.project import ColumnSpec, Dataset, Project
from weir.workspace import (STATE_DIR, Workspace, active_environment, machine_connections_file,
                            state_dir_for)

# Source data can change on disk without any event reaching us: statuses older than this are
# recomputed on the next question.
STATUS_TTL = 5.0
# A file with one of these does not parse at all: it is being typed (see OpenProject.reload).
HALF_TYPED = frozenset({"python-syntax", "sql-syntax", "r-syntax", "yaml-syntax"})
# Without file watching from the client, the project's files on disk are read again at most
# this often (a keystroke re-parses the buffer, not the 1,000 files around it).
DISK_TTL = 2.0


@dataclass
class Records:
    """What the state store remembers of the last builds, read at one moment."""

    key: tuple[int, ...]
    records: dict[str, DatasetRecord]
    commits: dict[str, str]


@dataclass
class Statuses:
    key: tuple[Any, ...]
    taken: float
    by_name: dict[str, Status] | None  # None: unknown (no Flow yet, the data unreachable)
    # Each partitioned dataset's partitions by state (DataStatus.partition_counts).
    partitions: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class OpenProject:
    root: Path
    cache: ParseCache
    overlays: dict[str, str] = field(default_factory=dict)
    project: Project | None = None
    flow: Flow | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    published: set[str] = field(default_factory=set)  # files the editor has diagnostics for
    generation: int = 0  # bumped by every reload that changed what the Flow computes
    disk: dict[str, bytes] | None = None  # the project's files as last read from disk
    disk_read: float = 0.0
    watched: bool = False  # the client tells us when files change on disk
    _flow_key: tuple[Any, ...] = ()
    datasets_key: int = 0  # changes when any dataset's definition (a declared schema) does
    checks: dict[str, tuple[Any, list[Diagnostic]]] = field(default_factory=dict)
    # The environment the editor runs in (WEIR_ENV, as the editor's weir does): its variables
    # and connections apply, and the statuses are its own state's.
    environment: str | None = field(default_factory=active_environment)

    @property
    def state_dir(self) -> Path:
        return state_dir_for(self.root, self.environment)
    last_good: dict[str, str] = field(default_factory=dict)  # open files' last parsing text
    _records: Records | None = None
    state_problem: StateError | None = None  # why the state store cannot be read, if it cannot
    _statuses: Statuses | None = None
    _source_schemas: dict[str, tuple[Any, list[ColumnSpec] | None]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    # The daemon's statuses while its event stream is followed (None: compute them here).
    daemon_statuses: dict[str, wire.DatasetStatus] | None = None
    _daemon_seq: int = 0  # bumped by every change of daemon_statuses
    _daemon_view: tuple[tuple[int, int], dict[str, Status]] | None = None

    def reload(self) -> None:
        with self._lock:
            if self.disk is None or (not self.watched
                                     and time.monotonic() - self.disk_read > DISK_TTL):
                self.disk, _ = read_project_files(self.root)
                self.disk_read = time.monotonic()
            machine = machine_connections_file()
            read = read_flow(self.root, overlays=self.overlays, cache=self.cache,
                             machine_connections=machine, files=self.disk,
                             environment=self.environment)
            diags = list(read.diagnostics)
            # A file being typed is often half-written. Rather than let its datasets vanish
            # (no completion of them, "unknown input" everywhere they are read), take its last
            # version that parsed, and report only its syntax error.
            broken = {d.file for d in diags if d.file in self.overlays and d.code in HALF_TYPED}
            stand_ins: dict[str, str] = {}
            for rel in broken:
                text = self.last_good.get(rel) or self._disk_text(rel)
                if text is not None and text != self.overlays[rel]:
                    stand_ins[rel] = text
            if stand_ins:
                good = read_flow(self.root, overlays={**self.overlays, **stand_ins},
                                 cache=self.cache, machine_connections=machine, files=self.disk,
                                 environment=self.environment)
                if good.project is not None:
                    read = good
                    diags = [d for d in diags if d.file in stand_ins] + [
                        d for d in good.diagnostics if d.file not in stand_ins]
            for rel, text in self.overlays.items():
                if rel not in broken:
                    self.last_good[rel] = text
            self.project = read.project or self.project
            self.flow = read.flow or self.flow
            self.diagnostics = diags
            # The model is thousands of long-lived objects without reference cycles: keep the
            # cyclic collector from walking them all again every few keystrokes (a 30-50 ms
            # pause); reference counting still frees them when a reload replaces them.
            gc.freeze()
            key = _flow_key(self.project)
            self.datasets_key = hash(key[1]) if key else 0
            if key != self._flow_key:
                self._flow_key = key
                self.generation += 1

    def _disk_text(self, rel: str) -> str | None:
        raw = (self.disk or {}).get(rel)
        try:
            return raw.decode("utf-8") if raw is not None else None
        except UnicodeDecodeError:
            return None

    def file_text(self, rel: str) -> str | None:
        """A project file as the editor has it: the open buffer, else the copy kept in memory
        (no disk read per question)."""
        text = self.overlays.get(rel)
        return text if text is not None else self._disk_text(rel)

    def line_text(self, rel: str, line: int) -> str | None:
        """0-based ``line`` of a project file, as ``file_text`` has it."""
        text = self.file_text(rel)
        lines = text.splitlines() if text is not None else []
        return lines[line] if line < len(lines) else None

    def disk_changed(self, rels: list[str]) -> None:
        """Files changed on disk (saved, created, deleted, checked out): read them again."""
        with self._lock:
            if self.disk is None:
                return
            for rel in rels:
                if not is_project_file(rel):
                    continue
                try:
                    self.disk[rel] = (self.root / rel).read_bytes()
                except OSError:
                    self.disk.pop(rel, None)

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    # -- what the data says ------------------------------------------------------------
    def invalidate_facts(self) -> None:
        """Forget what the state store said (a build ended, the daemon told us)."""
        with self._lock:
            self._records = None
            self._statuses = None

    def records(self) -> Records:
        """The state store's records; read again only when the store's files changed."""
        with self._lock:
            key = _store_key(self.state_dir)
            if self._records is None or self._records.key != key:
                records: dict[str, DatasetRecord] = {}
                commits: dict[str, str] = {}
                db = self.state_dir / "state.db"
                self.state_problem = None
                if db.exists():
                    try:
                        store = StateStore(db)
                        try:
                            records, commits = store.records(), store.run_commits()
                        finally:
                            store.close()
                    except StateError as exc:
                        # A damaged store costs the editor its statuses and observed schemas,
                        # not its completion, hover or diagnostics; the server says why once.
                        self.state_problem = exc
                self._records = Records(_store_key(self.state_dir), records, commits)
            return self._records

    def last_checks(self, name: str) -> tuple[wire.CheckResult, ...]:
        """What the dataset's checks said when they last ran (a build, or `weir check`)."""
        db = self.state_dir / "state.db"
        if not db.exists():
            return ()
        try:
            store = StateStore(db)
            try:
                return store.last_checks(name)[1]
            finally:
                store.close()
        except StateError:
            return ()  # said once by records(); the hover goes on without them

    def take_daemon_statuses(self, report: wire.StatusReport | None) -> None:
        """The daemon's statuses (its event stream connected), or None: it went away, so
        they are computed here again."""
        with self._lock:
            self.daemon_statuses = ({d.name: d for d in report.datasets}
                                    if report is not None else None)
            self._daemon_seq += 1
            self._statuses = None

    def apply_status_change(self, change: wire.StatusChange) -> None:
        """A `status` event of the daemon: what changed, as it is now."""
        with self._lock:
            if self.daemon_statuses is None:
                return  # not connected yet: the statuses taken on connecting include it
            for d in change.changed:
                self.daemon_statuses[d.name] = d
            for name in change.removed:
                self.daemon_statuses.pop(name, None)
            self._daemon_seq += 1

    def _from_daemon(self, daemon: dict[str, wire.DatasetStatus]) -> dict[str, Status]:
        key = (self.generation, self._daemon_seq)
        if self._daemon_view is None or self._daemon_view[0] != key:
            view: dict[str, Status] = {}
            invalid = self.flow.invalid if self.flow is not None else {}
            unsaved = self._unsaved_changes()
            for name in self.project.datasets if self.project is not None else ():
                if name in invalid:  # what the open buffers break, before any save
                    view[name] = Status(State.INVALID, (invalid[name],))
                elif (d := daemon.get(name)) is not None:
                    view[name] = _with_unsaved(Status(d.status, d.reasons), unsaved.get(name))
                elif unsaved.get(name) == UNSAVED_NEW:  # only the open buffers define it
                    view[name] = Status(State.NEVER_BUILT, (UNSAVED_NEW,))
            self._daemon_view = (key, view)
        return self._daemon_view[1]

    def _unsaved_changes(self) -> dict[str, str]:
        """The datasets whose definition the open buffers change from the saved files (the
        daemon's Flow), each with why: the editor shows them stale as the user types, before
        the save that makes the daemon say so. Found by comparing both Flows' fingerprints
        over the same (unknown) source data, so it is pure and probes nothing."""
        if self.flow is None or not any(
                text != self._disk_text(rel) for rel, text in self.overlays.items()):
            return {}
        from weir.flow.fingerprint import expected_fingerprints

        saved = read_flow(self.root, overlays={}, cache=self.cache,
                          machine_connections=machine_connections_file(), files=self.disk,
                          environment=self.environment)
        if saved.flow is None:
            return {}
        now, _ = expected_fingerprints(self.flow, {})
        before, _ = expected_fingerprints(saved.flow, {})
        return {name: UNSAVED if name in before else UNSAVED_NEW
                for name, fp in now.items() if before.get(name) != fp}

    def statuses(self) -> dict[str, Status] | None:
        """Every dataset's status: the daemon's while one is followed; else as `weir status`
        computes it, kept while neither the Flow's fingerprints nor the state store change,
        and for STATUS_TTL at most."""
        with self._lock:
            if self.daemon_statuses is not None:
                return self._from_daemon(self.daemon_statuses)
            key = (self.generation, _store_key(self.state_dir))
            cached = self._statuses
            if cached is not None and cached.key == key and (
                    time.monotonic() - cached.taken < STATUS_TTL):
                return cached.by_name
            by_name, partitions = None, {}
            if self.project is not None and self.flow is not None:
                # An error makes only the datasets it touches invalid (Flow.invalid); the
                # rest keep their status while the user types.
                ws = Workspace(self.root, self.project, self.flow, self.diagnostics)
                try:
                    snap = ws.snapshot()
                    by_name, partitions = snap.statuses, snap.all_partition_counts()
                except Exception:  # noqa: BLE001 - unreachable data must not break the editor
                    by_name = None
                finally:
                    ws.close()
            # The snapshot may have written (source stats): key on the store as it is now.
            self._statuses = Statuses((self.generation, _store_key(self.state_dir)),
                                      time.monotonic(), by_name, partitions)
            return by_name

    def status(self, name: str) -> Status | None:
        statuses = self.statuses()
        return statuses.get(name) if statuses else None

    def partition_counts(self, name: str) -> dict[str, int] | None:
        """How many of a partitioned dataset's partitions are in each state (a source's: how
        many it has), from the same look at the data as its status (the daemon's, or this
        process's); None when not partitioned or not known."""
        with self._lock:
            self.statuses()
            if self.daemon_statuses is not None:
                known = self.daemon_statuses.get(name)
                return known.partitions if known is not None else None
            return self._statuses.partitions.get(name) if self._statuses else None

    def schema(self, name: str, records: Records | None = None) -> list[ColumnSpec] | None:
        """The dataset's columns: declared, else observed at its last build, else (for a local
        source file) read from the file's header. Pass ``records`` when asking for many."""
        if self.project is None or name not in self.project.datasets:
            return None
        ds = self.project.datasets[name]
        if ds.schema:
            return list(ds.schema)
        record = (records or self.records()).records.get(name)
        if record is not None and record.schema:
            return [ColumnSpec(str(c), str(ty), bool(n)) for c, ty, n in record.schema]
        if ds.is_source and not ds.is_folder:
            return self._source_schema(ds)
        return None

    def _source_schema(self, ds: Dataset) -> list[ColumnSpec] | None:
        assert self.project is not None
        from weir.storage.backends import backend_for

        conn = self.project.connections.get(ds.connection)
        if conn is None or conn.type != "filesystem":
            return None  # only local files are cheap enough to look into while typing
        try:
            backend = backend_for(self.root, conn.name, conn.type, conn.params)
            path = backend.local_path(ds.path)
            if path is None or not path.is_file():
                return None
            stat = path.stat()
            key = (str(path), stat.st_mtime_ns, stat.st_size, ds.format)
            cached = self._source_schemas.get(ds.name)
            if cached is not None and cached[0] == key:
                return cached[1]
            schema = backend.sample_schema(ds.path, ds.format)
            columns = None if schema is None else [
                ColumnSpec(f.name, str(f.type), f.nullable) for f in schema]
        except Exception:  # noqa: BLE001 - a file we cannot read simply has no known schema
            return None
        self._source_schemas[ds.name] = (key, columns)
        return columns


UNSAVED = "changed in an unsaved edit"
UNSAVED_NEW = "defined in an unsaved edit"


def _with_unsaved(status: Status, why: str | None) -> Status:
    """The daemon's status of the saved files, and what the open buffers change of it."""
    if why is None or status.state in (State.NEVER_BUILT, State.SOURCE):
        return status
    if status.up_to_date:
        return Status(State.STALE, (why,), status.data_present)
    return replace(status, reasons=(*status.reasons, why))


def _flow_key(project: Project | None) -> tuple[Any, ...]:
    """What statuses depend on in the project's text: recipes' code and variables, datasets'
    definitions. A keystroke in a comment leaves it alone, so cached statuses stay."""
    if project is None:
        return ()
    return (tuple(sorted((r.name, r.code_hash, r.input_names, r.outputs)
                         for r in project.recipes.values())),
            tuple(sorted((n, repr(d.definition())) for n, d in project.datasets.items())),
            repr(sorted(project.config.variables.items())))


def _store_key(state_dir: Path) -> tuple[int, ...]:
    out = []
    for suffix in ("", "-wal"):
        try:
            st = (state_dir / f"state.db{suffix}").stat()
            out += [st.st_mtime_ns, st.st_size]
        except OSError:
            out += [0, 0]
    return tuple(out)


class Projects:
    """Every project the editor has touched, by root: each gets its own Flow."""

    def __init__(self) -> None:
        self.by_root: dict[Path, OpenProject] = {}

    def for_path(self, path: Path) -> OpenProject | None:
        root = find_project_root(path if path.is_dir() else path.parent)
        if root is None:
            return None
        if root not in self.by_root:
            state = OpenProject(root, ParseCache(root / STATE_DIR / "cache" / "flow.msgpack"))
            state.reload()
            state.cache.save()
            self.by_root[root] = state
        return self.by_root[root]

    def set_text(self, path: Path, text: str | None) -> OpenProject | None:
        project = self.for_path(path)
        if project is None:
            return None
        rel = project.relative(path)
        if text is None:
            project.overlays.pop(rel, None)
            project.checks.pop(rel, None)
            project.last_good.pop(rel, None)
        else:
            project.overlays[rel] = text
        project.reload()
        return project

    def all(self) -> Mapping[Path, OpenProject]:
        return self.by_root
