"""The daemon's builds: from the CLI, the editor and schedulers, each in a thread of its own,
side by side. They share the daemon's warm workers and one limit of worker slots (the machine's
cores) and of each connection's jobs. No dataset is written by two builds at once: a build
claims what it writes (``weir.build.claims``, respected by CLI builds without the daemon too);
one that must write what another is writing says so (a `wait` event), waits for that write,
and is planned again against the data as it is then, so work the other did is not repeated.

Every build keeps its events (plan, job started, job finished, done) so a client can follow it
from the start at any time; the same events go to the daemon's event stream. Build summaries
(not their events) are saved in the state store as they change: a restarted daemon lists the
recent builds, numbers new ones after them, and shows a build its killed predecessor was
running as ``interrupted``. Before its first build it also cleans up after builds whose process
died: their runs are marked interrupted and what they had staged is removed.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir import wire
from weir.errors import WeirError
from weir.wire import BuildRequest, BuildState

if TYPE_CHECKING:
    from weir.build.pool import Workers
    from weir.build.runner import Outcome
    from weir.build.state import StateStore
    from weir.server.daemon import Daemon
    from weir.workspace import Workspace

FINAL = tuple(s.value for s in BuildState if s.final)  # as the state store keeps them


@dataclass
class Build:
    id: str
    request: BuildRequest
    state: BuildState = BuildState.QUEUED
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: wire.ErrorReport | None = None  # a user error that stopped planning
    run_id: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def seq(self) -> int:
        return int(self.id[1:])

    def summary(self) -> wire.BuildSummary:
        return wire.BuildSummary(self.id, self.state, self.request, self.created, self.started,
                                 self.finished, self.error, self.run_id)

    def add(self, kind: str, data: dict[str, Any], state: BuildState | None = None) -> None:
        """Record an event; with ``state``, enter that state in the same step, so a client
        that sees the build over has also been given the event that says so."""
        with self.changed:
            self.events.append((kind, data))
            if state is not None:
                self.state = state
                self.finished = time.time()
            self.changed.notify_all()


def job_report(o: Outcome) -> wire.JobReport:
    return wire.JobReport(o.recipe, o.outputs, wire.JobStatus(o.status), o.seconds, o.rows,
                          o.error, o.traceback, o.log_path, dict(o.reasons), o.warnings,
                          o.partition)


class BuildQueue:
    """The daemon's builds, each run by a thread of its own as soon as it is asked for.
    ``start`` (called once the daemon holds the project's daemon lock, so no other daemon
    owns the saved builds) loads the saved history and warms the workers."""

    def __init__(self, daemon: Daemon, keep: int = 200, slots: int | None = None) -> None:
        from weir.build.claims import Claims
        from weir.build.slots import Slots

        self.daemon = daemon
        self.builds: dict[str, Build] = {}
        self.keep = keep
        self._ids = itertools.count(1)
        # The datasets a job is writing right now, for clients that ask mid-build.
        self._writing: set[str] = set()
        self._threads: dict[str, threading.Thread] = {}
        self._store: StateStore | None = None
        self._store_lock = threading.Lock()
        self._recovered = False
        self._recovery_lock = threading.Lock()
        self._stopping = False
        self.slots = Slots(slots or os.cpu_count() or 1)
        from weir.build.dask_pool import Clusters

        self.clusters = Clusters()  # clients of Dask schedulers, made at a build's first need
        self.claims = Claims(daemon.state_dir)
        self.workers: Workers | None = None

    def start(self) -> None:
        from weir.build.pool import Workers
        from weir.build.state import StateStore

        self._store = StateStore(self.daemon.state_dir / "state.db")
        log = logging.getLogger("weir.daemon")
        for saved in self._store.daemon_builds(self.keep):
            error = saved["error"]
            build = Build(f"b{saved['seq']}", BuildRequest.from_json(saved["request"]),
                          BuildState(saved["state"]), saved["created"], saved["started"],
                          saved["finished"],
                          wire.ErrorReport.from_json(error) if isinstance(error, dict) else None,
                          saved["run_id"])
            self.builds[build.id] = build
            if not build.state.final:  # its daemon died (kill -9, a crash, power loss)
                build.state = BuildState.INTERRUPTED
                build.error = wire.ErrorReport(
                    "the daemon stopped before this build "
                    + ("finished" if build.started else "started") + " (it was killed or crashed)",
                    "build again; every dataset kept its previous data")
                self._save(build)
                log.info("build %s was %s when the daemon stopped: now interrupted", build.id,
                         "running" if build.started else "queued")
        self._ids = itertools.count(self._store.last_daemon_build() + 1)
        self.workers = Workers()
        # Recover, and start the forkserver and a worker, before the first build needs them.
        threading.Thread(target=self._warm_up, name="weir-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        self._recover_at_start()
        try:
            if self.workers is not None and not self._stopping:
                self.workers.warm(1)
        except Exception:  # noqa: BLE001 - a build starts its workers itself then
            logging.getLogger("weir.daemon").exception("starting the workers failed")

    def submit(self, request: BuildRequest) -> Build:
        if self._stopping:
            raise WeirError("the daemon is stopping", hint="start it again, then build")
        build = Build(f"b{next(self._ids)}", request)
        self.builds[build.id] = build
        self._save(build)
        old = [b for b in list(self.builds)[:-self.keep] if self.builds[b].state.final]
        for b in old:
            del self.builds[b]
        if old and self._store is not None:
            with self._store_lock:
                self._store.forget_daemon_builds(build.seq - self.keep + 1, FINAL)
        self._publish(build, "build", wire.BuildChange(build.id, build.state).to_json())
        if self._done_at_once(build):
            return build
        thread = threading.Thread(target=self._run, args=(build,), name=f"weir-build-{build.id}",
                                  daemon=True)
        self._threads[build.id] = thread
        thread.start()
        return build

    def _done_at_once(self, build: Build) -> bool:
        """Finish a build that has nothing to do right here, in the request that asked for it:
        its plan (against the kept status, no storage probed) has no job, so it needs no claim,
        no thread and no worker. Anything else — work to do, an error to report — goes to the
        build's own thread, which plans again under its claims."""
        snap = self.daemon.live.snapshot
        if snap.errors or snap.project is None or snap.flow is None or build.cancel.is_set() \
                or build.request.variables:
            return False
        req = build.request
        ws = self.daemon.workspace(snap)
        try:
            state = self.daemon.data_status(snap)
            plan = ws.plan(ws.resolve_targets(req.targets, req.all, req.stale, state), req.mode,
                           state, req.partitions)
            if plan.jobs or plan.blocked:
                return False
            build.state = BuildState.RUNNING
            build.started = time.time()
            self._publish_plan(build, ws, plan)
        except WeirError:
            return False
        finally:
            ws.close()
        self._finish(build, BuildState.SUCCEEDED)
        return True

    def _publish_plan(self, build: Build, ws: Workspace, plan: Any, cluster: Any = None) -> None:
        """The build's plan (``cluster``: the Dask cluster it runs on, said with it)."""
        folders = [n for n in plan.outputs if ws.project.datasets[n].is_folder]
        where = {"executor": cluster.executor.address, "workers": cluster.workers,
                 "threads": cluster.threads} if cluster is not None else {}
        self._publish(build, "plan", {"id": build.id, "root": str(ws.root),
                                      "folders": folders, **where, **plan.to_wire().to_json()})

    def cancel(self, build_id: str) -> Build:
        build = self.builds[build_id]
        build.cancel.set()  # its thread ends it: before it starts, as it waits, or as it runs
        return build

    def writing(self) -> frozenset[str]:
        """The datasets being built at this moment."""
        return frozenset(self._writing)

    def stop(self) -> None:
        """Cancel every build (a queued one never starts), wait for those running, and end
        the workers."""
        self._stopping = True
        for build in list(self.builds.values()):
            build.cancel.set()
        deadline = time.monotonic() + 10
        for thread in list(self._threads.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.workers is not None:
            self.workers.close(kill=True)
        self.clusters.close()
        if self._store is not None:
            with self._store_lock:
                self._store.close()
                self._store = None

    def _save(self, build: Build) -> None:
        """Keep the build's summary in the state store (its events stay in memory)."""
        if self._store is None:
            return
        with self._store_lock:
            self._store.save_daemon_build(build.seq, build.state.value, build.request.to_json(),
                                          build.created, build.started, build.finished,
                                          build.error.to_json() if build.error else None,
                                          build.run_id)

    def _publish(self, build: Build, kind: str, data: dict[str, Any]) -> None:
        build.add(kind, data)
        self.daemon.hub.publish(kind, {"build": build.id, **data})

    def _finish(self, build: Build, state: BuildState) -> None:
        change = wire.BuildChange(build.id, state).to_json()
        build.add("build", change, state)
        self.daemon.hub.publish("build", {"build": build.id, **change})
        self._save(build)
        req = build.request
        what = " ".join(req.targets) or ("--all" if req.all else "--stale")
        error = build.error.message if build.error else None
        logging.getLogger("weir.daemon").info(
            "build %s (%s, %s) %s in %.1f s%s", build.id, what, req.mode.value, state.value,
            (build.finished or 0.0) - (build.started or build.finished or 0.0),
            f": {error}" if error else "")

    def _run(self, build: Build) -> None:
        try:
            if build.cancel.is_set():
                self._finish(build, BuildState.CANCELLED)
            elif build.state is BuildState.QUEUED:
                self._execute(build)
        except WeirError as exc:
            build.error = exc.report()
            self._finish(build, BuildState.ERROR)
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the daemon
            logging.getLogger("weir.daemon").exception("build %s failed", build.id)
            build.error = wire.ErrorReport(f"internal error: {exc!r}")
            self._finish(build, BuildState.ERROR)
        finally:
            self._threads.pop(build.id, None)

    def _recover_at_start(self) -> None:
        """Before the first build, clean up after builds whose process died (a killed daemon
        or CLI)."""
        log = logging.getLogger("weir.daemon")
        snap = self.daemon.live.snapshot
        if snap.project is None or snap.flow is None:
            return  # the project cannot be read yet: the first build cleans up
        ws = self.daemon.workspace(snap)
        try:
            self._clean_up_after_dead_builds(ws)
        except WeirError as exc:
            log.info("not cleaning up after interrupted builds yet: %s", exc.message)
        except Exception:  # noqa: BLE001 - a bug must not stop the daemon
            log.exception("cleaning up after interrupted builds failed")
        finally:
            ws.close()

    def _clean_up_after_dead_builds(self, ws: Workspace) -> None:
        """Once: mark the runs (and jobs) of builds whose process died interrupted (a run
        still running holds its claim), and remove what was staged for every dataset of the
        Flow that no build is writing — temporary files, objects and tables — so none
        outlives a killed build. (A dataset a CLI build is writing now is its to clean: a
        build cleans what it writes before it starts.)"""
        from weir.build.claims import Holder, run_alive

        log = logging.getLogger("weir.daemon")
        with self._recovery_lock:
            if self._recovered:
                return
            for run_id in ws.state.mark_dead_runs_interrupted(
                    lambda r: run_alive(ws.state_dir, r)):
                log.info("run %s was interrupted (its process died)", run_id)
            names = [n for n, ds in ws.project.datasets.items() if not ds.is_source]
            by_connection: dict[str, list[tuple[str, str]]] = {}
            claims = []
            for name in names:
                claim, _ = self.claims.try_claim([name], Holder(os.getpid(), None,
                                                                "daemon start-up clean-up"))
                if claim is None:
                    continue
                claims.append(claim)
                ds = ws.project.datasets[name]
                by_connection.setdefault(ds.connection, []).append((ds.path, ds.format))
            try:
                for conn, locs in by_connection.items():
                    try:
                        ws.backends[conn].cleanup_stale_many(locs)
                    except (WeirError, OSError) as exc:
                        log.warning("could not remove temporary data on connection '%s': %s",
                                    conn, exc)
            finally:
                for claim in claims:
                    claim.release()
            self._recovered = True

    def _execute(self, build: Build) -> None:
        from weir.build.claims import Holder, claim_plan, waits
        from weir.build.runner import plan_writes
        from weir.errors import ProjectInvalid

        build.state = BuildState.RUNNING
        build.started = time.time()
        self._save(build)
        snap = self.daemon.live.snapshot
        if snap.errors or snap.project is None or snap.flow is None:
            raise ProjectInvalid(snap.errors)
        req = build.request
        ws = self.daemon.workspace(snap)
        if req.variables:
            unknown = sorted(set(req.variables) - set(ws.project.config.variables))
            ws.close()
            if unknown:
                raise WeirError(f"no variable {', '.join(unknown)} in weir.yaml",
                                hint="a build can give other values to the project's "
                                "variables, not new ones")
            from weir.scenarios.run import with_variables

            ws = with_variables(self.daemon.workspace(snap), req.variables)
        try:
            self._clean_up_after_dead_builds(ws)  # if the project could not be read at start

            def make_plan() -> tuple[tuple[Any, Any], frozenset[str]]:
                # Other variable values fingerprint the Flow anew: its status is looked at
                # afresh rather than read from the keeper's (which is of the files' values).
                state = ws.snapshot() if req.variables else self.daemon.data_status(snap)
                targets = ws.resolve_targets(req.targets, req.all, req.stale, state)
                plan = ws.plan(targets, req.mode, state, req.partitions)
                return (plan, state), plan_writes(ws, plan)

            def on_wait(held: dict[str, Any]) -> None:
                for wait in waits(held):
                    self._publish(build, "wait", {"id": build.id, **wait.to_json()})

            claimed = claim_plan(self.claims, Holder(os.getpid(), build.id, "daemon build"),
                                 make_plan, on_wait, build.cancel.is_set, ws.state.version)
            if claimed is None:  # cancelled while it waited
                self._finish(build, BuildState.CANCELLED)
                return
            (plan, state), claim = claimed
            with claim:
                self._run_plan(build, ws, plan, state)
        finally:
            ws.close()

    def _run_plan(self, build: Build, ws: Workspace, plan: Any, state: Any) -> None:
        """Run a planned build whose writes are claimed, reporting it as events."""
        from weir.build.runner import Runner
        from weir.server.logtail import LogTail

        req = build.request
        cluster = self._cluster(req, ws, plan)
        self._publish_plan(build, ws, plan, cluster)
        if not plan.jobs and not plan.blocked:
            self._finish(build, BuildState.SUCCEEDED)
            return

        tails: dict[str, LogTail] = {}  # by job: a recipe's, or one partition's of it
        writers: Counter[str] = Counter()  # output -> its jobs running now

        def listener(kind: str, outcome: Outcome) -> None:
            job = wire.job_id(outcome.recipe, outcome.partition)
            # The job's printed lines stream as `log` events between its start and finish.
            if kind == "start" and outcome.log_path:
                def emit(lines: list[str], o: Outcome = outcome) -> None:
                    self._publish(build, "log", {"id": build.id, **wire.LogLines(
                        o.recipe, o.outputs, tuple(lines), o.partition).to_json()})

                tail = LogTail(Path(outcome.log_path), emit)
                tails[job] = tail
                tail.start()
            elif kind == "finish" and job in tails:
                tails.pop(job).stop()
            # Partitions of one output run side by side: it is written until the last ends.
            if kind == "start":
                writers.update(outcome.outputs)
            else:
                writers.subtract(outcome.outputs)
            self._writing.update(outcome.outputs)
            self._writing.difference_update(o for o in outcome.outputs if writers[o] <= 0)
            self._publish(build, "job", {"id": build.id, "event": kind,
                                         **job_report(outcome).to_json()})

        on_cluster = cluster is not None  # its own slots: the cluster's, not this machine's
        runner = Runner(ws, plan, state, req.jobs or (cluster.threads if cluster is not None
                                                      else self.slots.size),
                        req.fail_fast, listener, command=f"daemon build {build.id}",
                        cancel=build.cancel, workers=None if on_cluster else self.workers,
                        slots=None if on_cluster else self.slots, trigger=req.by or "API",
                        cluster=cluster)
        build.run_id = runner.run_id
        self._save(build)
        try:
            result = runner.run()
        finally:
            for tail in tails.values():
                tail.stop()
            self._writing.difference_update(plan.outputs)
        self._publish(build, "result", {"id": build.id, **wire.BuildEnd(
            result.ok, result.run_id, result.seconds, result.cancelled).to_json()})
        self._finish(build, BuildState.CANCELLED if result.cancelled
                     else (BuildState.SUCCEEDED if result.ok else BuildState.FAILED))

    def _cluster(self, req: wire.BuildRequest, ws: Workspace, plan: Any) -> Any:
        """The Dask cluster the build's recipes run on (the request's `executor`, else the
        environment's), None for this machine; a build it cannot run is refused first."""
        from weir.build.cluster_storage import needs_workers, refuse_unreachable
        from weir.build.dask_pool import executor_flag

        executor = executor_flag(req.executor or None) or ws.project.config.executor
        if executor.is_local or not needs_workers(plan):
            return None
        refuse_unreachable(ws.project, plan, executor)
        return self.clusters.get(executor)

    def follow(self, build: Build, start: int = 0,
               timeout: float = 15.0) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """Events from index ``start`` (waiting up to ``timeout`` for new ones) and whether the
        build is over."""
        with build.changed:
            if len(build.events) <= start and not build.state.final:
                build.changed.wait(timeout)
            return build.events[start:], build.state.final
