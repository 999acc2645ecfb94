"""Running a BuildPlan: dispatch jobs to the worker pool, commit what they write.

Which job starts when — and what is skipped after a failure, a ``--fail-fast`` or a cancel — is
the ``Scheduler``'s to say (``weir.build.schedule``, pure and tested on literal jobs). The runner
does what it says and owns every side effect of a build: temporary files renamed into place,
kept outputs (by fingerprint) linked and restored, the state store updated, workers killed
cleanly on a stop or Ctrl-C. It reports progress as events and never prints.

A source's checks that the plan says are due (``BuildPlan.checks``) are a task of their own,
``check:SOURCE``, run in a worker like a recipe, which the jobs reading the source come after:
when an `error` check fails, they are skipped as below any failure, and the source is recorded
failed at its check fingerprint (weir never changes a source); when they pass, that
fingerprint is recorded, so the next build runs them again only if it changes.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.build.claims import run_alive, run_claim
from weir.build import specs
from weir.build.jobspec import (ConnectionSpec, InputSpec, JobResult, OutputSpec,
                                SourceCheckJob, WorkerJob, WrittenOutput)
from weir.build.cluster_storage import refuse_unreachable
from weir.build.code_bundle import CodeBundle, bundle_project
from weir.build.pool import JobPool, Workers, WorkerPool
from weir.build.schedule import Scheduler, Stop, Task
from weir.build.rscript import RscriptMissing, find_rscript
from weir.build.slots import Slots
from weir.build.spark_jobs import pyspark_missing, spark_job
from weir.errors import WeirError
from weir.flow.fingerprint import check_components, components_for
from weir.flow.partition_status import partition_fingerprint, read_key
from weir.flow.plan import Action, BuildPlan, Job, SourceCheck
from weir.gitops.head import head_commit
from weir.model.project import FORMATS, ColumnSpec, Interface, RecipeKind
from weir.storage.locations import link_copy, remove_path
from weir.wire import JobStatus, Severity, job_id
from weir.workspace import DataStatus, Workspace

if TYPE_CHECKING:
    from weir.build.dask_pool import DaskCluster

KEEP_VERSIONS = 3  # outputs kept per dataset for instant restores (least recently used go)


@dataclass
class Outcome:
    recipe: str
    outputs: tuple[str, ...]
    status: JobStatus
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    log_path: str | None = None
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # the `warning` checks its outputs failed (published anyway)
    partition: str | None = None  # the partition of its outputs it built

    @property
    def id(self) -> str:
        return job_id(self.recipe, self.partition)


@dataclass
class BuildResult:
    run_id: str
    outcomes: list[Outcome]
    interrupted: bool = False
    seconds: float = 0.0
    cancelled: bool = False
    # Something the machine lacks stopped part of it (Rscript, pyspark): the CLI exits
    # 2, a mistake to fix in the set-up rather than in a recipe.
    setup_missing: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.status.ok
                                            for o in self.outcomes)

    def count(self, status: JobStatus) -> int:
        return sum(len(o.outputs) for o in self.outcomes if o.status == status)


Listener = Callable[[str, Outcome], None]  # ("start" | "finish", outcome)


@dataclass(frozen=True)
class _Running:
    """A job in a worker: what it was sent, and what the parent needs to commit it."""

    started: float
    job: WorkerJob | SourceCheckJob
    input_fps: dict[str, str]  # fingerprints of the data it reads, fixed at dispatch


def plan_writes(ws: Workspace, plan: BuildPlan) -> frozenset[str]:
    """The datasets a build of ``plan`` writes (a recipe that runs writes all its outputs):
    what it claims (``weir.build.claims``)."""
    names: set[str] = set()
    for job in plan.jobs:
        names.update(ws.project.recipes[job.recipe].outputs if job.action is Action.RUN
                     else job.outputs)
    return frozenset(names)


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class Runner:
    def __init__(self, ws: Workspace, plan: BuildPlan, snapshot: DataStatus, jobs: int,
                 fail_fast: bool = False, listener: Listener | None = None,
                 command: str = "build", cancel: threading.Event | None = None,
                 workers: Workers | None = None, slots: Slots | None = None,
                 trigger: str = "CLI", cluster: DaskCluster | None = None) -> None:
        """``workers`` and ``slots``: the daemon's warm workers and the slots its builds
        share (without them the build has workers of its own, ``jobs`` of them).
        ``cluster``: the Dask cluster its recipe jobs run on instead (``executor: dask``)."""
        self.ws = ws
        self.project = ws.project
        self.plan = plan
        self.snapshot = snapshot
        self.jobs = max(1, jobs)
        self.fail_fast = fail_fast
        self.cancel = cancel or threading.Event()  # set from another thread to cancel
        self.listener = listener or (lambda kind, outcome: None)
        self.command = command
        self.trigger = trigger  # who started it, for `weir log`
        self.run_id = new_run_id()
        self.workers = workers
        self.slots = slots
        self.cluster = cluster
        self._code: CodeBundle | None = None  # the project's code, for a cluster's workers
        self._holding: dict[str, frozenset[str]] = {}  # recipe -> connections, in slots
        self._committing: set[str] = set()  # of those, the ones whose slot is given back
        self._checks = {c.task: c for c in plan.checks}  # the source checks, by task id
        self._check_said: dict[str, str] = {}  # a failed source check: how its readers say it
        self._by_place: dict[tuple[str, str], str] | None = None  # (connection, loc) -> name
        self._rscript: str | WeirError | None = None  # found when an R recipe first runs
        self._no_pyspark = False  # a PySpark recipe could not run: pyspark is not installed
        # The fingerprint of the data each dataset holds right now (updated as jobs commit).
        self.current = {n: r.fingerprint for n, r in snapshot.records.items() if r.fingerprint}
        for name, ds in self.project.datasets.items():
            if ds.is_source or ds.partitioning is not None:  # a partitioned one: as planned
                self.current[name] = snapshot.expected.get(name, "")
        # The fingerprint each partition holds now (of the datasets this build reads).
        self._current_parts: dict[tuple[str, str], str] = {}
        if snapshot.partitions is not None and any(j.partition for j in plan.jobs):
            for name, records in ws.state.partition_records().items():
                for key, record in records.items():
                    if record.fingerprint:
                        self._current_parts[(name, key)] = record.fingerprint
            for name, expected in snapshot.partitions.expected.items():
                if self.project.datasets[name].is_source:
                    for key, fp in expected.items():
                        self._current_parts[(name, key)] = fp

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> BuildResult:
        """Run the plan. The caller holds the claims of the datasets it writes
        (``weir.build.claims``); the run holds its own claim while it runs, which tells a
        later build it is not dead. A build for a cluster whose jobs would use storage its
        workers cannot reach is refused before anything runs."""
        if self.cluster is not None:
            refuse_unreachable(self.project, self.plan, self.cluster.executor)
            data = [Path(self.ws.data_root) / str(c.params["root"])
                    for c in self.project.connections.values() if c.type == "filesystem"]
            self._code = bundle_project(Path(self.ws.root), data)  # what the workers run
        with run_claim(self.ws.state_dir, self.run_id):
            return self._run()

    def _run(self) -> BuildResult:
        started = time.perf_counter()
        state = self.ws.state
        state.mark_dead_runs_interrupted(lambda r: run_alive(self.ws.state_dir, r))
        # Which commit the build runs at: asked of git beside the build (GitPython and two
        # `git diff`s cost a tenth of a second, most of a build that only restores), recorded
        # with the run's end.
        commit: dict[str, str | None] = {}
        probe = threading.Thread(target=lambda: commit.update(sha=head_commit(self.ws.root)),
                                 name="weir-head-commit", daemon=True)
        probe.start()
        state.start_run(self.run_id, self.command, None, self.trigger, self.ws.environment)
        # A source check is a job of its own (its one "output" the source it checks), first.
        jobs = {c.task: Job(c.task, (c.source,), {c.source: c.reasons}, Action.RUN, ())
                for c in self.plan.checks}
        jobs.update((j.id, j) for j in self.plan.jobs)
        schedule = Scheduler([self._task(j) for j in jobs.values()], self.jobs,
                             self._limits(), self.fail_fast)
        outcomes: dict[str, Outcome] = {}
        running: dict[str, _Running] = {}
        pool = self._pool() if any(j.action is Action.RUN for j in jobs.values()) else None
        interrupted = False
        cancelled = False

        def finish(outcome: Outcome) -> None:
            outcomes[outcome.id] = outcome
            self.listener("finish", outcome)

        def skip_below(failed: str, skipped: tuple[str, ...]) -> None:
            error = (f"skipped: source {jobs[failed].outputs[0]} {self._check_said[failed]}"
                     if failed in self._checks
                     else f"skipped: upstream {jobs[failed].outputs[0]} did not build")
            for r in skipped:
                self._record_failed(jobs[r], None, error, None, status="skipped")
                finish(Outcome(jobs[r].recipe, jobs[r].outputs, JobStatus.SKIPPED, error=error,
                               partition=jobs[r].partition))

        def stop(how: Stop, why: str) -> None:
            """Kill what runs (its temporary output goes), and skip what waits."""
            if how.interrupted:
                assert pool is not None
                pool.kill(*how.interrupted)  # at once: a cluster restarts their workers together
            for r in how.interrupted:
                run = running.pop(r)
                self._release(r)
                self._discard_temps(run.job)
                finish(self._interrupted(jobs[r], run))
            for r in how.not_started:
                finish(Outcome(jobs[r].recipe, jobs[r].outputs, JobStatus.SKIPPED, error=why,
                               partition=jobs[r].partition))

        def launch(wait: bool) -> list[str]:
            """Start what the scheduler says may start now (see ``_start`` for ``wait``)."""
            starting = self._start(schedule, jobs, wait)
            restores = []
            for recipe in starting:
                job = jobs[recipe]
                down = self._down(job) or self._without_r(job) or self._without_pyspark(job)
                if down is not None:
                    self._release(recipe)
                    finish(self._unusable(job, down))
                    skip_below(recipe, schedule.cannot_run(recipe))
                elif job.action is Action.RESTORE:
                    restores.append(job)
                else:
                    assert pool is not None
                    running[recipe] = self._dispatch(pool, job)
            for outcome in self._restore(restores):  # together: one transaction a database
                self._release(outcome.id)
                finish(outcome)
                if outcome.status.ok:
                    schedule.succeeded(outcome.id)
                else:  # a copy that could not be made: no retry, nor the recipe's failure
                    skip_below(outcome.id, schedule.cannot_run(outcome.id))
            return starting

        blocked = self._blocked()
        try:
            self._cleanup_stale()
            while not schedule.done:
                if self.cancel.is_set() and not schedule.stopped:
                    cancelled = True
                    stop(schedule.cancel(), "not started (build cancelled)")
                    continue
                starting = launch(wait=not running)
                if starting:
                    continue  # what finished at once (restores, failures) may free others
                if not running:
                    if self.slots is not None and schedule.ready:
                        continue  # every shared slot is another build's: it waited for one
                    break  # nothing runs and nothing can start: what is left is reported below
                assert pool is not None
                finished = pool.wait(timeout=0.2)
                # The workers that did well take their next jobs first; their outputs are
                # committed here while those run (what reads them waits for the commit).
                done_ok = [d for d in finished if d.result.ok and d.job in running]
                for done in done_ok:
                    schedule.worker_done(done.job)
                    self._release(done.job, worker_only=True)
                if done_ok:
                    launch(wait=False)
                for done in finished:
                    run = running.pop(done.job, None)
                    if run is None:
                        continue  # stopped by a failure in this same batch: already reported
                    self._release(done.job)
                    job, result = jobs[done.job], done.result
                    if result.ok:
                        finish(self._checked(job, run, result) if done.job in self._checks
                               else self._commit(job, run, result))
                        schedule.succeeded(done.job)
                        continue
                    failure = schedule.failed(done.job)
                    if failure.retry:
                        self._discard_temps(run.job, result)
                        continue
                    self._discard_temps(run.job)
                    finish(self._check_failed(job, run, result) if done.job in self._checks
                           else self._fail(job, run, result))
                    skip_below(done.job, failure.skipped)
                    if failure.stop is not None:
                        stop(failure.stop, "not started (--fail-fast)")
        except KeyboardInterrupt:
            interrupted = True
            if pool is not None:
                pool.close(kill=True)
                pool = None
            for recipe, run in list(running.items()):
                self._discard_temps(run.job)
                outcomes[recipe] = self._interrupted(jobs[recipe], run)
        finally:
            if pool is not None:
                pool.close()
            for recipe in list(self._holding):
                self._release(recipe)
        for recipe in jobs:
            outcomes.setdefault(recipe, Outcome(jobs[recipe].recipe, jobs[recipe].outputs,
                                                JobStatus.SKIPPED, error="not started",
                                                partition=jobs[recipe].partition))
        ordered = [outcomes[r] for r in jobs]
        ordered += blocked.values()
        build = BuildResult(self.run_id, ordered, interrupted or cancelled,
                            time.perf_counter() - started, cancelled,
                            setup_missing=isinstance(self._rscript, WeirError)
                            or self._no_pyspark)
        probe.join()
        state.finish_run(self.run_id, "cancelled" if cancelled else "interrupted"
                         if interrupted else ("succeeded" if build.ok else "failed"),
                         commit.get("sha"))
        return build

    def _start(self, schedule: Scheduler, jobs: dict[str, Job], wait: bool) -> list[str]:
        """What to start now. With shared slots, the tasks take theirs in the same step; and
        when ``wait`` (nothing of this build runs) and every slot is another build's, it
        waits a moment for one to be given back."""
        if self.slots is None:
            return schedule.start()
        with self.slots.lock:
            starting = schedule.start(self.slots.free, self._elsewhere())
            if not starting and wait and schedule.ready:
                self.slots.lock.wait(0.2)
                starting = schedule.start(self.slots.free, self._elsewhere())
            in_worker = [r for r in starting if jobs[r].action is Action.RUN]
            self.slots.take(self._connections(jobs[r]) for r in in_worker)
            self._holding.update((r, self._connections(jobs[r])) for r in in_worker)
        return starting

    def _elsewhere(self) -> Counter[str]:
        """Under the slots' lock: the connections other builds' tasks use now (the
        scheduler counts this build's own)."""
        assert self.slots is not None
        mine: Counter[str] = Counter()
        for conns in self._holding.values():
            mine.update(conns)
        return Counter(self.slots.in_use) - mine

    def _release(self, recipe: str, worker_only: bool = False) -> None:
        """Give back the shared slot a job of this build held (when it held one) and its
        connections; ``worker_only``: the job's worker is free, and its output is being
        committed (its connections are still in use)."""
        if self.slots is None or recipe not in self._holding:
            return
        if worker_only:
            if recipe not in self._committing:
                self._committing.add(recipe)
                self.slots.give_back(frozenset(), slot=True)
            return
        slot = recipe not in self._committing
        self._committing.discard(recipe)
        self.slots.give_back(self._holding.pop(recipe), slot=slot)

    def _pool(self) -> JobPool:
        if self.cluster is not None:
            from weir.build.dask_pool import DaskPool

            return DaskPool(self.cluster, self.jobs, self._code)
        return WorkerPool(self.jobs, self.workers)

    def _dispatch(self, pool: JobPool, job: Job) -> _Running:
        if job.recipe in self._checks:
            check = self._checks[job.recipe]
            comps = check_components(self.ws.flow, check.source, self.current)
            assert comps is not None  # planned: it declares checks
            run = _Running(time.time(), self.check_job(check), dict(comps.inputs))
        else:
            run = _Running(time.time(), self.worker_job(job), self._input_fps(job))
        self.ws.state.start_job(self.run_id, job.recipe, job.outputs, run.started,
                                run.job.log_path, job.partition)
        self.listener("start", Outcome(job.recipe, job.outputs, JobStatus.RUNNING,
                                       reasons=dict(job.reasons), log_path=run.job.log_path,
                                       partition=job.partition))
        pool.submit(job.id, run.job)
        return run

    def _cleanup_stale(self) -> None:
        """Remove what killed builds left staged where this one writes (one pass per
        connection)."""
        by_connection: dict[str, list[tuple[str, str]]] = {}
        for job in self.plan.jobs:
            for out in job.outputs:
                ds = self.project.datasets[out]
                by_connection.setdefault(ds.connection, []).append((ds.path, ds.format))
        for conn, locs in by_connection.items():
            try:
                with self.ws.backends.using(conn) as backend:
                    backend.cleanup_stale_many(locs)
            except WeirError:
                pass  # remembered as down: the jobs that need it fail with its error

    def _task(self, job: Job) -> Task:
        """The job as the scheduler sees it. A restore is done in this process at once. A job
        comes after the checks of the sources it reads; a check is not retried (the data it
        reads is what it is)."""
        if job.recipe in self._checks:
            return Task(job.recipe, (), self._connections(job))
        recipe = self.project.recipes[job.recipe]
        checks = tuple(c.task for c in self.plan.checks_before(self.ws.flow, job))
        # A restore reads nothing of this build's (its data is the one its fingerprint names):
        # it waits only for its sources' checks, so every restore of a build goes at once.
        after = checks if job.action is Action.RESTORE else job.depends_on + checks
        return Task(job.id, after, self._connections(job), recipe.retries,
                    in_worker=job.action is Action.RUN)

    def _reads_writes(self, job: Job) -> tuple[str, ...]:
        """The datasets ``job`` reads and writes (a source check: the source and the datasets
        its relationship checks look values up in)."""
        if job.recipe in self._checks:
            name = self._checks[job.recipe].source
            return (name, *self._related(name))
        recipe = self.project.recipes[job.recipe]
        return (*recipe.outputs, *recipe.input_names)

    def _connections(self, job: Job) -> frozenset[str]:
        return frozenset(self.project.datasets[n].connection for n in self._reads_writes(job))

    def _limits(self) -> dict[str, int]:
        return {name: int(c.params["max_concurrent_jobs"])
                for name, c in self.project.connections.items()
                if c.params.get("max_concurrent_jobs")}

    # -- helpers ----------------------------------------------------------------------------
    def _blocked(self) -> dict[str, Outcome]:
        """Outcomes for what the plan could not include (it needs a connection that cannot be
        used): failed with the connection's error where the recipe reads or writes there,
        skipped below that — as if those recipes had run and failed."""
        blocked = set(self.plan.blocked)
        outcomes: dict[str, Outcome] = {}
        for name in self.plan.blocked:
            recipe_id = self.project.datasets[name].recipe
            assert recipe_id is not None
            if recipe_id in outcomes:
                continue
            recipe = self.project.recipes[recipe_id]
            outputs = tuple(o for o in recipe.outputs if o in blocked)
            touched = [d for d in (*recipe.outputs, *recipe.input_names)
                       if d in self.snapshot.problems]
            if touched:
                outcome = self._unusable(Job(recipe_id, outputs, {}, Action.RUN, ()),
                                         self.snapshot.problems[touched[0]])
            else:
                upstream = next(i for i in recipe.input_names if i in blocked)
                outcome = Outcome(recipe_id, outputs, JobStatus.SKIPPED,
                                  error=f"skipped: upstream {upstream} did not build")
                for out in outputs:
                    self.ws.state.record_failure(self.run_id, recipe_id, out, None,
                                                 outcome.error or "", None, status="skipped")
            self.listener("finish", outcome)
            outcomes[recipe_id] = outcome
        return outcomes

    def _down(self, job: Job) -> WeirError | None:
        """The error of a connection the job needs that failed since planning, if any."""
        for name in self._reads_writes(job):
            conn = self.project.datasets[name].connection
            if conn in self.ws.backends.down:
                return self.ws.located(conn, self.ws.backends.down[conn])
        return None

    def _without_r(self, job: Job) -> WeirError | None:
        """Why an R recipe cannot run here (no Rscript), if it cannot."""
        recipe = self.project.recipes.get(job.recipe)
        if job.action is not Action.RUN or recipe is None or recipe.kind is not RecipeKind.R:
            return None
        if self._rscript is None:
            try:
                self._rscript = find_rscript(self.project.config, self.ws.root)
            except RscriptMissing as exc:
                self._rscript = exc
        return self._rscript if isinstance(self._rscript, WeirError) else None

    def _without_pyspark(self, job: Job) -> WeirError | None:
        """Why a PySpark recipe cannot run here (pyspark is not installed), if it cannot."""
        if self.cluster is not None:
            return None  # its workers run it: a worker without pyspark says so itself
        recipe = self.project.recipes.get(job.recipe)
        missing = pyspark_missing(recipe) if job.action is Action.RUN and recipe else None
        self._no_pyspark |= missing is not None
        return missing

    def _unusable(self, job: Job, error: WeirError) -> Outcome:
        text = error.message + (f"\nhint: {error.hint}" if error.hint else "")
        self._check_said.setdefault(job.id, "could not be checked")
        self._record_failed(job, None, text, None)
        return Outcome(job.recipe, job.outputs, JobStatus.FAILED, error=text,
                       reasons=dict(job.reasons), partition=job.partition)

    def worker_job(self, job: Job) -> WorkerJob:
        """What a worker needs to run ``job``, as plain values (see ``weir.build.jobspec``)."""
        project = self.project
        recipe = project.recipes[job.recipe]
        token = f"{self.run_id}-{secrets.token_hex(2)}"
        log_name = self.run_id if job.partition is None else \
            f"{self.run_id}-{job.partition.replace('/', '-').replace('=', '-')}"
        log_path = self.ws.state_dir / "logs" / recipe.name / f"{log_name}.log"

        def schema_of(name: str) -> tuple[ColumnSpec, ...] | None:
            return tuple(project.datasets[name].schema or ()) or None

        inputs = [self._input_spec(inp.name, inp.interface, job) for inp in recipe.inputs]

        def related(ds: Any) -> tuple[InputSpec, ...]:
            """The datasets its relationship checks look values up in."""
            names = {other for c in ds.checks if c.kind.value == "relationships"
                     for other, _ in c.params["links"].values()}
            return tuple(self._input_spec(n, Interface.ARROW)
                         for n in sorted(names) if n in project.datasets)

        outputs = []
        for out in recipe.outputs:
            ds = project.datasets[out]
            outputs.append(OutputSpec(out, self._connection_spec(out), ds.path, ds.format,
                                      token, schema_of(out), ds.location.file, tuple(ds.checks),
                                      related(ds), job.partition, ds.partitioning))
        return WorkerJob(
            recipe=recipe.name, kind=recipe.kind, project_root=str(self.ws.root),
            file=str(self.ws.root / recipe.file), rel_file=recipe.file, line=recipe.line,
            recipes_dir=str(self.ws.root / "recipes"), inputs=tuple(inputs),
            outputs=tuple(outputs), variables=dict(project.config.variables),
            sql_variables=tuple(recipe.variables) if recipe.kind is RecipeKind.SQL else (),
            log_path=str(log_path), data_root=str(self.ws.data_root),
            rscript=self._rscript if isinstance(self._rscript, str) else None,
            partition=job.partition,
            partitioning=project.datasets[recipe.outputs[0]].partitioning,
            partition_parameter=recipe.partition_parameter,
            spark=spark_job(recipe, project.config.spark))

    def check_job(self, check: SourceCheck) -> SourceCheckJob:
        """What a worker needs to run a source's checks, as plain values."""
        name = check.source
        ds = self.project.datasets[name]
        return specs.check_job(
            self.project, self.ws.root, self.ws.data_root,
            self.ws.state_dir / "logs" / "checks" / name / f"{self.run_id}.log", name,
            hint=f"weir never changes a source: fix its data ({ds.connection}:{ds.path}) or "
            f"the check in {ds.location.file} (or make it `severity: warning`); what reads "
            f"'{name}' is not built until its checks pass")

    def _related(self, source: str) -> tuple[str, ...]:
        return specs.related(self.project, source)

    def _connection_spec(self, name: str) -> ConnectionSpec:
        return specs.connection_spec(self.project, name)

    def _input_spec(self, name: str, interface: Interface, job: Job | None = None) -> InputSpec:
        spec = specs.input_spec(self.project, name, interface)
        ds = self.project.datasets[name]
        if ds.partitioning is None:
            return spec
        keys: tuple[str | None, ...] = job.reads.get(name, ()) if job is not None else tuple(
            self.snapshot.partitions.domains.get(name, ()) if self.snapshot.partitions else ())
        return replace(spec, partitioning=ds.partitioning,
                       partitions=tuple(k for k in keys if k is not None))

    def _input_fps(self, job: Job) -> dict[str, str]:
        """The fingerprints of the data ``job`` reads, as of now: of each input, or for a
        partition's job, of each input partition it reads ("input|partition")."""
        inputs = self.project.recipes[job.recipe].input_names
        if job.partition is None:
            return {i: self.current.get(i, "") for i in inputs}
        parts = self.snapshot.partitions
        assert parts is not None
        read: dict[str, str] = {}
        for inp in inputs:
            for key in job.reads.get(inp, ()):
                if key is None:
                    read[read_key(inp, None)] = self.current.get(inp, "")
                else:
                    read[read_key(inp, key)] = self._current_parts.get(
                        (inp, key), parts.expected.get(inp, {}).get(key, "missing"))
        return read

    def _record_failed(self, job: Job, started: float | None, error: str,
                       log_path: str | None, status: str = "failed") -> None:
        """Record that ``job``'s outputs (or its partition of them) did not build."""
        for name in job.outputs:
            if job.partition is not None:
                parts = self.snapshot.partitions
                fp = partition_fingerprint(name, parts.base[name], job.partition,
                                           self._input_fps(job)) \
                    if parts is not None and name in parts.base else None
                self.ws.state.record_partition_failure(self.run_id, job.recipe, name,
                                                       job.partition, started, error, log_path,
                                                       status, fp)
            else:
                self.ws.state.record_failure(self.run_id, job.recipe, name, started, error,
                                             log_path, status=status)

    def _record_checks(self, result: JobResult) -> None:
        for name, results in (result.checks or {}).items():
            self.ws.state.record_checks(self.run_id, name, results)

    def _record_metrics(self, result: JobResult) -> None:
        for name, metrics in (result.metrics or {}).items():
            self.ws.state.record_metrics(self.run_id, name, metrics)

    def _checked(self, job: Job, run: _Running, result: JobResult) -> Outcome:
        """A source's checks passed (warnings allowed): recorded at their fingerprint."""
        name = job.outputs[0]
        self._record_source_checks(job, run, result, None)
        return Outcome(job.recipe, job.outputs, JobStatus.CHECKED, result.seconds,
                       {name: result.checked_rows or 0}, log_path=run.job.log_path,
                       reasons=dict(job.reasons), warnings=_warnings(result))

    def _check_failed(self, job: Job, run: _Running, result: JobResult) -> Outcome:
        """A source's `error` check failed (or its checks could not run): the source is
        recorded failed at their fingerprint; its readers are skipped."""
        self._record_source_checks(job, run, result, result.error or "failed")
        failed = [r.name for rs in (result.checks or {}).values() for r in rs
                  if not r.passed and r.severity is Severity.ERROR]
        self._check_said[job.recipe] = (
            f"failed check{'s' if len(failed) > 1 else ''} {', '.join(failed)}" if failed
            else "could not be checked")
        return Outcome(job.recipe, job.outputs, JobStatus.FAILED, result.seconds,
                       error=result.error, traceback=result.traceback,
                       log_path=run.job.log_path, reasons=dict(job.reasons))

    def _record_source_checks(self, job: Job, run: _Running, result: JobResult,
                              error: str | None) -> None:
        name = job.outputs[0]
        self._record_checks(result)
        comps = check_components(self.ws.flow, name, run.input_fps)
        assert comps is not None
        self.ws.state.record_source_checked(self.run_id, job.recipe, name,
                                            comps.fingerprint(name), comps, run.started,
                                            run.job.log_path, error)

    def _commit_partition(self, job: Job, run: _Running, result: JobResult) -> Outcome:
        """Publish the partition a job built of each output (its previous data replaced
        whole, the rest of the dataset untouched) and record it at its fingerprint."""
        key = job.partition
        assert key is not None and self.snapshot.partitions is not None
        rows = {}
        for written in result.outputs:
            name = written.name
            ds = self.project.datasets[name]
            backend = self.ws.backends[ds.connection]
            base = self.snapshot.partitions.base[name]
            fp = partition_fingerprint(name, base, key, run.input_fps)
            backend.commit_partition(ds.path, ds.format, written.handle, ds.partitioning, key)
            self.ws.state.record_partition_success(self.run_id, job.recipe, name, key, fp,
                                                   base, run.input_fps, run.started,
                                                   written.rows, run.job.log_path)
            self._current_parts[(name, key)] = fp
            rows[name] = written.rows
        return Outcome(job.recipe, job.outputs, JobStatus.BUILT, result.seconds, rows,
                       log_path=run.job.log_path, reasons=dict(job.reasons),
                       warnings=_warnings(result), partition=key)

    def _commit(self, job: Job, run: _Running, result: JobResult) -> Outcome:
        state = self.ws.state
        self._record_checks(result)
        self._record_metrics(result)
        if job.partition is not None:
            return self._commit_partition(job, run, result)
        rows = {}
        for written in result.outputs:
            name = written.name
            ds = self.project.datasets[name]
            backend = self.ws.backends[ds.connection]
            comps = components_for(self.ws.flow, name, run.input_fps)
            fp = comps.fingerprint(name)
            final = backend.local_path(ds.path)
            old = self.snapshot.records.get(name)
            replaced = self.current.get(name)
            if final is None and not ds.is_folder and replaced and replaced != fp \
                    and old is not None:
                kept = backend.commit_keeping(ds.path, ds.format, written.handle, replaced)
                if kept is not None:  # the version replaced stays, to come back by copy
                    self._remember_kept(name, replaced, kept, old.schema or [],
                                        old.row_count or 0, backend)
            else:
                backend.commit(ds.path, ds.format, written.handle)
            if final is not None and (not ds.is_folder or backend.copies_folders):
                self._keep(name, fp, final, written.schema, written.rows)
            state.record_success(self.run_id, job.recipe, name, fp, comps, run.started,
                                 written.schema, written.rows, run.job.log_path,
                                 place=backend.place(ds.path))
            self.current[name] = fp
            rows[name] = written.rows
        return Outcome(job.recipe, job.outputs, JobStatus.BUILT, result.seconds, rows,
                       log_path=run.job.log_path, reasons=dict(job.reasons),
                       warnings=_warnings(result))

    def _keep(self, name: str, fp: str, final: Path, schema: list[list[Any]], rows: int) -> None:
        """Keep this output under its fingerprint (a file as a hard link: no copy, no
        extra space until the dataset is next rewritten; a folder as a copy, see link_copy), and forget the least
        recently used beyond KEEP_VERSIONS."""
        ds = self.project.datasets[name]
        kept = self.ws.state_dir / "cache" / "outputs" / name / (
            fp if ds.is_folder else f"{fp}.{FORMATS[ds.format]}")
        kept.parent.mkdir(parents=True, exist_ok=True)
        tmp = kept.with_name(kept.name + ".tmp")
        try:
            remove_path(tmp)
            link_copy(final, tmp)
            if ds.is_folder:
                remove_path(kept)  # a directory is not replaced by a rename
            os.replace(tmp, kept)
        except OSError:
            return  # keeping is an optimisation; the build itself succeeded
        self._remember_kept(name, fp, str(kept), schema, rows, None)

    def _remember_kept(self, name: str, fp: str, where: str, schema: list[list[Any]],
                       rows: int, backend: Any,
                       evicted: dict[int, tuple[Any, list[str]]] | None = None) -> None:
        """Record a kept version (a file, or a place in its storage: ``backend`` drops it),
        and forget the least recently used beyond KEEP_VERSIONS — at once, or, given
        ``evicted``, gathered there per backend for one `drop_copies` each."""
        state = self.ws.state
        state.add_kept(name, fp, where, schema, rows)
        for old_fp, old_path in state.kept_for(name)[KEEP_VERSIONS:]:
            if backend is not None and "://" in old_path and evicted is not None:
                evicted.setdefault(id(backend), (backend, []))[1].append(old_path)
            else:
                try:
                    if backend is not None and "://" in old_path:
                        backend.drop_copy(old_path)
                    else:
                        remove_path(Path(old_path))
                except (OSError, WeirError):
                    pass
            state.drop_kept(name, old_fp)

    def _restore(self, jobs: list[Job]) -> list[Outcome]:
        """Publish what needs no recipe: this environment's kept outputs (a hard link back)
        and copies of another environment's data at the same fingerprint, made by the storage
        itself, each connection's copies at once (one transaction in a database: restoring
        hundreds of tables costs one connection, not hundreds). A restore reads no input, so
        its fingerprint is the one expected, whatever upstream still builds."""
        if not jobs:
            return []
        from weir.build.reuse import find_reusable

        started = time.time()
        for job in jobs:
            self.listener("start", Outcome(job.recipe, job.outputs, JobStatus.RESTORING,
                                           reasons=dict(job.reasons)))
        kept = self.ws.state.kept()
        expected = self.snapshot.expected
        reused = [o for j in jobs for o in j.reused_from]
        found = find_reusable(self.ws, expected, reused) if reused else {}
        copies: dict[str, list[tuple[str, str, str]]] = {}
        for name in reused:
            if name in found:
                ds = self.project.datasets[name]
                copies.setdefault(ds.connection, []).append((found[name].place, ds.path,
                                                             ds.format))
        for job in jobs:  # this environment's own kept versions: a file, or a table kept
            for name in job.outputs:  # where its storage keeps replaced versions
                if name not in job.reused_from:
                    ds = self.project.datasets[name]
                    copies.setdefault(ds.connection, []).append(
                        (_place_of(kept[(name, expected[name])][0]), ds.path, ds.format))
        failed: dict[str, str] = {}
        kept_now: list[tuple[str, str, str, Any]] = []  # versions the copies replaced, kept
        for conn, batch in copies.items():
            names = {loc: self._named(loc, conn) for _, loc, _ in batch}
            keep = {loc: self.current[n] for loc, n in names.items()
                    if self.current.get(n) and self.current[n] != expected[n]
                    and n in self.snapshot.records}
            try:
                with self.ws.backends.using(conn) as backend:
                    for loc, place in backend.copy_in(batch, keep).items():
                        kept_now.append((names[loc], keep[loc], place, backend))
            except WeirError as exc:
                failed.update((self._named(loc, conn), exc.message) for _, loc, _ in batch)
            except Exception as exc:  # noqa: BLE001 - a driver's error: the copy's failure
                failed.update((self._named(loc, conn), str(exc).strip().splitlines()[0])
                              for _, loc, _ in batch)
        evicted: dict[int, tuple[Any, list[str]]] = {}
        with self.ws.state.batch():
            for name, fp, place, backend in kept_now:
                old = self.snapshot.records[name]
                self._remember_kept(name, fp, place, old.schema or [], old.row_count or 0,
                                    backend, evicted)
            outcomes = self._record_restores(jobs, started, kept, found, failed)
        for backend, places in evicted.values():
            try:
                backend.drop_copies(places)
            except Exception:  # noqa: BLE001 - dropping an evicted copy is housekeeping
                pass
        return outcomes

    def _record_restores(self, jobs: list[Job], started: float,
                         kept: dict[tuple[str, str], tuple[str, list[list[Any]], int]],
                         found: dict[str, Any], failed: dict[str, str]) -> list[Outcome]:
        expected = self.snapshot.expected
        outcomes = []
        for job in jobs:
            missing = [o for o in job.reused_from if o not in found]
            broken = [o for o in job.outputs if o in failed]
            if missing or broken:
                error = (f"cannot copy {broken[0]} from {job.reused_from[broken[0]]}: "
                         f"{failed[broken[0]]}" if broken else
                         f"{job.reused_from[missing[0]]}'s copy of {missing[0]} is gone")
                for name in job.outputs:
                    self.ws.state.record_failure(self.run_id, job.recipe, name, started, error,
                                                 None)
                outcomes.append(Outcome(job.recipe, job.outputs, JobStatus.FAILED,
                                        time.time() - started, error=error,
                                        reasons=dict(job.reasons)))
                continue
            rows = {}
            reasons = dict(job.reasons)
            for name in job.outputs:
                ds = self.project.datasets[name]
                backend = self.ws.backends[ds.connection]
                fp = expected[name]
                if name in job.reused_from:
                    copy = found[name]
                    schema, n = copy.schema, copy.rows
                    reasons[name] = (*reasons.get(name, ()), f"reused from {copy.environment}")
                else:
                    _, schema, n = kept[(name, fp)]
                    self.ws.state.use_kept(name, fp)
                comps = self.snapshot.components[name]
                self.ws.state.record_success(self.run_id, job.recipe, name, fp, comps, started,
                                             schema, n, None, status="restored",
                                             place=backend.place(ds.path))
                final = backend.local_path(ds.path)
                if name in job.reused_from and final is not None:
                    self._keep(name, fp, final, schema, n)
                self.current[name] = fp
                rows[name] = n
            outcomes.append(Outcome(job.recipe, job.outputs, JobStatus.RESTORED,
                                    time.time() - started, rows, reasons=reasons))
        return outcomes

    def _named(self, loc: str, connection: str) -> str:
        """The dataset stored at ``loc`` on ``connection``."""
        if self._by_place is None:
            self._by_place = {(d.connection, d.path): n for n, d in self.project.datasets.items()}
        return self._by_place[(connection, loc)]

    def _fail(self, job: Job, run: _Running, result: JobResult) -> Outcome:
        self._record_checks(result)
        self._record_failed(job, run.started, result.error or "failed", run.job.log_path)
        return Outcome(job.recipe, job.outputs, JobStatus.FAILED, result.seconds, error=result.error,
                       traceback=result.traceback, log_path=run.job.log_path,
                       reasons=dict(job.reasons), partition=job.partition)

    def _interrupted(self, job: Job, run: _Running) -> Outcome:
        self._record_failed(job, run.started, "interrupted", run.job.log_path,
                            status="interrupted")
        return Outcome(job.recipe, job.outputs, JobStatus.INTERRUPTED, time.time() - run.started,
                       error="interrupted", log_path=run.job.log_path, partition=job.partition)

    def _discard_temps(self, job: WorkerJob | SourceCheckJob,
                       result: JobResult | None = None) -> None:
        """Remove what a job staged: by handle when it reported them, else by name pattern
        (a killed worker never says what it had started writing). A source check stages
        nothing."""
        if isinstance(job, SourceCheckJob):
            return
        by_name: dict[str, WrittenOutput] = {w.name: w for w in result.outputs} if result else {}
        for spec in job.outputs:
            ds = self.project.datasets[spec.name]
            backend = self.ws.backends[ds.connection]
            try:
                if spec.name in by_name:
                    backend.discard(ds.path, ds.format, by_name[spec.name].handle)
                else:
                    backend.cleanup_stale(ds.path, ds.format)
            except WeirError:
                pass


def _place_of(kept: str) -> str:
    """A kept version's place: a kept file's URI, or the place its storage said."""
    return kept if "://" in kept else Path(os.path.abspath(kept)).as_uri()


def _warnings(result: JobResult) -> tuple[str, ...]:
    """The `warning` checks a job's data failed (published, or read on, anyway)."""
    return tuple(f"check {r.name} failed on '{name}'" + (f": {r.message}" if r.message else "")
                 for name, results in (result.checks or {}).items()
                 for r in results if not r.passed)

