"""A Workspace: one project opened for work — its Flow, its state store and its current status.

This is the library API the CLI calls (and the daemon and language server will): it finds the
project, loads it through the parse cache, and answers "what is the status" and "what would a
build do" without importing any data library.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgpack

from weir.build.state import DatasetRecord, StateStore
from weir.errors import ProjectInvalid, ProjectNotFound, WeirError
from weir.flow.fingerprint import Components, expected_fingerprints
from weir import wire
from weir.assemble import read_flow
from weir.flow.graph import Flow
from weir.flow.plan import BuildPlan, Mode, plan_build
from weir.flow.selection import select
from weir.flow.partition_jobs import plan_partitioned, reaches_partitions
from weir.flow.partition_status import (Partitions, Remembered, dataset_state,
                                        partition_fingerprints,
                                        partitioned, summary)
from weir.flow.status import State, Status, Stored, compute_status
from weir.model.diagnostics import Diagnostic
from weir.model.loader import find_project_root
from weir.model.parse_cache import ParseCache
from weir.model.project import Project, ProjectConfig
from weir.storage.backends import Backends
from weir.storage.locations import source_partitions, source_versions

STATE_DIR = ".weir"
active_environment = wire.active_environment  # for the library's users: `weir.workspace`


def read_config(project_dir: Path | None = None) -> tuple[Path, ProjectConfig]:
    """The project's root and weir.yaml alone (its environments, its name), for a command
    about branches and state that needs no Flow of the work tree (`weir promote`); weir.yaml's
    errors are the project's (ProjectInvalid)."""
    from weir.model.config_files import parse_project_config
    from weir.model.diagnostics import blocks_builds

    root = project_root(project_dir)
    try:
        text = (root / "weir.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WeirError(f"cannot read {root / 'weir.yaml'}: {exc}") from None
    config, diags = parse_project_config("weir.yaml", text)
    errors = [d for d in diags if blocks_builds(d)]
    if config is None or errors:
        raise ProjectInvalid(errors or diags)
    return root, config


def parse_cache(root: Path) -> ParseCache:
    """The project's parse cache (by file content, so shared by every environment, checkout
    and commit read)."""
    return ParseCache(root / STATE_DIR / "cache" / "flow.msgpack")


def state_dir_for(root: Path, environment: str | None) -> Path:
    """Where weir keeps what it knows of the project's data in an environment (wire.state_dir):
    each has its own state store, daemon, logs and claims, so a build in one environment never
    makes another look up to date."""
    return wire.state_dir(root, environment)


@dataclass(frozen=True)
class DataStatus:
    """Everything known about the project's data at one moment."""

    expected: dict[str, str]
    components: dict[str, Components]
    statuses: dict[str, Status]
    records: dict[str, DatasetRecord]
    restorable: frozenset[str]
    # Datasets whose connection cannot be used right now, and why.
    problems: dict[str, WeirError] = field(default_factory=dict)
    # `StateStore.version()` before the records were read: a plan made from this status is
    # still good under a claim while it is unchanged (weir.build.claims).
    state_version: int | None = None
    # The partitions of partitioned datasets (weir.flow.partition_status), when there are any.
    partitions: Partitions | None = None

    def partition_counts(self, name: str) -> dict[str, int] | None:
        """How many partitions of ``name`` are in each state (a source's: how many it has);
        None for a dataset that is not partitioned."""
        if self.partitions is None or name not in self.partitions.domains:
            return None
        if name not in self.partitions.statuses:
            return {State.SOURCE.value: len(self.partitions.domains[name])}
        return self.partitions.counts(name)

    def all_partition_counts(self) -> dict[str, dict[str, int]]:
        """`partition_counts` of every partitioned dataset: what a drawn Flow shows."""
        names = self.partitions.domains if self.partitions is not None else ()
        return {n: counts for n in names if (counts := self.partition_counts(n)) is not None}

    def partition_list(self, name: str) -> tuple[wire.PartitionStatus, ...]:
        """Each partition of ``name``, newest first, with its state and why."""
        if self.partitions is None:
            return ()
        states = self.partitions.statuses.get(name)
        keys = sorted(self.partitions.domains.get(name, ()), reverse=True)
        if states is None:
            return tuple(wire.PartitionStatus(k, State.SOURCE, ()) for k in keys)
        return tuple(wire.PartitionStatus(k, states[k].state, states[k].reasons) for k in keys)


class Workspace:
    def __init__(self, root: Path, project: Project, flow: Flow,
                 diagnostics: list[Diagnostic], data_root: Path | None = None) -> None:
        # ``root``: where the project's files are (its recipes run from there, its commit is
        # that checkout's). ``data_root``: where its state (``state_dir``) and the data of its
        # relative connection roots are — the same directory, except in a deploying daemon
        # (``weir daemon --follow``), whose files come from a worktree of the deployed commit
        # while its data and state stay the user's checkout's, so that `weir --env prod
        # status` there sees what the daemon built, whichever checkout built it.
        self.root = root
        self.data_root = data_root or root
        self.environment: str | None = project.config.environment
        self.project = project
        self.flow = flow
        self.diagnostics = diagnostics
        self._state: StateStore | None = None
        self.backends = Backends(self.data_root, project.connections)
        # What other environments hold that this one may copy, by (dataset, fingerprint), as
        # `weir.build.reuse` found it: a build asks when it plans, under its claim, and when
        # it copies (None: nothing to copy).
        self.reuse_memo: dict[tuple[str, str], Any] = {}

    @classmethod
    def open(cls, project_dir: Path | None = None, use_cache: bool = True,
             environment: str | None = None) -> Workspace:
        """Find and load the project, in ``environment`` (default: the active one); raise
        ProjectInvalid listing every error in its files."""
        root = project_root(project_dir)
        environment = environment or active_environment()
        cache = parse_cache(root) if use_cache else None
        read = read_flow(root, cache=cache, machine_connections=machine_connections_file(),
                         environment=environment)
        if cache is not None:
            cache.save()
        diags = list(read.diagnostics)
        if read.project is None or read.flow is None or _errors(diags):
            raise ProjectInvalid(_errors(diags) or diags)
        return cls(root, read.project, read.flow, diags)

    @property
    def state_dir(self) -> Path:
        return state_dir_for(self.data_root, self.environment)

    @property
    def state(self) -> StateStore:
        if self._state is None:
            self._state = StateStore(self.state_dir / "state.db")
        return self._state

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None

    def snapshot(self) -> DataStatus:
        """The data's status now, probing storage for it (sources' versions, every dataset's
        presence): what a command run on its own works from. The daemon keeps the same thing
        incrementally instead (weir.server.status)."""
        state = self.state
        version = state.version()
        # A connection that cannot be used (a credential not set, a server down) makes its own
        # datasets' status unknown; it must not stop questions about the rest of the Flow.
        unreachable: dict[str, WeirError] = {}
        versions, updates = source_versions(self.project, state.source_stats(), self.backends,
                                            unreachable)
        state.save_source_stats(updates)
        present = presence(self.project, self.project.datasets, self.backends, unreachable)
        parts: Partitions | None = None
        if partitioned(self.flow):
            expected, components, parts = partitions_now(
                self.flow, state, versions, source_partitions(self.project, self.backends,
                                                              unreachable))
        else:
            expected, components = expected_fingerprints(self.flow, versions)
        return replace(data_status(self.project, self.flow, expected, components,
                                   state.records(), present, unreachable, state.kept_paths(),
                                   partitions=parts),
                       state_version=version)

    def dataset_detail(self, name: str, status: DataStatus, building: bool = False,
                       history: int = 10) -> wire.DatasetDetail:
        """One dataset as `weir show` and `GET /api/datasets/{name}` describe it: its last
        ``history`` builds, and as many of the scenario runs that built or checked it. A source
        never built by weir gets the schema its data has (read cheaply: a file's first rows, a
        table's catalogue), unless its connection is down."""
        ds = self.project.datasets[name]
        record = status.records.get(name)
        recipe = self.project.recipes[ds.recipe] if ds.recipe else None
        observed: list[list[Any]] | None = record.schema if record and record.schema else None
        if observed is None and ds.is_source and not ds.is_folder \
                and name not in status.problems:
            try:
                observed = self.source_columns(name)
            except WeirError:
                observed = None  # e.g. no table there: the status says the data is missing
        state = status.statuses[name]
        checked_at, checks = self.state.last_checks(name) if ds.checks else (None, ())
        return wire.DatasetDetail(
            name=name, description=ds.description,
            kind=wire.NodeKind.SOURCE if ds.is_source else (
                wire.NodeKind.FOLDER if ds.is_folder else wire.NodeKind.DATASET),
            connection=ds.connection, path=ds.path, format=ds.format, tags=ds.tags,
            zone=ds.zone, keep=ds.keep,
            recipe=wire.RecipeRef(recipe.name, recipe.id, recipe.kind.value, recipe.file,
                                  recipe.line) if recipe else None,
            inputs=self.flow.upstream[name], consumers=self.flow.downstream[name],
            status=state.state, reasons=state.reasons, building=building,
            schema=tuple((str(c[0]), str(c[1]), bool(c[2])) for c in observed)
            if observed is not None else None,
            declared_schema=tuple((c.name, c.type, c.nullable) for c in ds.schema)
            if ds.schema else None,
            rows=record.row_count if record else None,
            built_at=record.built_at if record else None,
            builds=tuple(wire.HistoryEntry.from_json(h)
                         for h in self.state.history(name, history)),
            checks=checks, checked_at=checked_at,
            scenario_runs=tuple(self.state.dataset_scenario_runs(name, history)))

    def source_columns(self, name: str) -> list[list[Any]] | None:
        """A source's columns as its data has them — a file's first rows, a table's
        catalogue — as ``[name, type, nullable]``; None when the data cannot tell (no rows,
        unreadable). A connection that cannot be used, or a missing table, is raised."""
        ds = self.project.datasets[name]
        try:
            with self.backends.using(ds.connection) as backend:
                schema = backend.sample_schema(ds.path, ds.format)
        except WeirError:
            raise
        except Exception:  # noqa: BLE001 - unreadable data: the caller says so
            return None
        return None if schema is None else [[f.name, str(f.type), f.nullable] for f in schema]

    def dataset(self, name: str) -> Any:
        """The dataset called ``name``; an unknown name is the user's mistake, said once for
        every command that takes a dataset (with the closest name)."""
        from weir.model.suggest import did_you_mean

        ds = self.project.datasets.get(name)
        if ds is None:
            raise WeirError(f"unknown dataset '{name}'",
                            hint=did_you_mean(name, self.project.datasets)
                            or "`weir flow` lists every dataset")
        return ds

    def located(self, connection: str, cause: WeirError) -> WeirError:
        """``cause`` said where the connection is defined (its file and line)."""
        return located(self.project, connection, cause)

    def resolve_targets(self, selectors: list[str], all_: bool = False,
                        stale_only: bool = False, snapshot: DataStatus | None = None) -> list[str]:
        targets: list[str] = []
        if all_:
            targets = [n for n in self.flow.order if not self.project.datasets[n].is_source]
        if stale_only:
            snap = snapshot or self.snapshot()
            targets += [n for n in self.flow.order if not snap.statuses[n].up_to_date]
        if selectors:
            targets += select(self.flow, selectors)
        if not targets and not (all_ or stale_only):
            raise nothing_to_build()
        return list(dict.fromkeys(targets))

    def plan(self, targets: list[str], mode: Mode, snapshot: DataStatus,
             partitions: str = "") -> BuildPlan:
        """The plan. What needs a connection that cannot be used is left out of its jobs and
        listed as blocked, with a note giving the connection's error, so the rest of the Flow
        still builds; when *everything* asked for needs it, that connection's own error (with
        its file and line) is raised instead, as there is nothing to build. A build that
        reaches a partitioned dataset is planned per partition (``partitions``: what
        `--partition` said)."""
        by_partition = snapshot.partitions is not None and (
            bool(partitions) or reaches_partitions(self.flow, targets, mode))
        if by_partition:
            assert snapshot.partitions is not None
            plan = plan_partitioned(self.flow, snapshot.statuses, snapshot.partitions,
                                    targets, mode, partitions, snapshot.restorable,
                                    unavailable=snapshot.problems.keys())
        elif partitions:
            raise WeirError("--partition: no dataset of this project is partitioned",
                            hint="declare `partitioning:` in a dataset's file "
                            "(docs/project-format.md, Partitions)")
        else:
            plan = plan_build(self.flow, snapshot.statuses, targets, mode, snapshot.restorable,
                              unavailable=snapshot.problems.keys())
        runs = [o for j in plan.jobs if j.action is wire.Action.RUN for o in j.outputs]
        if runs and self.project.config.environments and not by_partition:
            from weir.build.reuse import find_reusable

            reusable = find_reusable(self, snapshot.expected, runs)
            if reusable:  # what another environment built at these fingerprints is copied
                plan = plan_build(self.flow, snapshot.statuses, targets, mode,
                                  snapshot.restorable, unavailable=snapshot.problems.keys(),
                                  reusable={n: r.environment for n, r in reusable.items()})
        if not plan.blocked and not (set(targets) & snapshot.problems.keys()):
            return plan
        if not plan.jobs and not plan.up_to_date:
            raise self.cause(plan.blocked[0] if plan.blocked else sorted(
                set(targets) & snapshot.problems.keys())[0], snapshot)
        by_cause: dict[str, list[str]] = {}
        for name in plan.blocked:
            by_cause.setdefault(self.cause(name, snapshot).message, []).append(name)
        notes = [f"{', '.join(names)}: cannot be built now ({cause})"
                 for cause, names in by_cause.items()]
        return replace(plan, notes=(*plan.notes, *notes))

    def cause(self, name: str, snapshot: DataStatus) -> WeirError:
        """Why ``name`` cannot be built now: the error of the first dataset, in Flow order,
        whose storage cannot be used and that it needs (itself, an input upstream, or a
        sibling output of its recipe and what that needs)."""
        if name in snapshot.problems:
            return snapshot.problems[name]
        seen: set[str] = set()
        todo = [name]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            todo.extend(self.flow.upstream[n])
            recipe = self.project.datasets[n].recipe
            if recipe is not None:
                todo.extend(self.project.recipes[recipe].outputs)
        first = next(n for n in self.flow.order if n in seen and n in snapshot.problems)
        return snapshot.problems[first]


def partitions_now(flow: Flow, state: StateStore, versions: dict[str, str | None],
                   found: Mapping[str, Mapping[str, str]]
                   ) -> tuple[dict[str, str], dict[str, Components], Partitions]:
    """Every partition's fingerprint and status, computed again only for the datasets whose
    inputs, definition or records changed since the last time (what that computed is kept in
    the state store): over a long history, a status is not 365,000 fingerprints each time."""
    changes = state.partition_changes()
    remembered: dict[str, Remembered] = {}
    for name, packed in state.remembered_partitions().items():
        try:
            remembered[name] = Remembered.unpack(msgpack.unpackb(packed))
        except (ValueError, TypeError, msgpack.UnpackException):
            continue  # unreadable: computed again
    expected, components, parts = partition_fingerprints(
        flow, versions, found, RecordsByDataset(state), changes, remembered)
    fresh = {name: msgpack.packb(memo.pack()) for name, memo in parts.remembered.items()
             if remembered.get(name) is not memo}
    if fresh:
        state.remember_partitions(fresh)
    return expected, components, parts


class RecordsByDataset(Mapping[str, Mapping[str, Any]]):
    """The state store's partition records, read one dataset at a time as they are asked for
    (a status that remembers the rest reads few). Given ``changes`` and a ``cache`` (the
    daemon keeps one), a dataset's records are read again only when they were written."""

    def __init__(self, state: StateStore, changes: Mapping[str, int] | None = None,
                 cache: dict[str, tuple[int, Mapping[str, Any]]] | None = None) -> None:
        self._state, self._changes, self._cache = state, changes, cache

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        n = (self._changes or {}).get(name, 0)
        if self._cache is not None and (hit := self._cache.get(name)) and hit[0] == n:
            return hit[1]
        records = self._state.partition_records([name]).get(name, {})
        if self._cache is not None and self._changes is not None:
            self._cache[name] = (n, records)
        return records

    def __iter__(self) -> Iterator[str]:
        return iter(self._state.partition_records())

    def __len__(self) -> int:
        return len(self._state.partition_records())


def presence(project: Project, names: Iterable[str], backends: Backends,
             unreachable: dict[str, WeirError]) -> dict[str, bool]:
    """Whether each dataset of ``names`` has data in its storage (one cheap existence check
    each); a dataset whose connection cannot be used has none, and its error goes to
    ``unreachable``."""
    present: dict[str, bool] = {}
    by_connection: dict[str, list[str]] = {}
    for name in names:
        ds = project.datasets[name]
        if ds.connection not in project.connections:
            present[name] = False  # invalid: its unknown connection is in the diagnostics
            continue
        by_connection.setdefault(ds.connection, []).append(name)
    for connection, members in by_connection.items():
        try:
            with backends.using(connection) as backend:
                found = backend.exists_many([(project.datasets[n].path,
                                              project.datasets[n].format) for n in members])
        except WeirError as exc:
            for name in members:
                unreachable.setdefault(name, exc)
                present[name] = False
            continue
        for name in members:
            present[name] = found[project.datasets[name].path]
    return present


def data_status(project: Project, flow: Flow, expected: dict[str, str],
                components: dict[str, Components], records: dict[str, DatasetRecord],
                present: Mapping[str, bool], unreachable: Mapping[str, WeirError],
                kept: Mapping[tuple[str, str], str],
                stored: Mapping[str, Stored] | None = None,
                partitions: Partitions | None = None) -> DataStatus:
    """The status from what storage and the state store said (no probing but a kept output's
    existence, for the stale datasets that have one): the one computation behind every
    status, in a command or kept by the daemon. ``stored``: the records' ``stored()``, when
    the caller keeps them."""
    statuses = compute_status(flow, expected, components,
                              stored if stored is not None
                              else {n: r.stored() for n, r in records.items()}, present)
    if partitions is not None:  # a partitioned dataset's state is its partitions'
        for name, ds in project.datasets.items():
            if ds.partitioning is None or name in flow.invalid:
                continue
            if ds.is_source:
                statuses[name] = replace(statuses[name], state=State.SOURCE,
                                         data_present=bool(partitions.domains.get(name)))
                continue
            counts = partitions.counts(name)
            state = dataset_state(counts)
            statuses[name] = Status(state, () if state is State.UP_TO_DATE
                                    else (summary(counts) or "no partition yet",),
                                    present.get(name, False) or bool(counts))
    problems: dict[str, WeirError] = {}
    for name, cause in unreachable.items():  # said once, where the connection is defined
        if name not in statuses:
            continue
        problems[name] = located(project, project.datasets[name].connection, cause)
        statuses[name] = replace(statuses[name], reasons=(
            f"cannot reach its data ({problems[name].message})",))
    restorable = frozenset(
        n for n, fp in expected.items() if (n, fp) in kept
        and project.datasets[n].partitioning is None
        and not statuses[n].up_to_date and _keepable(project, n, kept[(n, fp)]))
    return DataStatus(expected, components, statuses, records, restorable, problems,
                      partitions=partitions)


def _keepable(project: Project, name: str, kept: str) -> bool:
    """Can this kept version come back: a kept file that is still there, or a table its
    storage kept (a place of that storage's kind: a revert or a branch switch copies it)."""
    kind = project.connections[project.datasets[name].connection].type
    if "://" in kept:
        return kept.startswith(f"{kind}://")
    return kind == "filesystem" and os.path.exists(kept)


def located(project: Project, connection: str, cause: WeirError) -> WeirError:
    """``cause`` said where the connection is defined (its file and line)."""
    conn = project.connections[connection]
    return WeirError(f"{conn.location}: {cause.message}", hint=cause.hint)


def project_root(project_dir: Path | None = None) -> Path:
    """The project's directory: ``project_dir`` (``--project``), else the nearest weir.yaml at
    or above ``$WEIR_PROJECT`` or the current directory; ProjectNotFound if there is none."""
    if project_dir is not None:
        if not (project_dir / "weir.yaml").is_file():
            raise ProjectNotFound(f"{project_dir} is not a weir project (no weir.yaml)",
                                  hint="create one with `weir init DIR`")
        return project_dir.resolve()
    start = Path(os.environ.get("WEIR_PROJECT") or os.getcwd())
    found = find_project_root(start)
    if found is None:
        raise ProjectNotFound(f"no weir project at or above {start}",
                              hint="run weir inside a project (a directory with weir.yaml), "
                              "pass --project DIR, or create one with `weir init DIR`")
    return found


def nothing_to_build() -> WeirError:
    """The one answer to a build that names nothing, wherever it would run."""
    return WeirError("nothing to build: name datasets or a selector",
                     hint="e.g. `weir build monthly_report`, `weir build tag:report`, "
                     "`weir build --all`")


def machine_connections_path() -> Path:
    """The machine's connections file: ``$WEIR_CONNECTIONS`` or
    ``~/.config/weir/connections.yaml`` — kept by whoever runs the environment, never in git."""
    configured = os.environ.get("WEIR_CONNECTIONS")
    return Path(configured) if configured else Path.home() / ".config/weir/connections.yaml"


def machine_connections_file() -> tuple[str, str] | None:
    path = machine_connections_path()
    try:
        return str(path), path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if os.environ.get("WEIR_CONNECTIONS"):
            raise WeirError(f"WEIR_CONNECTIONS names {path}, which does not exist",
                            hint="create it, or unset WEIR_CONNECTIONS") from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise WeirError(f"cannot read the machine's connections file {path}: {exc}") from None


def _errors(diags: list[Diagnostic]) -> list[Diagnostic]:
    from weir.model.diagnostics import blocks_builds

    return [d for d in diags if blocks_builds(d)]


def versions_everywhere(ws: Workspace, name: str, limit: int) -> list[wire.DatasetVersion]:
    """The dataset's builds in every environment that has state — the project with none, and
    each of weir.yaml's — newest first; only the active one's when one is chosen. Each store is
    read as it is (one not made yet is skipped), and each version says its environment."""
    places: list[str | None] = [ws.environment] if ws.environment else \
        [None, *sorted(ws.project.config.environments)]
    found: list[wire.DatasetVersion] = []
    for env in places:
        db = state_dir_for(ws.data_root, env) / "state.db"
        if not db.exists():
            continue
        store = ws.state if env == ws.environment else StateStore(db)
        try:
            found += [dataclasses.replace(v, environment=env)
                      for v in store.versions(name, limit)]
        finally:
            if store is not ws.state:
                store.close()
    return sorted(found, key=lambda v: v.started or 0.0, reverse=True)
