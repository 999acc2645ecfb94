"""The daemon's one build queue: builds from the CLI, the editor and schedulers run here, one
at a time, so no dataset is ever built twice at once. A build asked for while another runs
waits; when its turn comes it is planned against the data as it is then, so work the earlier
build already did is not repeated.

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
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir import wire
from weir.errors import WeirError
from weir.wire import BuildRequest, BuildState

if TYPE_CHECKING:
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
                          o.error, o.traceback, o.log_path, dict(o.reasons))


class BuildQueue:
    """Builds in order of arrival, run one at a time by one thread. ``start`` (called once the
    daemon holds the project's daemon lock, so no other daemon owns the saved builds) loads
    the saved history and starts that thread."""

    def __init__(self, daemon: Daemon, keep: int = 200) -> None:
        self.daemon = daemon
        self.builds: dict[str, Build] = {}
        self.keep = keep
        self._ids = itertools.count(1)
        # The datasets a job is writing right now, for clients that ask mid-build.
        self._writing: set[str] = set()
        self._queue: queue.Queue[Build | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="weir-builds", daemon=True)
        self._store: StateStore | None = None
        self._store_lock = threading.Lock()
        self._recovered = False

    def start(self) -> None:
        from weir.build.state import StateStore

        self._store = StateStore(self.daemon.root / ".weir" / "state.db")
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
        self._thread.start()

    def submit(self, request: BuildRequest) -> Build:
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
        self._queue.put(build)
        return build

    def cancel(self, build_id: str) -> Build:
        build = self.builds[build_id]
        build.cancel.set()
        if build.state is BuildState.QUEUED:
            self._finish(build, BuildState.CANCELLED)
        return build

    def writing(self) -> frozenset[str]:
        """The datasets being built at this moment."""
        return frozenset(self._writing)

    def stop(self) -> None:
        """Cancel every build (a queued one never starts) and wait for the running one."""
        for build in list(self.builds.values()):
            build.cancel.set()
            if build.state is BuildState.QUEUED:
                self._finish(build, BuildState.CANCELLED)
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(10)
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

    def _run(self) -> None:
        self._recover_at_start()
        while True:
            build = self._queue.get()
            if build is None:
                return
            if build.state is not BuildState.QUEUED:
                continue  # cancelled while waiting
            try:
                self._execute(build)
            except WeirError as exc:
                build.error = exc.report()
                self._finish(build, BuildState.ERROR)
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the queue
                logging.getLogger("weir.daemon").exception("build %s failed", build.id)
                build.error = wire.ErrorReport(f"internal error: {exc!r}")
                self._finish(build, BuildState.ERROR)

    def _recover_at_start(self) -> None:
        """Before the first build, clean up after builds whose process died (a killed daemon
        or CLI). Only under the build lock: if a CLI builds without the daemon right now, it
        owns its temporary files, and the cleaning waits for the first build here."""
        from weir.build.lock import build_lock

        log = logging.getLogger("weir.daemon")
        snap = self.daemon.live.snapshot
        if snap.project is None or snap.flow is None:
            return  # the project cannot be read yet: the first build cleans up
        ws = self.daemon.workspace(snap)
        try:
            with build_lock(ws.state_dir):
                self._clean_up_after_dead_builds(ws)
        except WeirError as exc:
            log.info("not cleaning up after interrupted builds yet: %s", exc.message)
        except Exception:  # noqa: BLE001 - a bug must not stop the queue
            log.exception("cleaning up after interrupted builds failed")
        finally:
            ws.close()

    def _clean_up_after_dead_builds(self, ws: Workspace) -> None:
        """With the build lock held: mark the runs (and jobs) of builds whose process died
        interrupted, and remove what was staged for any dataset of the Flow — temporary
        files, objects and tables — so none outlives a killed build."""
        log = logging.getLogger("weir.daemon")
        self._recovered = True
        for run_id in ws.state.mark_dead_runs_interrupted():
            log.info("run %s was interrupted (its process died)", run_id)
        by_connection: dict[str, list[tuple[str, str]]] = {}
        for ds in ws.project.datasets.values():
            if not ds.is_source:
                by_connection.setdefault(ds.connection, []).append((ds.path, ds.format))
        for conn, locs in by_connection.items():
            try:
                ws.backends[conn].cleanup_stale_many(locs)
            except (WeirError, OSError) as exc:
                log.warning("could not remove temporary data on connection '%s': %s", conn,
                            exc)

    def _execute(self, build: Build) -> None:
        import os

        from weir.build.lock import build_lock
        from weir.build.runner import Runner
        from weir.errors import ProjectInvalid
        from weir.server.logtail import LogTail

        build.state = BuildState.RUNNING
        build.started = time.time()
        self._save(build)
        snap = self.daemon.live.snapshot
        if snap.errors or snap.project is None or snap.flow is None:
            raise ProjectInvalid(snap.errors)
        req = build.request
        ws = self.daemon.workspace(snap)
        try:
            state = self.daemon.data_status(snap)
            targets = ws.resolve_targets(req.targets, req.all, req.stale, state)
            plan = ws.plan(targets, req.mode, state)
            folders = [n for n in plan.outputs if ws.project.datasets[n].is_folder]
            self._publish(build, "plan", {"id": build.id, "root": str(ws.root),
                                          "folders": folders, **plan.to_wire().to_json()})
            if not plan.jobs and not plan.blocked:
                self._finish(build, BuildState.SUCCEEDED)
                return

            tails: dict[str, LogTail] = {}

            def listener(kind: str, outcome: Outcome) -> None:
                # The job's printed lines stream as `log` events between its start and finish.
                if kind == "start" and outcome.log_path:
                    def emit(lines: list[str], o: Outcome = outcome) -> None:
                        self._publish(build, "log", {"id": build.id, **wire.LogLines(
                            o.recipe, o.outputs, tuple(lines)).to_json()})

                    tail = LogTail(Path(outcome.log_path), emit)
                    tails[outcome.recipe] = tail
                    tail.start()
                elif kind == "finish" and outcome.recipe in tails:
                    tails.pop(outcome.recipe).stop()
                if kind == "start":
                    self._writing.update(outcome.outputs)
                else:
                    self._writing.difference_update(outcome.outputs)
                self._publish(build, "job", {"id": build.id, "event": kind,
                                             **job_report(outcome).to_json()})

            with build_lock(ws.state_dir):
                if not self._recovered:
                    self._clean_up_after_dead_builds(ws)
                runner = Runner(ws, plan, state, req.jobs or os.cpu_count() or 1,
                                req.fail_fast, listener, command=f"daemon build {build.id}",
                                cancel=build.cancel)
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
        finally:
            ws.close()

    def follow(self, build: Build, start: int = 0,
               timeout: float = 15.0) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        """Events from index ``start`` (waiting up to ``timeout`` for new ones) and whether the
        build is over."""
        with build.changed:
            if len(build.events) <= start and not build.state.final:
                build.changed.wait(timeout)
            return build.events[start:], build.state.final
