"""The state store, ``.weir/state.db``: what was built, from which fingerprint, and how it went.

SQLite in WAL mode so readers (``weir status``, the daemon) never block a running build. Only the
process running a build writes; every write is one short transaction. A job's row in ``builds``
is written when it starts (``running``) and completed when it ends, so a build whose process is
killed still says which datasets it was building. The daemon's build queue keeps its builds'
summaries in ``daemon_builds``, so its history and build numbers outlive a restart. Triggers count
the writes to the tables a status depends on (``changes``), so a reader that keeps statuses (the
daemon) knows what another connection changed without reading it all again. Tables added
since a store was made are created when it is opened (``CREATE TABLE IF NOT EXISTS``).

A store that cannot be used — damaged, not a database, locked, unreadable — is a
:class:`~weir.errors.StateError` naming the file and what to do, raised from every method
(:func:`_guarded`), never SQLite's own exception: the state can always be rebuilt from the data
and the kept outputs (``weir state repair``, :mod:`weir.build.recovery`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from weir.errors import StateError
from weir.flow.fingerprint import Components
from weir.flow.status import Stored
from weir.wire import (CheckResult, ColumnMetrics, DatasetScenarioRun, DatasetVersion, Metrics,
                       Promotion,
                       ScenarioRunReport,
                       Severity)

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT PRIMARY KEY,
    fingerprint TEXT,
    components TEXT,
    built_at REAL,
    run_id TEXT,
    duration REAL,
    schema TEXT,
    row_count INTEGER,
    last_failed INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    log_path TEXT
);
CREATE TABLE IF NOT EXISTS builds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    recipe TEXT,
    fingerprint TEXT,
    status TEXT NOT NULL,
    started REAL,
    finished REAL,
    row_count INTEGER,
    error TEXT,
    log_path TEXT
);
CREATE INDEX IF NOT EXISTS builds_dataset ON builds(dataset, id);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    pid INTEGER,
    started REAL,
    finished REAL,
    status TEXT,
    command TEXT,
    git_commit TEXT,
    trigger TEXT,
    environment TEXT
);
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    stat_key TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS daemon_builds (
    seq INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    request TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    error TEXT,
    run_id TEXT
);
CREATE TABLE IF NOT EXISTS kept_outputs (
    dataset TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    path TEXT NOT NULL,
    created REAL NOT NULL,
    schema TEXT,
    row_count INTEGER,
    used REAL,
    PRIMARY KEY (dataset, fingerprint)
);
-- What each check said of a dataset's data, at each build (or `weir check`) that ran it.
CREATE TABLE IF NOT EXISTS check_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    at REAL NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    passed INTEGER NOT NULL,
    failing INTEGER NOT NULL,
    message TEXT,
    examples TEXT
);
CREATE INDEX IF NOT EXISTS check_results_dataset ON check_results(dataset, id);
-- A dataset's metrics at each build that wrote it (rows; per column nulls, min, max, …).
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    at REAL NOT NULL,
    row_count INTEGER NOT NULL,
    columns TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_dataset ON metrics(dataset, id);
-- Each scenario run, whole (wire.ScenarioRunReport as JSON): `weir scenario history`/`show`.
CREATE TABLE IF NOT EXISTS scenario_runs (
    run_id TEXT PRIMARY KEY,
    scenario TEXT NOT NULL,
    status TEXT NOT NULL,
    started REAL NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scenario_runs_scenario ON scenario_runs(scenario, started);
-- What the daemon's scenario scheduler must remember across restarts: when it last looked
-- (what was missed while it was down), when an interval was first scheduled (its rhythm), the
-- data version, commit or answer a trigger last saw. Values are JSON.
CREATE TABLE IF NOT EXISTS scheduler (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Each `weir promote` into this environment (wire.Promotion as JSON): `weir promote --history`.
CREATE TABLE IF NOT EXISTS promotions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    promotion TEXT NOT NULL
);
-- How often each table a status depends on was written, kept by triggers: the daemon's status
-- keeper reads these few rows to know what to read again after another process wrote.
CREATE TABLE IF NOT EXISTS changes (
    what TEXT PRIMARY KEY,
    n INTEGER NOT NULL
);
-- Each partition of a partitioned dataset (weir.model.partitions), as `datasets` keeps a whole
-- dataset: its last success (fingerprint, and the fingerprints of the input partitions it read,
-- by "input|partition", for the reasons a status gives), and whether a later build failed.
CREATE TABLE IF NOT EXISTS partitions (
    dataset TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT,
    base TEXT,
    inputs TEXT,
    built_at REAL,
    run_id TEXT,
    duration REAL,
    row_count INTEGER,
    last_failed INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    log_path TEXT,
    failed_fingerprint TEXT,
    PRIMARY KEY (dataset, key)
);
-- How often each dataset's partitions were written (a status over a long history computes
-- again only the datasets whose partitions changed), and what it computed of each
-- (weir.flow.partition_status.Remembered, msgpack), under the key it was computed for.
CREATE TABLE IF NOT EXISTS partition_changes (
    dataset TEXT PRIMARY KEY,
    n INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS partition_memo (
    dataset TEXT PRIMARY KEY,
    memo BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS partitions_insert AFTER INSERT ON partitions BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'partitions';
    INSERT INTO partition_changes VALUES (NEW.dataset, 1)
        ON CONFLICT(dataset) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS partitions_update AFTER UPDATE ON partitions BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'partitions';
    INSERT INTO partition_changes VALUES (NEW.dataset, 1)
        ON CONFLICT(dataset) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS partitions_delete AFTER DELETE ON partitions BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'partitions';
    INSERT INTO partition_changes VALUES (OLD.dataset, 1)
        ON CONFLICT(dataset) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS datasets_insert AFTER INSERT ON datasets BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'datasets';
END;
CREATE TRIGGER IF NOT EXISTS datasets_update AFTER UPDATE ON datasets BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'datasets';
END;
CREATE TRIGGER IF NOT EXISTS datasets_delete AFTER DELETE ON datasets BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'datasets';
END;
CREATE TRIGGER IF NOT EXISTS sources_insert AFTER INSERT ON sources BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'sources';
END;
CREATE TRIGGER IF NOT EXISTS sources_update AFTER UPDATE ON sources BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'sources';
END;
CREATE TRIGGER IF NOT EXISTS sources_delete AFTER DELETE ON sources BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'sources';
END;
CREATE TRIGGER IF NOT EXISTS kept_outputs_insert AFTER INSERT ON kept_outputs BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'kept_outputs';
END;
CREATE TRIGGER IF NOT EXISTS kept_outputs_update AFTER UPDATE ON kept_outputs BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'kept_outputs';
END;
CREATE TRIGGER IF NOT EXISTS kept_outputs_delete AFTER DELETE ON kept_outputs BEGIN
    UPDATE changes SET n = n + 1 WHERE what = 'kept_outputs';
END;
"""


