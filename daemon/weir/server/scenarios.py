"""The daemon's scenarios: started on their triggers by APScheduler, or on request (the CLI,
the editor, an outside scheduler through the API), each run in a thread of its own.

APScheduler is the timer: one job per scenario with a schedule (its next time asked of
``weir.scenarios.timing``, so the daemon and `weir scenario list` agree to the second, across
DST changes), one per thing an event trigger polls, and one that wakes when a debounced storm
of events is over. What to start is ``TriggerBook``'s to decide, and what it must remember is
kept in the state store, so a restarted daemon knows what it missed (``catch_up``) and what
it last saw. The jobs are rebuilt from the scenario files as they change: a broken file is a
diagnostic, and only its scenario stops.

A run's build steps go through the daemon's build queue like every other build (claims,
slots, events on the stream); its checks run in the daemon's warm workers; a python step or
trigger runs in a process of its own. A scenario is never started twice at once: the extra
start is skipped and recorded in its history.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.base import BaseTrigger

from weir import wire
from weir.errors import WeirError
from weir.scenarios.run import StepFailed, new_run_id, unknown_scenario
from weir.scenarios.timing import Concurrency
from weir.scenarios.triggers import Poll, Start, TriggerBook

if TYPE_CHECKING:
    from weir.build.state import StateStore
    from weir.server.daemon import Daemon
    from weir.server.live import FlowSnapshot
    from weir.workspace import Workspace

log = logging.getLogger("weir.daemon")
KEEP = 100  # finished runs kept in memory with their events (the history is in the state store)


@dataclass
class Run:
    """A run the daemon started: its events from the start (for a client following it), what
    its steps did so far, and its report once over."""

    scenario: str
    run_id: str
    cause: str
    started: float
    due: float  # the time it is for (its schedule's): a relative `partition:` is read from it
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    steps: list[wire.StepOutcome] = field(default_factory=list)
    report: wire.ScenarioRunReport | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def add(self, event: wire.ScenarioEvent) -> None:
        with self.changed:
            self.events.append(("scenario", event.to_json()))
            if event.step is not None:
                self.steps.append(event.step)
            self.changed.notify_all()

    def finish(self, report: wire.ScenarioRunReport) -> None:
        with self.changed:
            self.report = report
            self.changed.notify_all()

    def detail(self) -> wire.ScenarioRunReport:
        """The report, or while it runs what it did so far (status ``running``)."""
        if self.report is not None:
            return self.report
        return wire.ScenarioRunReport(self.scenario, self.run_id, self.cause, "running",
                                      self.started, time.time(), None, {}, tuple(self.steps))

    def follow(self, start: int, timeout: float) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        with self.changed:
            if len(self.events) <= start and self.report is None:
                self.changed.wait(timeout)
            return self.events[start:], self.report is not None


class DaemonSteps:
    """A run's builds through the daemon's build queue, its checks in the daemon's workers."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def build(self, ws: Workspace, params: Mapping[str, Any], variables: dict[str, Any],
              timeout: float | None, by: str, cancel: threading.Event
              ) -> tuple[tuple[str, int | None], ...]:
        request = wire.BuildRequest(tuple(params["targets"]), wire.Mode(params["mode"]),
                                    bool(params["all"]), bool(params["stale"]),
                                    variables=variables, by=by,
                                    partitions=params.get("partitions", ""))
        build = self.daemon.builds.submit(request)
        deadline = None if timeout is None else time.monotonic() + timeout
        timed_out = False
        with build.changed:
            while not build.state.final:
                if cancel.is_set() or (deadline is not None and time.monotonic() >= deadline):
                    timed_out = not cancel.is_set()
                    break
                build.changed.wait(0.5 if deadline is None
                                   else max(0.01, min(0.5, deadline - time.monotonic())))
        if not build.state.final:
            self.daemon.builds.cancel(build.id)
            with build.changed:
                while not build.state.final:
                    build.changed.wait(1.0)
        jobs = [d for k, d in build.events if k == "job" and d.get("event") == "finish"]
        built = tuple((n, (d.get("rows") or {}).get(n)) for d in jobs
                      if d.get("status") in ("built", "restored", "checked")
                      for n in d.get("outputs", ()))
        if timed_out:
            raise StepFailed(f"build {build.id} took longer than its timeout ({timeout:g}s): "
                             "cancelled")
        if build.state is wire.BuildState.SUCCEEDED:
            return built
        if build.state is wire.BuildState.ERROR and build.error is not None:
            raise StepFailed(f"build {build.id} could not start: {build.error.message}")
        if build.state is wire.BuildState.CANCELLED:
            raise StepFailed(f"build {build.id} was cancelled")
        from weir.scenarios.run import failure_log

        bad = [d for d in jobs if d.get("status") not in ("built", "restored", "checked",
                                                           "skipped", "up_to_date")]
        failed = [n for d in bad for n in d.get("outputs", ())]
        excerpt = "\n\n".join(f"{d['recipe']}:\n{failure_log(d.get('error'), d.get('traceback'))}"
                              for d in bad if d.get("error") or d.get("traceback"))
        raise StepFailed(f"build {build.id} failed: {', '.join(failed) or build.state.value} "
                         "(weir logs NAME)", excerpt)

    def check(self, ws: Workspace, names: list[str],
              variables: dict[str, Any]) -> wire.CheckReport:
        from weir.build.checking import check_now

        if variables:  # checks of data built with other variable values: looked at afresh
            return check_now(ws, names, ws.snapshot(), self.daemon.builds.workers)
        report = check_now(ws, names, self.daemon.data_status(self.daemon.live.snapshot),
                           self.daemon.builds.workers)
        self.daemon.keeper.nudge()
        return report


