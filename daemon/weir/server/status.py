"""The daemon's data status, kept: one snapshot beside the Flow snapshot that every API read,
plan and build of the daemon takes, and that the `status` event reports the changes of.

``Workspace.snapshot`` (a command on its own) probes storage for every dataset and reads the
whole state store each time: ~40 ms at 1,000 datasets. The keeper holds the pieces instead —
each source's data version, each dataset's presence, the state store's records and kept
outputs — and redoes only what a change touched:

- a new Flow version: the datasets that are new or whose definition (or connection) changed
  are probed; the expected fingerprints are computed again (pure);
- the state store written by anyone (a daemon build committing an output, a
  ``weir build --no-daemon`` beside the daemon): seen on the next read through SQLite's
  ``PRAGMA data_version`` (microseconds), so a plan made right after a commit never works from
  stale records; the store's change counters (triggers) say which tables to read again, and only
  the records that changed are decoded;
- the data itself changed underneath (a source file saved, an output deleted by hand): found by
  the poll, every ``daemon: poll_sources`` of weir.yaml, from the keeper's own thread. It stats
  files (a content hash only for a file whose size or mtime moved) and never blocks a read
  while it probes.

Whenever the statuses it hands out differ from the last ones it announced, it publishes what
changed (``wire.StatusChange``). Time comes from an injected :class:`Clock`, so tests move it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from weir import wire
from weir.build.state import DatasetRecord, StateStore, decode_record
from weir.errors import WeirError
from weir.flow.fingerprint import Components, expected_fingerprints
from weir.flow.partition_status import Remembered, partition_fingerprints, partitioned
from weir.flow.status import Stored
from weir.model.project import Project
from weir.server.live import FlowSnapshot
from weir.storage.backends import Backends
from weir.storage.locations import (partitions_in, partitions_version, source_partitions,
                                    source_versions)
from weir.workspace import DataStatus, RecordsByDataset, data_status, presence

log = logging.getLogger("weir.daemon")


class Clock(Protocol):
    """Time as the keeper's thread sees it."""

    def now(self) -> float: ...

    def sleep_until(self, cond: threading.Condition, deadline: float) -> None:
        """With ``cond`` held: wait until it is notified or this clock reaches ``deadline``
        (waking early is allowed; the caller looks again)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    def sleep_until(self, cond: threading.Condition, deadline: float) -> None:
        cond.wait(max(0.0, deadline - time.monotonic()))


@dataclass(frozen=True)
class Probe:
    """What storage said of one dataset, and for which definition: a dataset whose definition
    or connection changed is probed again."""

    key: tuple[Any, ...]
    present: bool
    version: str | None = None  # a source's data version
    problem: WeirError | None = None  # its connection cannot be used


@dataclass
class _Probed:
    probes: dict[str, Probe]
    stat_updates: dict[str, tuple[str, str]]


def probe_key(project: Project, name: str) -> tuple[Any, ...]:
    ds = project.datasets[name]
    return (ds, project.connections.get(ds.connection))


def probe(root: Path, project: Project, names: Collection[str],
          known: dict[str, tuple[str, str]]) -> _Probed:
    """Ask storage about ``names``: presence, and a source's version (a content hash only
    where the stat cache ``known`` does not match). A fresh Backends each time, so a server
    that was down is asked again."""
    backends = Backends(root, project.connections)
    unreachable: dict[str, WeirError] = {}
    versions, updates = source_versions(project, known, backends, unreachable, only=names)
    # A partitioned source's version is its partitions, each with its own version.
    for name, found in source_partitions(project, backends, unreachable, only=names).items():
        versions[name] = partitions_version(found)
    present = presence(project, names, backends, unreachable)
    return _Probed({n: Probe(probe_key(project, n), present[n], versions.get(n),
                             unreachable.get(n)) for n in names}, updates)


class StatusKeeper:
    """The daemon's status snapshot. ``status(snap)`` is the read (thread-safe, cheap when
    nothing changed); ``poll`` looks at the data; ``start`` runs both from a thread of its
    own, woken by ``nudge`` (a Flow change, a job's end) and by the poll period."""

    def __init__(self, root: Path, state_dir: Path, clock: Clock | None = None,
                 publish: Callable[[wire.StatusChange], None] | None = None) -> None:
        self.root = root
        self.state_dir = state_dir  # the environment's (wire.state_dir)
        self.clock: Clock = clock or SystemClock()
        self.publish = publish
        self._lock = threading.Lock()
        self._store: StateStore | None = None
        self._data_version: int | None = None
        self._counts: dict[str, int] | None = None
        self._rows: dict[str, tuple[Any, ...]] = {}
        self._records: dict[str, DatasetRecord] = {}
        self._stored: dict[str, Stored] = {}
        self._kept: dict[tuple[str, str], str] = {}
        # how often each dataset's partitions were written; the records read, by dataset, at
        # that count; what the last status computed of them (only what changed is computed)
        self._partition_changes: dict[str, int] | None = None
        self._partition_records: dict[str, tuple[int, Any]] = {}
        self._remembered: dict[str, Remembered] = {}
        self._stats: dict[str, tuple[str, str]] = {}  # the sources' stat cache, as stored
        self._probes: dict[str, Probe] = {}
        # A poll's probes are older than what was learnt meanwhile (a build's commit, a Flow
        # change): each probe remembers the poll epoch it was taken in, and a poll keeps
        # only the results for datasets nobody updated since it started.
        self._epoch = 0
        self._updated: dict[str, int] = {}
        self._snap: FlowSnapshot | None = None
        self._fingerprints: tuple[dict[str, str], dict[str, Components]] | None = None
        self._current: DataStatus | None = None
        self._cause = wire.StatusCause.EDIT  # why _current is about to change
        self._announced: dict[str, wire.DatasetStatus] = {}  # in Flow order
        self._announced_version: int | None = None
        # The thread.
        self._snapshot: Callable[[], FlowSnapshot] | None = None
        self._wake = threading.Condition()
        self._nudged = False
        self._stopping = False
        self._last_poll = 0.0
        self._thread: threading.Thread | None = None
        self.polls = 0  # how many polls ran (for tests and logs)

    # -- the read --------------------------------------------------------------------------
    def status(self, snap: FlowSnapshot) -> DataStatus:
        """The data's status for this Flow version, as of now (the state store is looked at
        on every call; the data itself at the last poll)."""
        assert snap.project is not None and snap.flow is not None
        with self._lock:
            self._sync_state()
            if self._snap is None or snap.version != self._snap.version:
                self._sync_flow(snap)
            if self._current is None:
                self._compute()
            assert self._current is not None
            return self._current

    def report(self, snap: FlowSnapshot) -> tuple[wire.DatasetStatus, ...]:
        """Every dataset's status as the wire says it, in Flow order (`GET /api/status`):
        made once per change of the statuses, not per read."""
        self.status(snap)
        with self._lock:
            return tuple(self._announced.values())

    def _open(self) -> StateStore:
        if self._store is None:
            self._store = StateStore(self.state_dir / "state.db")
        return self._store

    def _sync_state(self) -> None:
        """Take in what another connection committed since the last look."""
        store = self._open()
        version = store.data_version()
        if version == self._data_version:
            return
        self._data_version = version
        counts = store.change_counts()
        old = self._counts
        if old is None or counts.get("datasets") != old.get("datasets"):
            rows = {r[0]: tuple(r) for r in store.record_rows()}
            for name in rows.keys() | self._rows.keys():
                row, was = rows.get(name), self._rows.get(name)
                if row == was:
                    continue
                self._invalidate(wire.StatusCause.COMMIT)
                if row is None:
                    self._records.pop(name, None)
                    self._stored.pop(name, None)
                    continue
                record = decode_record(row)
                self._records[name] = record
                self._stored[name] = record.stored()
                # A successful build (or restore) commits the data before it records it: the
                # data is there, no need to look.
                if (record.fingerprint and not record.last_failed and name in self._probes
                        and (was is None or was[3] != row[3])):
                    self._probes[name] = Probe(self._probes[name].key, True,
                                               self._probes[name].version,
                                               self._probes[name].problem)
                    self._updated[name] = self._epoch
            self._rows = rows
        if old is None or counts.get("partitions") != old.get("partitions"):
            changes = store.partition_changes()
            if changes != self._partition_changes:
                self._partition_changes = changes
                self._invalidate(wire.StatusCause.COMMIT)
        if old is None or counts.get("kept_outputs") != old.get("kept_outputs"):
            kept = store.kept_paths()
            if kept != self._kept:
                self._kept = kept
                self._invalidate(wire.StatusCause.COMMIT)
        if old is None or counts.get("sources") != old.get("sources"):
            stats = store.source_stats()
            # Another process found a source changed (its stat cache entry moved): ask that
            # source again now, so the daemon agrees with the build that saw it.
            moved = {n for n, entry in stats.items()
                     if n in self._probes and self._stats.get(n) != entry}
            self._stats = stats
            if moved and self._snap is not None and self._snap.project is not None:
                self._apply(probe(self.root, self._snap.project, moved, self._stats),
                            wire.StatusCause.COMMIT)
        self._counts = counts

    def _sync_flow(self, snap: FlowSnapshot) -> None:
        """A new Flow version: probe only the datasets that are new or changed."""
        project = snap.project
        assert project is not None
        for gone in self._probes.keys() - project.datasets.keys():
            del self._probes[gone]
            self._updated.pop(gone, None)
        changed = [n for n in project.datasets
                   if n not in self._probes or self._probes[n].key != probe_key(project, n)]
        self._snap = snap
        self._fingerprints = None
        self._invalidate(wire.StatusCause.EDIT)
        if changed:
            self._apply(probe(self.root, project, changed, self._stats), wire.StatusCause.EDIT)

    def _apply(self, probed: _Probed, cause: wire.StatusCause) -> None:
        """Take probe results in (under the lock); only what they change is recomputed."""
        for name, new in probed.probes.items():
            old = self._probes.get(name)
            self._probes[name] = new
            self._updated[name] = self._epoch
            if old is None or (old.present, old.version, _said(old.problem)) != (
                    new.present, new.version, _said(new.problem)):
                if old is None or old.version != new.version:
                    self._fingerprints = None
                self._invalidate(cause)
        if probed.stat_updates:
            self._open().save_source_stats(probed.stat_updates)
            self._stats.update(probed.stat_updates)

    def _invalidate(self, cause: wire.StatusCause) -> None:
        if self._current is not None:
            self._cause = cause
        self._current = None

    def _compute(self) -> None:
        snap = self._snap
        assert snap is not None and snap.project is not None and snap.flow is not None
        project = snap.project
        parts = None
        if partitioned(snap.flow):  # partitions' fingerprints depend on what was built
            versions = {n: self._probes[n].version for n, ds in project.datasets.items()
                        if ds.is_source and n in self._probes}
            found = {n: partitions_in(v) for n, v in versions.items()
                     if v and project.datasets[n].partitioning is not None}
            expected, components, parts = partition_fingerprints(
                snap.flow, versions, found,
                RecordsByDataset(self._open(), self._partition_changes,
                                 self._partition_records),
                self._partition_changes or {}, self._remembered)
            self._remembered = parts.remembered
        else:
            if self._fingerprints is None:
                versions = {n: self._probes[n].version for n, ds in project.datasets.items()
                            if ds.is_source and n in self._probes}
                self._fingerprints = expected_fingerprints(snap.flow, versions)
            expected, components = self._fingerprints
        present = {n: p.present for n, p in self._probes.items()}
        unreachable = {n: p.problem for n, p in self._probes.items() if p.problem is not None}
        self._current = data_status(project, snap.flow, expected, components,
                                    dict(self._records), present, unreachable, self._kept,
                                    self._stored, partitions=parts)
        self._announce(snap.version, self._current)

    def _announce(self, version: int, current: DataStatus) -> None:
        """Publish what differs from the statuses last announced."""
        now: dict[str, wire.DatasetStatus] = {}
        assert self._snap is not None and self._snap.flow is not None
        for name in self._snap.flow.order:
            st = current.statuses[name]
            record = self._records.get(name)
            now[name] = wire.DatasetStatus(name, st.state, st.reasons,
                                           record.built_at if record else None,
                                           record.row_count if record else None,
                                           current.partition_counts(name))
        changed = tuple(s for n, s in now.items() if self._announced.get(n) != s)
        removed = tuple(sorted(self._announced.keys() - now.keys()))
        first = self._announced_version is None
        self._announced, self._announced_version = now, version
        if first or not (changed or removed) or self.publish is None:
            return  # the first statuses are what GET /api/status says; nothing to announce
        self.publish(wire.StatusChange(version, self._cause, changed, removed))

    # -- the data, polled --------------------------------------------------------------------
    def poll(self, snap: FlowSnapshot) -> None:
        """Look at the data again: every source's version, every dataset's presence. The
        probing runs without the lock, so reads answer meanwhile from what is kept."""
        if snap.project is None or snap.flow is None:
            return
        self.status(snap)  # the keeper is at this Flow version
        with self._lock:
            known = dict(self._stats)
            self._epoch += 1
            started = self._epoch
        probed = probe(self.root, snap.project, list(snap.project.datasets), known)
        with self._lock:
            self.polls += 1
            current = self._snap
            if current is None or current.project is None:
                return
            # The Flow may have moved on while we probed, and a build may have committed:
            # keep only what is still asked and what nobody learnt better meanwhile.
            probed.probes = {n: p for n, p in probed.probes.items()
                             if n in current.project.datasets
                             and p.key == probe_key(current.project, n)
                             and self._updated.get(n, 0) < started}
            self._apply(probed, wire.StatusCause.POLL)
            if self._current is None:
                self._compute()

    # -- the thread --------------------------------------------------------------------------
    def start(self, snapshot: Callable[[], FlowSnapshot]) -> None:
        """Keep the statuses current from a thread: after each ``nudge`` and every poll
        period (weir.yaml's ``daemon: poll_sources``, read from each Flow version)."""
        self._snapshot = snapshot
        self._last_poll = self.clock.now()
        self._nudged = True  # the first statuses are computed at once, not at the first read
        self._thread = threading.Thread(target=self._run, name="weir-status", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        """Something may have changed (a Flow change, a job's end): bring the statuses up to
        date soon, from the keeper's thread (announcing what changed)."""
        with self._wake:
            self._nudged = True
            self._wake.notify_all()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _run(self) -> None:
        assert self._snapshot is not None
        while True:
            snap = self._snapshot()
            period = snap.project.config.poll_sources if snap.project else 5.0
            due = self._last_poll + period
            with self._wake:
                while not (self._stopping or self._nudged or self.clock.now() >= due):
                    self.clock.sleep_until(self._wake, due)
                if self._stopping:
                    return
                self._nudged = False
            snap = self._snapshot()
            if snap.project is None or snap.flow is None:
                continue
            try:
                if self.clock.now() >= due:
                    self._last_poll = self.clock.now()
                    self.poll(snap)
                else:
                    self.status(snap)
            except WeirError as exc:  # e.g. the state store damaged: reads say so themselves
                log.warning("could not bring the statuses up to date: %s", exc.message)
            except Exception:  # noqa: BLE001 - a bug must not stop the statuses for good
                log.exception("could not bring the statuses up to date")


def _said(problem: WeirError | None) -> str | None:
    return problem.message if problem is not None else None