COUNTED = ("datasets", "sources", "kept_outputs", "partitions")  # `changes` counts their writes


@dataclass(frozen=True)
class DatasetRecord:
    name: str
    fingerprint: str | None
    components: Components | None
    built_at: float | None
    run_id: str | None
    duration: float | None
    schema: list[list[Any]] | None
    row_count: int | None
    last_failed: bool
    error: str | None
    log_path: str | None

    def stored(self) -> Stored:
        return Stored(self.fingerprint, self.components, self.last_failed, self.error)


@dataclass(frozen=True)
class PartitionRecord:
    """What the state store remembers of one partition (as DatasetRecord of a dataset)."""

    fingerprint: str | None  # of its last success
    base: str | None  # the dataset's own part of that fingerprint (code, definition, …)
    inputs: Mapping[str, str]  # "input|partition" -> the fingerprint read then
    built_at: float | None
    run_id: str | None
    row_count: int | None
    last_failed: bool
    error: str | None
    log_path: str | None
    # the fingerprint its last failure was at: a failure of an edit since reverted (or
    # replaced by another) is no failure of the partition as it is now
    failed_fingerprint: str | None = None


REPAIR_HINT = ("run `weir state repair`: it moves the damaged file aside (nothing is deleted) "
               "and records again every dataset whose data is a kept output of its current "
               "code, so only the rest is built again")