class _Schedule(BaseTrigger):
    """An APScheduler trigger whose times are the scenario's schedule, as TriggerBook says."""

    def __init__(self, service: ScenarioService, name: str) -> None:
        self.service = service
        self.name = name

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        # A datetime keeps microseconds, the schedule's float more: just after the previous
        # time, or APScheduler would be handed that same time again (and ask forever).
        after = previous.timestamp() + 0.001 if previous is not None else now.timestamp()
        with self.service.lock:
            t = self.service.book.next_time(self.name, after)
        return None if t is None else datetime.fromtimestamp(t, UTC)


class ScenarioService:
    def __init__(self, daemon: Daemon, clock: Callable[[], float] = time.time) -> None:
        self.daemon = daemon
        self.clock = clock
        self.lock = threading.RLock()
        self.book = TriggerBook()
        self.concurrency = Concurrency()
        self.runs: dict[str, Run] = {}
        self.running: dict[str, Run] = {}  # by scenario
        self._threads: set[threading.Thread] = set()
        self._scheduler: Any = None
        self._jobs: dict[str, Any] = {}  # job id -> what it was made from
        self._last: dict[str, wire.ScenarioRunReport] = {}
        self._versions: Any = None
        self._loaded_version: int | None = None
        self._stopping = False
        self._db: StateStore | None = None  # the service's one connection, under _db_lock
        self._db_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._commit: tuple[Any, str | None] | None = None  # (what it depends on, the commit)
        self._git_dir: tuple[Path, Path] | None = None  # (for which root, its git dir)

    # -- the scheduler ------------------------------------------------------------------------
    def start(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        from weir.scenarios.probes import DatasetVersions

        with self._store() as store:
            for run_id in store.interrupt_scenario_runs(self.clock()):
                log.info("scenario run %s was running when the daemon stopped: now "
                         "interrupted", run_id)
            self.book.memory = store.scheduler_memory()
            self._last = store.last_scenario_runs()
        self._versions = DatasetVersions(self.daemon.root, self.daemon.state_dir)
        # Its jobs run hundreds of times a minute: their every start is no news for the log.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._scheduler = BackgroundScheduler(
            # Polls (a python condition may take its whole time limit, a remote a while to
            # answer) have threads of their own, so a slow one never delays a schedule.
            timezone=UTC, executors={"default": ThreadPoolExecutor(4),
                                     "polls": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self._scheduler.start()
        self.sync(self.daemon.live.snapshot, first=True)

    def stop(self) -> None:
        self._stopping = True
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        for run in list(self.running.values()):
            run.cancel.set()
        deadline = time.monotonic() + 10
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        self._save_memory()
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def sync(self, snap: FlowSnapshot, first: bool = False) -> None:
        """The scenarios as this Flow version has them: jobs added, changed and removed; at
        the daemon's start, what was missed while it was down is caught up."""
        with self._sync_lock:  # the watcher's thread and the daemon's start
            self._sync(snap, first)

    def _sync(self, snap: FlowSnapshot, first: bool) -> None:
        if self._scheduler is None or snap.project is None:
            return
        if snap.version == self._loaded_version:
            return
        now = self.clock()
        # The book is changed under the lock; APScheduler is called outside it: its thread
        # holds its own lock while it asks a _Schedule (which takes ours) for a next time.
        removed: list[str] = []
        added: list[tuple[str, Any]] = []
        with self.lock:
            self._loaded_version = snap.version
            scenarios = dict(snap.project.scenarios)
            before = dict(self.book.scenarios)
            self.book.load(scenarios, now)
            wanted: dict[str, Any] = {}
            for name, s in scenarios.items():
                if any(t.kind.value in ("cron", "interval") for t in s.triggers):
                    wanted[f"time:{name}"] = ("time", name, s.triggers)
            polls = self.book.polls()
            for key, p in polls.items():
                wanted[f"poll:{key}"] = ("poll", key, p.every, p.trigger)
            for job_id in list(self._jobs):
                if job_id not in wanted or wanted[job_id] != self._jobs[job_id]:
                    removed.append(job_id)
                    del self._jobs[job_id]
            for job_id, what in wanted.items():
                if job_id in self._jobs:
                    continue
                self._jobs[job_id] = what
                added.append((job_id, what))
                if what[0] == "time":
                    name = what[1]
                    if not first and before.get(name) is not None and \
                            before[name].triggers != scenarios[name].triggers:
                        self.book.memory[f"looked:{name}"] = now  # a new schedule starts now
            starts = []
            if first:
                for name in scenarios:
                    starts += self.book.timed(name, now)
        from apscheduler.jobstores.base import JobLookupError

        for job_id in removed:
            try:
                self._scheduler.remove_job(job_id)
            except JobLookupError:
                pass  # a schedule with no time left was removed by APScheduler itself
        for job_id, what in added:
            if what[0] == "time":
                self._scheduler.add_job(self._timed, _Schedule(self, what[1]), args=(what[1],),
                                        id=job_id, name=job_id, replace_existing=True)
            else:
                poll = polls[what[1]]
                self._scheduler.add_job(self._poll, "interval", args=(poll,), id=job_id,
                                        name=job_id, seconds=poll.every, executor="polls",
                                        next_run_time=datetime.now(UTC), replace_existing=True)
        self._save_memory()
        for start in starts:
            self._begin(start)

    def _timed(self, name: str) -> None:
        """A schedule came due: as little as can be done here (many are due at once); what
        the book now remembers is saved by the run's thread."""
        with self.lock:
            starts = self.book.timed(name, self.clock())
        for start in starts:
            self._begin(start)

    def _poll(self, poll: Poll) -> None:
        from weir.scenarios.probes import condition

        snap = self.daemon.live.snapshot
        if snap.project is None or self._stopping:
            return
        kind, _, subject = poll.key.partition(":")
        if kind == "dataset":
            value: Any = self._versions.version(snap.project, subject)
        elif kind in ("commit", "remote"):
            value = self.daemon.branch_commit(subject, kind == "remote")
        else:  # the project's function, from the snapshot's files (a deploy's worktree)
            value = condition(Path(snap.project.root), subject.split(":")[0], poll.trigger)
        with self.lock:
            hit = self.book.observe(poll.key, value, self.clock())
        if hit:
            log.info("%s: news for %s", poll.key, ", ".join(hit))
            self._wake_for_debounce()
        self._save_memory()

    def look_now(self, branch: str) -> None:
        """Poll the commit triggers on ``branch`` now rather than at their next `every`: a
        deploying daemon just deployed a commit of it (``Daemon.branch_commit``)."""
        from apscheduler.jobstores.base import JobLookupError

        with self.lock:
            jobs = [f"poll:{kind}:{branch}" for kind in ("commit", "remote")
                    if f"poll:{kind}:{branch}" in self._jobs]
        if self._scheduler is None or self._stopping:
            return
        for job_id in jobs:
            try:
                self._scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
            except JobLookupError:
                pass  # the scenario went with the Flow this deploy brought

    def _wake_for_debounce(self) -> None:
        with self.lock:
            at = self.book.next_wake()
        if at is None or self._scheduler is None or self._stopping:
            return
        self._scheduler.add_job(self._debounced, "date", id="debounce", name="debounce",
                                replace_existing=True,
                                run_date=datetime.fromtimestamp(at, UTC))

    def _debounced(self) -> None:
        with self.lock:
            starts = self.book.due(self.clock())
        for start in starts:
            self._begin(start)
        self._wake_for_debounce()

    def _save_memory(self) -> None:
        with self.lock:
            values = self.book.unsaved()
        if values:
            with self._store() as store:
                store.remember(values)

    @contextmanager
    def _store(self) -> Iterator[StateStore]:
        """The service's connection to the state store (opened once: 200 runs a minute must
        not each open, and create the schema of, a store of their own)."""
        from weir.build.state import StateStore

        with self._db_lock:
            if self._db is None:
                self._db = StateStore(self.daemon.state_dir / "state.db")
            yield self._db

    def _record(self, report: wire.ScenarioRunReport) -> None:
        with self._store() as store:
            store.record_scenario_run(report)

    def commit(self) -> str | None:
        """The commit runs are at (with ``+`` when the work tree differs), asked of git again
        only when HEAD, the branch it is on, the index or the Flow's files changed — not for
        each of 200 runs due the same minute."""
        from weir.gitops.head import head_commit

        snap = self.daemon.live.snapshot
        # The snapshot's directory: a deploying daemon's runs are at the deployed commit.
        root = Path(snap.project.root) if snap.project is not None else self.daemon.root
        if self._git_dir is None or self._git_dir[0] != root:
            self._git_dir = (root, _git_dir(root))
        git = self._git_dir[1]
        key: list[Any] = [snap.version]
        for f in ("HEAD", "index"):
            try:
                key.append((git / f).stat().st_mtime_ns)
            except OSError:
                key.append(None)
        try:
            head = (git / "HEAD").read_text().strip()
            if head.startswith("ref: "):
                key.append((git / head[5:]).stat().st_mtime_ns)
        except OSError:
            key.append(None)
        with self.lock:
            if self._commit is not None and self._commit[0] == key:
                return self._commit[1]
        sha = head_commit(root)
        with self.lock:
            self._commit = (key, sha)
        return sha

    # -- runs ---------------------------------------------------------------------------------
    def run(self, name: str, cause: str) -> Run | wire.ScenarioRunReport:
        """Start the scenario now: its run, or (it is running) the skipped start, recorded."""
        snap = self.daemon.live.snapshot
        if snap.project is None or snap.flow is None:
            from weir.errors import ProjectInvalid

            raise ProjectInvalid(snap.errors)
        ws = self.daemon.workspace(snap)
        if name not in snap.project.scenarios:
            raise unknown_scenario(ws, name)
        return self._begin(Start(name, cause, self.clock()))

    def _begin(self, start: Start) -> Run | wire.ScenarioRunReport:
        now = self.clock()
        if self._stopping:
            raise WeirError("the daemon is stopping", hint="start it again, then run it")
        run_id = new_run_id(self.clock)
        with self.lock:
            if not self.concurrency.start(start.scenario, start.cause, now):
                self.concurrency.skipped.clear()  # recorded in the state store just below
                running = self.running.get(start.scenario)
                skipped = wire.ScenarioRunReport(
                    start.scenario, run_id, start.cause, "skipped", now, now, None, {}, (),
                    skipped_for=running.run_id if running else None)
            else:
                skipped = None
                run = Run(start.scenario, run_id, start.cause, now, start.due)
                self.runs[run_id] = run
                self.running[start.scenario] = run
        if skipped is not None:
            log.info("scenario %s (%s) not started: it is running (run %s)", start.scenario,
                     start.cause, skipped.skipped_for)
            self._record(skipped)
            self.daemon.hub.publish("scenario", wire.ScenarioEvent(
                wire.ScenarioEventKind.SKIPPED, start.scenario, run_id, start.cause).to_json())
            return skipped
        thread = threading.Thread(target=self._execute, args=(run,), daemon=True,
                                  name=f"weir-scenario-{start.scenario}")
        self._threads.add(thread)
        thread.start()
        return run

    def _execute(self, run: Run) -> None:
        from weir.scenarios.run import run_scenario

        ended: list[wire.ScenarioEvent] = []

        def on_event(event: wire.ScenarioEvent) -> None:
            if event.event is wire.ScenarioEventKind.END:
                ended.append(event)  # told once the service itself knows the run is over
                return
            run.add(event)
            self.daemon.hub.publish("scenario", event.to_json())

        def said(line: str) -> None:
            """The run's lines are its events; a reporter that could not send is also the
            daemon log's news."""
            if line.startswith("! "):
                log.warning("scenario %s run %s: %s", run.scenario, run.run_id, line[2:])

        snap = self.daemon.live.snapshot
        report: wire.ScenarioRunReport | None = None
        try:
            ws = self.daemon.workspace(snap)
            try:
                log.info("scenario %s started (%s): run %s", run.scenario, run.cause, run.run_id)
                self._save_memory()
                self._record(run.detail())  # `running`, until it ends (or the daemon dies)
                report = run_scenario(ws, run.scenario, run.cause, said, self.clock,
                                      steps=DaemonSteps(self.daemon), cancel=run.cancel,
                                      on_event=on_event, run_id=run.run_id,
                                      started=run.started, commit=self.commit,
                                      record=self._record, due=run.due)
            finally:
                ws.close()
        except Exception as exc:  # noqa: BLE001 - a bug in a run must not stop the daemon
            log.exception("scenario %s run %s failed", run.scenario, run.run_id)
            report = wire.ScenarioRunReport(run.scenario, run.run_id, run.cause, "failed",
                                            run.started, self.clock(), None, {},
                                            tuple(run.steps), error=f"internal error: {exc!r}")
            self._record(report)
        finally:
            assert report is not None
            log.info("scenario %s run %s %s in %.1f s", run.scenario, run.run_id, report.status,
                     report.finished - report.started)
            with self.lock:
                self.concurrency.end(run.scenario)
                self.running.pop(run.scenario, None)
                self._last[run.scenario] = report
                self.book.ended(run.scenario, report.status, self.clock())
                for old in [r for r in self.runs if self.runs[r].report is not None][:-KEEP]:
                    del self.runs[old]
            # Only now: whoever hears of the end and asks (GET /api/scenarios) hears it over.
            end = ended[0] if ended else wire.ScenarioEvent(
                wire.ScenarioEventKind.END, run.scenario, run.run_id, run.cause,
                status=report.status)
            run.add(end)
            run.finish(report)
            self.daemon.hub.publish("scenario", end.to_json())
            self._threads.discard(threading.current_thread())
            self._wake_for_debounce()

    def cancel(self, run_id: str) -> Run:
        run = self.runs[run_id]
        run.cancel.set()
        return run

    def detail(self, run_id: str) -> wire.ScenarioRunReport | None:
        run = self.runs.get(run_id)
        if run is not None:
            return run.detail()
        with self._store() as store:
            return store.scenario_run(run_id)

    def history(self, name: str, last: int) -> list[wire.ScenarioRunReport]:
        with self._store() as store:
            runs = store.scenario_runs(name, last)
        live = self.running.get(name)
        if live is None:
            return runs
        return [live.detail()] + [r for r in runs if r.run_id != live.run_id][:last - 1]

    def summaries(self, snap: FlowSnapshot) -> list[wire.ScenarioSummary]:
        from weir.scenarios.timing import next_due, summaries

        if snap.project is None:
            return []
        now = self.clock()
        scenarios = snap.project.scenarios

        def next_time(name: str) -> float | None:
            with self.lock:
                if name in self.book.scenarios:
                    return self.book.next_time(name, now)
            return next_due(scenarios[name], now, now)  # its file changed a moment ago

        with self.lock:
            last = dict(self._last)
            running = {name: run.run_id for name, run in self.running.items()}
        return summaries(scenarios, now, last, running, next_time)


def _git_dir(root: Path) -> Path:
    """The project's git directory (the project may be a folder of a larger repository)."""
    try:
        import git

        repo = git.Repo(root, search_parent_directories=True)
        try:
            return Path(repo.git_dir)
        finally:
            repo.close()
    except Exception:  # noqa: BLE001 - no repository: nothing to watch, no commit to say
        return root / ".git"