def state_error(path: Path, exc: sqlite3.Error) -> StateError | None:
    """What is wrong with the store, for the user; None for an error that is weir's own bug."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    shown = display_path(path)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return StateError(f"{shown} is damaged: {exc}", hint=REPAIR_HINT)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StateError(f"{shown} is locked by another process: {exc}",
                          hint="another weir command or the daemon is writing to it; try again "
                          "when it is done")
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_READONLY", "SQLITE_IOERR",
                        "SQLITE_FULL", "SQLITE_AUTH")):
        return _cannot_use(path, exc)
    return None


def _cannot_use(path: Path, exc: Exception) -> StateError:
    shown = display_path(path)
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return StateError(f"cannot use {shown}: {reason}", hint=f"check that {shown} and its "
                      "directory are yours to read and write, and that the disk has room")


def display_path(path: Path) -> str:
    """``.weir/state.db`` as the user knows it (relative to the project), else the full path."""
    return f"{path.parent.name}/{path.name}" if path.parent.name == ".weir" else str(path)


_F = TypeVar("_F", bound=Callable[..., Any])


def _translated(method: _F) -> _F:
    @functools.wraps(method)
    def call(self: StateStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            error = state_error(self.path, exc)
            if error is None:
                raise
            raise error from None
        except OSError as exc:  # making .weir/ itself
            raise _cannot_use(self.path, exc) from None

    return call  # type: ignore[return-value]


_C = TypeVar("_C", bound=type)


def _guarded(cls: _C) -> _C:
    """Every public method (and the constructor, which opens the file) says a damaged or
    unusable store as a StateError: one place, whichever query first meets the damage."""
    for name, value in list(vars(cls).items()):
        if callable(value) and (not name.startswith("_") or name == "__init__"):
            setattr(cls, name, _translated(value))
    return cls


@_guarded
class StateStore:
    def _use_wal(self) -> None:
        """Switch a new store to WAL. The switch takes an exclusive lock and SQLite answers
        "database is locked" at once, without waiting the connection's timeout, when another
        process opens the same new store at that moment (the daemon and a command started
        together): so it is retried, for as long as that timeout."""
        deadline = time.monotonic() + 30
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    def __init__(self, path: Path) -> None:
        self.path = path  # first: an error opening it names it
        self._batched = False
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self._use_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        trigger = self.db.execute("SELECT sql FROM sqlite_master WHERE name ="
                                  " 'partitions_insert'").fetchone()
        if "partition_changes" not in trigger[0]:  # from before they counted per dataset
            self.db.executescript("DROP TRIGGER IF EXISTS partitions_insert;"
                                  " DROP TRIGGER IF EXISTS partitions_update;"
                                  " DROP TRIGGER IF EXISTS partitions_delete;" + SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(runs)")}
        if "git_commit" not in columns:  # a state store from before builds recorded commits
            self.db.execute("ALTER TABLE runs ADD COLUMN git_commit TEXT")
        for added in ("trigger", "environment"):  # from before builds recorded who and where
            if added not in columns:
                try:
                    self.db.execute(f"ALTER TABLE runs ADD COLUMN {added} TEXT")
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise
        if "place" not in {row[1] for row in self.db.execute("PRAGMA table_info(datasets)")}:
            try:  # from before builds recorded where their data went (see `places`)
                self.db.execute("ALTER TABLE datasets ADD COLUMN place TEXT")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise
        if "partition" not in {row[1] for row in self.db.execute("PRAGMA table_info(builds)")}:
            try:  # from before partitions: a job builds one partition of its outputs
                self.db.execute("ALTER TABLE builds ADD COLUMN partition TEXT")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise
        if "failed_fingerprint" not in {
                row[1] for row in self.db.execute("PRAGMA table_info(partitions)")}:
            try:  # from before a partition's failure said what it failed to become
                self.db.execute("ALTER TABLE partitions ADD COLUMN failed_fingerprint TEXT")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise
        kept = {row[1] for row in self.db.execute("PRAGMA table_info(kept_outputs)")}
        if "used" not in kept:  # from before kept outputs recorded their last use
            self.db.execute("ALTER TABLE kept_outputs ADD COLUMN used REAL")
        if len(self.change_counts()) < len(COUNTED):  # a new store, or one from before them
            self.db.execute(f"INSERT OR IGNORE INTO changes (what, n) VALUES"
                            f" {', '.join('(?, 0)' for _ in COUNTED)}", COUNTED)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        if self._batched:  # inside `batch()`: one commit for all of them
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside is one transaction: hundreds of restores recorded at once cost
        one commit, not hundreds (and a reader sees all of them or none)."""
        with self.transaction():
            self._batched = True
            try:
                yield
            finally:
                self._batched = False

    # -- what changed -----------------------------------------------------------------------
    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: it moves when *another* connection commits (this
        connection's own writes leave it), in microseconds — the cheap "did anything change"."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def change_counts(self) -> dict[str, int]:
        """How often ``datasets``, ``sources`` and ``kept_outputs`` were written (by anyone):
        which of them a reader that keeps what they said must read again."""
        return {r[0]: int(r[1]) for r in self.db.execute("SELECT what, n FROM changes")}

    # -- datasets -------------------------------------------------------------------------
    def records(self) -> dict[str, DatasetRecord]:
        return {r[0]: decode_record(r) for r in self.record_rows()}

    def record_rows(self) -> list[tuple[Any, ...]]:
        """The ``datasets`` rows undecoded (a third of the time of ``records``): a reader that
        keeps records compares these and decodes only the rows that changed."""
        return self.db.execute("SELECT name, fingerprint, components, built_at, run_id, duration,"
                               " schema, row_count, last_failed, error, log_path FROM datasets"
                               ).fetchall()

    def record_success(self, run_id: str, recipe: str, name: str, fingerprint: str,
                       components: Components, started: float, schema: list[list[Any]],
                       rows: int, log_path: str | None, status: str = "built",
                       place: str | None = None) -> None:
        """``place``: where the data went, as its storage says it (`Backend.place`), so
        another environment can copy it instead of building it again."""
        now = time.time()
        with self.transaction() as db:
            if log_path is None and status == "restored":
                # Restored data was made by an earlier run: its log is that run's.
                row = db.execute("SELECT log_path FROM builds WHERE dataset=? AND fingerprint=?"
                                 " AND status='built' AND log_path IS NOT NULL ORDER BY id DESC"
                                 " LIMIT 1", (name, fingerprint)).fetchone()
                log_path = row[0] if row else None
            db.execute("INSERT INTO datasets (name, fingerprint, components, built_at, run_id,"
                       " duration, schema, row_count, last_failed, error, log_path, place)"
                       " VALUES (?,?,?,?,?,?,?,?,0,NULL,?,?) ON CONFLICT(name) DO UPDATE SET"
                       " fingerprint=excluded.fingerprint, components=excluded.components,"
                       " built_at=excluded.built_at, run_id=excluded.run_id,"
                       " duration=excluded.duration, schema=excluded.schema,"
                       " row_count=excluded.row_count, last_failed=0, error=NULL,"
                       " log_path=COALESCE(excluded.log_path, datasets.log_path),"
                       " place=excluded.place",
                       (name, fingerprint, json.dumps(components.to_json()), now, run_id,
                        now - started, json.dumps(schema), rows, log_path, place))
            _end_job_row(db, run_id, name, {"recipe": recipe, "fingerprint": fingerprint,
                                             "status": status, "started": started,
                                             "finished": now, "row_count": rows,
                                             "log_path": log_path})

    def places(self) -> dict[str, tuple[str, str, str, int]]:
        """``name -> (fingerprint, place, schema as JSON, rows)`` of every dataset whose live
        data's place is known: what another environment may copy (the data stays at its
        fingerprint until a success records another, a failed build leaving it as it was).
        The schema is left encoded: a caller decodes the few it copies."""
        return {r[0]: (r[1], r[2], r[3] or "[]", r[4] or 0)
                for r in self.db.execute("SELECT name, fingerprint, place, schema, row_count"
                                         " FROM datasets WHERE place IS NOT NULL"
                                         " AND fingerprint IS NOT NULL")}

    def record_failure(self, run_id: str, recipe: str, name: str, started: float | None,
                       error: str, log_path: str | None, status: str = "failed") -> None:
        now = time.time()
        with self.transaction() as db:
            if status == "failed":
                db.execute("INSERT INTO datasets (name, last_failed, error, log_path)"
                           " VALUES (?,1,?,?) ON CONFLICT(name) DO UPDATE SET last_failed=1,"
                           " error=excluded.error, log_path=excluded.log_path",
                           (name, error, log_path))
            _end_job_row(db, run_id, name, {"recipe": recipe, "status": status,
                                             "started": started, "finished": now,
                                             "error": error, "log_path": log_path})

    def record_source_checked(self, run_id: str, task: str, name: str, fingerprint: str,
                              components: Components, started: float, log_path: str | None,
                              error: str | None) -> None:
        """A source's checks ran (``error`` None: they passed) at the check fingerprint
        ``fingerprint``: the status says a source ``failed`` while its data is the data they
        failed on, and a build runs them again only when that fingerprint changes. The
        source's row holds no build time, schema or row count: weir never wrote it."""
        now = time.time()
        failed = error is not None
        with self.transaction() as db:
            db.execute("INSERT INTO datasets (name, fingerprint, components, run_id, duration,"
                       " last_failed, error, log_path) VALUES (?,?,?,?,?,?,?,?) ON"
                       " CONFLICT(name) DO UPDATE SET fingerprint=excluded.fingerprint,"
                       " components=excluded.components, run_id=excluded.run_id,"
                       " duration=excluded.duration, last_failed=excluded.last_failed,"
                       " error=excluded.error, log_path=excluded.log_path",
                       (name, fingerprint, json.dumps(components.to_json()), run_id,
                        now - started, int(failed), error, log_path))
            _end_job_row(db, run_id, name, {"recipe": task, "fingerprint": fingerprint,
                                             "status": "failed" if failed else "checked",
                                             "started": started, "finished": now,
                                             "error": error, "log_path": log_path})

    def start_job(self, run_id: str, recipe: str, outputs: Sequence[str], started: float,
                  log_path: str, partition: str | None = None) -> None:
        """Say that ``outputs`` are being built (a ``running`` row each, completed when the job
        ends): if the build's process dies, this is what its run is known to have been
        doing. A retried job keeps its row."""
        with self.transaction() as db:
            for name in outputs:
                if db.execute("SELECT 1 FROM builds WHERE run_id=? AND dataset=? AND"
                              " partition IS ? AND status='running'",
                              (run_id, name, partition)).fetchone() is None:
                    db.execute("INSERT INTO builds (run_id, dataset, recipe, status, started,"
                               " log_path, partition) VALUES (?,?,?,'running',?,?,?)",
                               (run_id, name, recipe, started, log_path, partition))

    # -- partitions -------------------------------------------------------------------------
    def partition_records(self, datasets: Sequence[str] | None = None
                          ) -> dict[str, dict[str, PartitionRecord]]:
        """What is known of each partition, by dataset then partition."""
        query = ("SELECT dataset, key, fingerprint, base, inputs, built_at, run_id, row_count,"
                 " last_failed, error, log_path, failed_fingerprint FROM partitions")
        rows = self.db.execute(query).fetchall() if datasets is None else [
            r for name in datasets
            for r in self.db.execute(query + " WHERE dataset=?", (name,)).fetchall()]
        out: dict[str, dict[str, PartitionRecord]] = {}
        for r in rows:
            out.setdefault(r[0], {})[r[1]] = PartitionRecord(
                r[2], r[3], json.loads(r[4]) if r[4] else {}, r[5], r[6], r[7], bool(r[8]),
                r[9], r[10], r[11])
        return out

    def record_partition_success(self, run_id: str, recipe: str, name: str, key: str,
                                 fingerprint: str, base: str, inputs: Mapping[str, str],
                                 started: float, rows: int, log_path: str | None) -> None:
        now = time.time()
        with self.transaction() as db:
            db.execute("INSERT INTO partitions (dataset, key, fingerprint, base, inputs, built_at,"
                       " run_id, duration, row_count, last_failed, error, log_path) VALUES"
                       " (?,?,?,?,?,?,?,?,?,0,NULL,?) ON CONFLICT(dataset, key) DO UPDATE SET"
                       " fingerprint=excluded.fingerprint, base=excluded.base,"
                       " inputs=excluded.inputs, built_at=excluded.built_at,"
                       " run_id=excluded.run_id, duration=excluded.duration,"
                       " row_count=excluded.row_count, last_failed=0, error=NULL,"
                       " failed_fingerprint=NULL,"
                       " log_path=excluded.log_path",
                       (name, key, fingerprint, base, json.dumps(dict(inputs)), now, run_id,
                        now - started, rows, log_path))
            _end_job_row(db, run_id, name, {"recipe": recipe, "fingerprint": fingerprint,
                                             "status": "built", "started": started,
                                             "finished": now, "row_count": rows,
                                             "log_path": log_path}, key)

    def record_partition_failure(self, run_id: str, recipe: str, name: str, key: str,
                                 started: float | None, error: str, log_path: str | None,
                                 status: str = "failed", fingerprint: str | None = None) -> None:
        """A partition's build failed (its previous data stays, and its record of it), at
        ``fingerprint``: what it failed to become."""
        now = time.time()
        with self.transaction() as db:
            if status == "failed":
                db.execute("INSERT INTO partitions (dataset, key, last_failed, error, log_path,"
                           " failed_fingerprint) VALUES (?,?,1,?,?,?) ON CONFLICT(dataset, key)"
                           " DO UPDATE SET last_failed=1, error=excluded.error,"
                           " log_path=excluded.log_path,"
                           " failed_fingerprint=excluded.failed_fingerprint",
                           (name, key, error, log_path, fingerprint))
            _end_job_row(db, run_id, name, {"recipe": recipe, "status": status,
                                             "started": started, "finished": now,
                                             "error": error, "log_path": log_path}, key)

    def partition_changes(self) -> dict[str, int]:
        """How often each dataset's partitions were written: what a remembered computation
        of them is valid for."""
        return dict(self.db.execute("SELECT dataset, n FROM partition_changes").fetchall())

    def remembered_partitions(self) -> dict[str, bytes]:
        """What the last status computed of each partitioned dataset (msgpack)."""
        return dict(self.db.execute("SELECT dataset, memo FROM partition_memo").fetchall())

    def remember_partitions(self, memos: Mapping[str, bytes]) -> None:
        """Remember what a status computed (another cache: a failure to write is no error)."""
        try:
            with self.transaction() as db:
                db.executemany("INSERT INTO partition_memo VALUES (?, ?) ON CONFLICT(dataset)"
                               " DO UPDATE SET memo=excluded.memo", list(memos.items()))
        except sqlite3.OperationalError:
            pass  # busy or read-only: it is computed again next time

    def forget_partitions(self, name: str, keys: Sequence[str] | None = None) -> None:
        """Forget partitions (all of the dataset's without ``keys``): their data was
        dropped."""
        with self.transaction() as db:
            if keys is None:
                db.execute("DELETE FROM partitions WHERE dataset=?", (name,))
            else:
                db.executemany("DELETE FROM partitions WHERE dataset=? AND key=?",
                               [(name, k) for k in keys])

    def forget(self, name: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM datasets WHERE name=?", (name,))

    def last_log(self, name: str) -> tuple[str | None, str | None]:
        row = self.db.execute("SELECT log_path, status FROM builds WHERE dataset=? AND log_path"
                              " IS NOT NULL ORDER BY id DESC LIMIT 1", (name,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def history(self, name: str, limit: int = 10) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT b.run_id, b.status, b.started, b.finished, b.row_count,"
                               " b.error, b.fingerprint, r.git_commit FROM builds b LEFT JOIN runs"
                               " r ON r.run_id = b.run_id WHERE b.dataset=? ORDER BY b.id DESC"
                               " LIMIT ?", (name, limit))
        keys = ("run_id", "status", "started", "finished", "rows", "error", "fingerprint",
                "commit")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def versions(self, name: str, limit: int = 20) -> list[DatasetVersion]:
        """The dataset's builds, newest first, with the commit, trigger and environment of
        the run that made each (`weir log`)."""
        rows = self.db.execute("SELECT b.run_id, b.status, b.started, b.finished, b.row_count,"
                               " b.error, b.fingerprint, r.git_commit, r.trigger, r.command,"
                               " r.environment FROM builds b LEFT JOIN runs r ON r.run_id ="
                               " b.run_id WHERE b.dataset=? ORDER BY b.id DESC LIMIT ?",
                               (name, limit))
        out = []
        for run_id, status, started, finished, n, error, fp, commit, trigger, command, env in rows:
            out.append(DatasetVersion(env, run_id, status, started, finished, n, fp,
                                      commit.rstrip("+") if commit else None,
                                      bool(commit and commit.endswith("+")),
                                      trigger or _trigger_of(command), error))
        return out

    # -- checks ---------------------------------------------------------------------------
    def record_checks(self, run_id: str, dataset: str, results: Sequence[CheckResult],
                      at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO check_results (run_id, dataset, at, name, kind, severity, passed,"
                " failing, message, examples) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, dataset, at, r.name, r.kind, r.severity.value, int(r.passed),
                  r.failing, r.message, json.dumps([dict(e) for e in r.examples]))
                 for r in results])

    def last_checks(self, dataset: str) -> tuple[float | None, tuple[CheckResult, ...]]:
        """When the dataset's checks last ran, and what each said then."""
        row = self.db.execute("SELECT run_id, at FROM check_results WHERE dataset=? ORDER BY id"
                              " DESC LIMIT 1", (dataset,)).fetchone()
        if row is None:
            return None, ()
        rows = self.db.execute("SELECT name, kind, severity, passed, failing, message, examples"
                               " FROM check_results WHERE dataset=? AND run_id=? ORDER BY id",
                               (dataset, row[0]))
        return float(row[1]), tuple(
            CheckResult(name, kind, Severity(severity), bool(passed), int(failing),
                        message or "", tuple(json.loads(examples or "[]")))
            for name, kind, severity, passed, failing, message, examples in rows)

    # -- metrics --------------------------------------------------------------------------
    def record_metrics(self, run_id: str, dataset: str, metrics: Metrics,
                       at: float | None = None) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO metrics (run_id, dataset, at, row_count, columns) VALUES"
                       " (?, ?, ?, ?, ?)", (run_id, dataset, time.time() if at is None else at,
                                            metrics.rows,
                                            json.dumps([c.to_json() for c in metrics.columns])))

    def metrics_history(self, dataset: str, limit: int = 20) -> list[Metrics]:
        """The dataset's metrics at its last ``limit`` builds, newest first."""
        rows = self.db.execute("SELECT run_id, at, row_count, columns FROM metrics WHERE"
                               " dataset=? ORDER BY id DESC LIMIT ?", (dataset, limit))
        return [Metrics(int(n), tuple(ColumnMetrics.from_json(c) for c in json.loads(cols)),
                        float(at), run_id) for run_id, at, n, cols in rows]

    # -- scenario runs ----------------------------------------------------------------------
    def record_scenario_run(self, report: ScenarioRunReport) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO scenario_runs (run_id, scenario, status, started,"
                       " report) VALUES (?, ?, ?, ?, ?)",
                       (report.run_id, report.scenario, report.status, report.started,
                        json.dumps(report.to_json())))

    def scenario_runs(self, scenario: str, limit: int = 20) -> list[ScenarioRunReport]:
        """The scenario's last ``limit`` runs, newest first."""
        rows = self.db.execute("SELECT report FROM scenario_runs WHERE scenario=? ORDER BY"
                               " started DESC LIMIT ?", (scenario, limit))
        return [ScenarioRunReport.from_json(json.loads(r[0])) for r in rows]

    def dataset_scenario_runs(self, dataset: str, limit: int = 10,
                              within: int = 500) -> list[DatasetScenarioRun]:
        """Of the last ``within`` scenario runs, the last ``limit`` with a step that built
        ``dataset`` or ran its checks, newest first: what a dataset's detail says touched its
        data (asked at every look at it, so it reads a bounded window, not years of a
        minutely scenario). The reports are JSON, so SQL only narrows them to those naming
        the dataset somewhere (a step's name or message may too); each is then read to see
        what its steps did to it. A skipped start has no steps and is never one; a failed
        step says nothing of what it built, so it is not one either."""
        quoted = json.dumps(dataset)  # as the report spells it, quotes and escapes included
        like = "%" + quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.db.execute(
            "SELECT report FROM (SELECT report, started FROM scenario_runs ORDER BY started DESC"
            " LIMIT ?) WHERE report LIKE ? ESCAPE '\\' ORDER BY started DESC", (within, like))
        found: list[DatasetScenarioRun] = []
        for (text,) in rows:
            report = ScenarioRunReport.from_json(json.loads(text))
            built = any(name == dataset for s in report.steps for name, _ in s.built)
            checked = any(c.name == dataset for s in report.steps for c in s.checks)
            if built or checked:
                found.append(DatasetScenarioRun(
                    report.scenario, report.run_id, report.status, report.started,
                    None if report.status == "running" else report.finished, built, checked))
                if len(found) >= limit:
                    break
        return found

    def scenario_run(self, run_id: str) -> ScenarioRunReport | None:
        row = self.db.execute("SELECT report FROM scenario_runs WHERE run_id=?",
                              (run_id,)).fetchone()
        return ScenarioRunReport.from_json(json.loads(row[0])) if row else None

    def interrupt_scenario_runs(self, at: float) -> list[str]:
        """Runs recorded ``running`` whose daemon died (called by the next daemon at start):
        now ``interrupted``, ended at ``at``."""
        rows = list(self.db.execute("SELECT report FROM scenario_runs WHERE status='running'"))
        done = []
        for (text,) in rows:
            report = ScenarioRunReport.from_json(json.loads(text))
            self.record_scenario_run(dataclasses.replace(
                report, status="interrupted", finished=at,
                error="the daemon stopped while this run ran (it was killed or crashed)"))
            done.append(report.run_id)
        return done

    def last_scenario_runs(self) -> dict[str, ScenarioRunReport]:
        """Each scenario's latest run that was run (a skipped start is not one)."""
        rows = self.db.execute(
            "SELECT r.report FROM scenario_runs r JOIN (SELECT scenario, MAX(started) AS s"
            " FROM scenario_runs WHERE status NOT IN ('skipped', 'running') GROUP BY scenario) m"
            " ON r.scenario = m.scenario AND r.started = m.s")
        runs = [ScenarioRunReport.from_json(json.loads(r[0])) for r in rows]
        return {r.scenario: r for r in runs}

    def scheduler_memory(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM scheduler")}

    def remember(self, values: Mapping[str, Any]) -> None:
        """Keep these scheduler values (None forgets one)."""
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO scheduler (key, value) VALUES (?, ?)",
                           [(k, json.dumps(v)) for k, v in values.items() if v is not None])
            db.executemany("DELETE FROM scheduler WHERE key=?",
                           [(k,) for k, v in values.items() if v is None])

    # -- sources --------------------------------------------------------------------------
    def source_stats(self) -> dict[str, tuple[str, str]]:
        return {r[0]: (r[1], r[2]) for r in self.db.execute("SELECT name, stat_key, hash"
                                                             " FROM sources")}

    def save_source_stats(self, updates: Mapping[str, tuple[str, str]]) -> None:
        if not updates:
            return
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO sources (name, stat_key, hash) VALUES (?,?,?)",
                           [(n, k, h) for n, (k, h) in updates.items()])

    # -- runs -----------------------------------------------------------------------------
    def start_run(self, run_id: str, command: str, git_commit: str | None = None,
                  trigger: str | None = None, environment: str | None = None) -> None:
        """``trigger``: who started it (CLI, editor, Flow page, scenario NAME, API…);
        ``environment``: the one of weir.yaml's it ran in, if any."""
        with self.transaction() as db:
            db.execute("INSERT INTO runs (run_id, pid, started, status, command, git_commit,"
                       " trigger, environment) VALUES (?,?,?,?,?,?,?,?)",
                       (run_id, os.getpid(), time.time(), "running", command, git_commit,
                        trigger, environment))

    def run_commits(self) -> dict[str, str]:
        """``run_id -> git commit`` the project was at when each build ran (where known)."""
        return {r: c for r, c in self.db.execute(
            "SELECT run_id, git_commit FROM runs WHERE git_commit IS NOT NULL")}

    def finish_run(self, run_id: str, status: str, git_commit: str | None = None) -> None:
        """``git_commit``: the commit it ran at, when it was learnt while the run ran."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished=?, status=?, git_commit=COALESCE(?, git_commit)"
                       " WHERE run_id=?", (time.time(), status, git_commit, run_id))

    def version(self) -> int:
        """Changes whenever a build records a job (started, built, restored, failed): a plan
        made before it may be out of date after it."""
        row = self.db.execute("SELECT max(rowid) FROM builds").fetchone()
        return int(row[0] or 0)

    def mark_dead_runs_interrupted(self, alive: Callable[[str], bool]) -> list[str]:
        """Runs whose process died without finishing (kill -9, power loss) become
        'interrupted', and so do the jobs they were running.

        ``alive(run_id)`` says whether a run's process still holds it (its claim,
        ``weir.build.claims.run_alive``); its pid cannot tell: a daemon restarted in a
        container often gets the pid its killed predecessor had. A run that ends meanwhile
        is left as it ended.
        """
        now = time.time()
        running = [r for (r,) in self.db.execute("SELECT run_id FROM runs WHERE status='running'")]
        dead = [r for r in running if not alive(r)]
        if not dead:
            return []
        with self.transaction() as db:
            for run_id in dead:
                db.execute("UPDATE runs SET finished=?, status='interrupted' WHERE run_id=? "
                           "AND status='running'", (now, run_id))
                db.execute("UPDATE builds SET status='interrupted', error=? WHERE run_id=? AND"
                           " status='running'", (DIED, run_id))
        return dead

    # -- the daemon's builds --------------------------------------------------------------
    def save_daemon_build(self, seq: int, state: str, request: Mapping[str, Any],
                          created: float, started: float | None, finished: float | None,
                          error: Mapping[str, Any] | None, run_id: str | None) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO daemon_builds (seq, state, request, created,"
                       " started, finished, error, run_id) VALUES (?,?,?,?,?,?,?,?)",
                       (seq, state, json.dumps(request), created, started, finished,
                        json.dumps(error) if error is not None else None, run_id))

    def daemon_builds(self, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` daemon builds, oldest first, as saved."""
        rows = self.db.execute("SELECT seq, state, request, created, started, finished, error,"
                               " run_id FROM daemon_builds ORDER BY seq DESC LIMIT ?", (limit,))
        keys = ("seq", "state", "request", "created", "started", "finished", "error", "run_id")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for b in out:
            b["request"] = json.loads(b["request"])
            b["error"] = json.loads(b["error"]) if b["error"] else None
        return out[::-1]

    def last_daemon_build(self) -> int:
        """The highest build number ever given (0 for none), so numbers are never reused."""
        return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM daemon_builds"
                                   ).fetchone()[0])

    def forget_daemon_builds(self, below: int, states: Sequence[str]) -> None:
        """Drop the saved builds numbered below ``below`` that are in one of ``states``."""
        with self.transaction() as db:
            db.execute(f"DELETE FROM daemon_builds WHERE seq < ? AND state IN"
                       f" ({','.join('?' * len(states))})", (below, *states))

    # -- kept outputs (outputs by fingerprint) --------------------------------------------
    def record_promotion(self, promotion: Promotion) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO promotions (at, promotion) VALUES (?, ?)",
                       (promotion.at, json.dumps(promotion.to_json())))

    def promotions(self, limit: int = 20) -> list[Promotion]:
        """The promotions into this environment, newest first."""
        return [Promotion.from_json(json.loads(r[0])) for r in self.db.execute(
            "SELECT promotion FROM promotions ORDER BY id DESC LIMIT ?", (limit,))]

    def kept_paths(self) -> dict[tuple[str, str], str]:
        """``(dataset, fingerprint) -> path`` of every kept output (cheap: no schema decoding)."""
        return {(r[0], r[1]): r[2] for r in self.db.execute(
            "SELECT dataset, fingerprint, path FROM kept_outputs")}

    def kept_rows(self) -> dict[tuple[str, str], tuple[str, str, int]]:
        """:meth:`kept` with each schema left as JSON, for a caller that uses few of them."""
        return {(r[0], r[1]): (r[2], r[3] or "[]", r[4] or 0)
                for r in self.db.execute("SELECT dataset, fingerprint, path, schema, row_count"
                                         " FROM kept_outputs")}

    def kept(self) -> dict[tuple[str, str], tuple[str, list[list[Any]], int]]:
        """``(dataset, fingerprint) -> (path, schema, rows)`` of every kept output."""
        return {(r[0], r[1]): (r[2], json.loads(r[3] or "[]"), r[4] or 0)
                for r in self.db.execute("SELECT dataset, fingerprint, path, schema, row_count"
                                         " FROM kept_outputs")}

    def add_kept(self, dataset: str, fingerprint: str, path: str, schema: list[list[Any]],
                 rows: int, created: float | None = None) -> None:
        """``created``: when the output was written (a repair registers old files by their
        time); it is also its last use, until a restore uses it again."""
        now = created or time.time()
        with self.transaction() as db:
            db.execute("INSERT INTO kept_outputs (dataset, fingerprint, path, created, schema,"
                       " row_count, used) VALUES (?,?,?,?,?,?,?) ON CONFLICT(dataset,"
                       " fingerprint) DO UPDATE SET path=excluded.path, schema=excluded.schema,"
                       " row_count=excluded.row_count, used=excluded.used",
                       (dataset, fingerprint, path, now, json.dumps(schema), rows, now))

    def use_kept(self, dataset: str, fingerprint: str) -> None:
        """A kept output was restored: it is the most recently used of its dataset's now."""
        with self.transaction() as db:
            db.execute("UPDATE kept_outputs SET used=? WHERE dataset=? AND fingerprint=?",
                       (time.time(), dataset, fingerprint))

    def kept_for(self, dataset: str) -> list[tuple[str, str]]:
        """``(fingerprint, path)`` of a dataset's kept outputs, most recently used first: what
        is evicted is what has gone unused longest, so a version switched back to often (a
        branch, a revert) stays however old it is."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT fingerprint, path FROM kept_outputs WHERE dataset=? ORDER BY"
            " COALESCE(used, created) DESC, created DESC", (dataset,))]

    def drop_kept(self, dataset: str, fingerprint: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM kept_outputs WHERE dataset=? AND fingerprint=?",
                       (dataset, fingerprint))


def decode_record(r: Sequence[Any]) -> DatasetRecord:
    """One row of :meth:`StateStore.record_rows` as a record."""
    return DatasetRecord(r[0], r[1], Components.from_json(json.loads(r[2])) if r[2] else None,
                         r[3], r[4], r[5], json.loads(r[6]) if r[6] else None, r[7], bool(r[8]),
                         r[9], r[10])


DIED = "interrupted: the build's process ended before this job finished (killed?)"


def _end_job_row(db: sqlite3.Connection, run_id: str, name: str, values: dict[str, Any],
                 partition: str | None = None) -> None:
    """Complete the job's ``running`` row, or add a row for a job that never started (a
    skipped or restored one). A partition's job has a row of its own."""
    sets = ", ".join(f"{k}=?" for k in values)
    updated = db.execute(f"UPDATE builds SET {sets} WHERE run_id=? AND dataset=? AND"
                         " partition IS ? AND status='running'",
                         (*values.values(), run_id, name, partition)).rowcount
    if not updated:
        cols = ("run_id", "dataset", "partition", *values)
        db.execute(f"INSERT INTO builds ({', '.join(cols)}) VALUES"
                   f" ({', '.join('?' * len(cols))})",
                   (run_id, name, partition, *values.values()))


def _trigger_of(command: str | None) -> str:
    """Who started a run recorded before runs said so, from its command line."""
    if not command:
        return "unknown"
    if command.startswith("daemon build"):
        return "API"
    return "scenario" if command.startswith("scenario") else "CLI"
