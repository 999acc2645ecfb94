"""Warm worker processes, each running one job at a time.

Hand-rolled rather than ``ProcessPoolExecutor`` because a build must be able to kill one job (a
hung recipe, ``--fail-fast``, Ctrl-C) without losing the others, and to notice a worker that died
(out of memory) as that job's failure. Workers are forked from a forkserver that preloads pandas
and pyarrow once; they and the forkserver die with the process that made them (see
``worker._live_only_with_owner`` and ``weir.build.forkserver``), so a killed build leaves no
worker writing behind it.

Two parts: ``Workers`` owns the processes (idle ones wait for their next job), and a
``WorkerPool`` is one build's view of them — the jobs it sent and their results. The CLI makes a
``Workers`` per build; the daemon keeps one alive between builds and shares it among the builds
that run side by side (each with its own ``WorkerPool``), so a build starts on warm workers. A
worker is replaced after ``max_jobs`` jobs, which bounds what libraries' state and memory
fragmentation can build up in one process (the project's own code is fresh in every job
anyway: ``weir.build.project_code``).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from weir.build.jobspec import JobResult, SourceCheckJob, WorkerJob

MAX_JOBS = 200  # jobs one worker process runs before it is replaced


PRELOAD = ["weir.build.forkserver", "weir.build.worker"]


def prestart() -> None:
    """Start the forkserver now, so that it imports pandas and pyarrow on another core while
    this process reads the Flow and plans: the first worker of a build then starts at once.
    Only a process start: if nothing turns out to need a worker, the forkserver ends with
    this process."""
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def _serve(conn: Connection) -> None:
    """Trampoline so the parent never imports the worker module (and pandas) itself."""
    from weir.build.worker import serve

    serve(conn)


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    job: str | None = None
    jobs: int = 0  # jobs sent to it so far


@dataclass
class Finished:
    job: str
    result: JobResult


class JobPool(Protocol):
    """What a build drives: this machine's workers (``WorkerPool``) or a cluster's
    (``weir.build.dask_pool.DaskPool``). The runner schedules the same either way."""

    size: int

    @property
    def busy(self) -> int: ...

    def submit(self, job_id: str, job: WorkerJob | SourceCheckJob) -> None: ...

    def wait(self, timeout: float | None = None) -> list[Finished]: ...

    def kill(self, *job_ids: str) -> None: ...

    def running(self) -> list[str]: ...

    def close(self, kill: bool = False) -> None: ...


class Workers:
    """The worker processes: spawned when a job finds none idle, kept idle between jobs,
    shared safely by builds in several threads (each busy worker belongs to one build)."""

    def __init__(self, max_jobs: int = MAX_JOBS) -> None:
        self.max_jobs = max_jobs
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)

    def warm(self, count: int) -> None:
        """Have ``count`` idle workers ready (started now, not when a build needs them)."""
        with self._lock:
            missing = count - len(self._idle)
        for _ in range(missing):
            worker = self._spawn()
            with self._lock:
                self._idle.append(worker)

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(child,), daemon=True,
                                    name="weir-worker")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._all.append(worker)
        return worker

    def take(self) -> _Worker:
        """An idle live worker, or a new one."""
        while True:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None:
                return self._spawn()
            if worker.process.is_alive():
                return worker
            self.discard(worker)

    def give_back(self, worker: _Worker) -> None:
        """A worker whose job is over: idle again, or ended if it ran its share of jobs."""
        worker.job = None
        if worker.jobs >= self.max_jobs:
            self._stop(worker)
            return
        with self._lock:
            self._idle.append(worker)

    def discard(self, worker: _Worker) -> None:
        """Forget a worker that died or was killed."""
        worker.conn.close()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            if worker in self._idle:
                self._idle.remove(worker)

    def _stop(self, worker: _Worker) -> None:
        try:
            worker.conn.send(None)
        except OSError:
            worker.process.kill()
        threading.Thread(target=self._reap, args=(worker,), daemon=True,
                         name="weir-worker-reap").start()

    def _reap(self, worker: _Worker) -> None:
        worker.process.join(5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(1)
        self.discard(worker)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._all)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def close(self, kill: bool = False) -> None:
        with self._lock:
            workers = list(self._all)
            self._idle.clear()
        for w in workers:
            if kill or w.job is not None:
                w.process.kill()
            else:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        for w in workers:
            w.process.join(5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1)
            w.conn.close()
        with self._lock:
            self._all.clear()


@dataclass
class WorkerPool:
    """One build's jobs in workers: ``size`` at most at once (the scheduler keeps to it).
    Without ``workers`` it has processes of its own, ended by ``close``."""

    size: int
    workers: Workers | None = None
    _busy: list[_Worker] = field(default_factory=list)
    _own: bool = False

    def __post_init__(self) -> None:
        if self.workers is None:
            self.workers = Workers()
            self._own = True

    @property
    def busy(self) -> int:
        return len(self._busy)

    def has_capacity(self) -> bool:
        return self.busy < self.size

    def submit(self, job_id: str, job: WorkerJob | SourceCheckJob) -> None:
        assert self.workers is not None
        while True:
            worker = self.workers.take()
            try:
                worker.conn.send(job)
                break
            except OSError:  # it died while idle: another one
                self.workers.discard(worker)
        worker.job = job_id
        worker.jobs += 1
        self._busy.append(worker)

    def wait(self, timeout: float | None = None) -> list[Finished]:
        """Results of finished jobs; a worker that died yields a failure for its job."""
        assert self.workers is not None
        busy = list(self._busy)
        if not busy:
            return []
        handles: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        ready = set(wait(handles, timeout))
        done: list[Finished] = []
        for w in busy:
            assert w.job is not None
            if w.conn in ready:
                try:
                    result = w.conn.recv()
                except (EOFError, OSError):
                    result = None
                if result is not None:
                    done.append(Finished(w.job, result))
                    self._busy.remove(w)
                    self.workers.give_back(w)
                    continue
            if w.process.sentinel in ready or not w.process.is_alive():
                w.process.join(1)
                code = w.process.exitcode
                why = (f"killed by signal {-code}" if code is not None and code < 0
                       else f"exited with code {code}")
                hint = " (out of memory?)" if code == -9 else ""
                done.append(Finished(w.job, JobResult(
                    False, error=f"the worker process running this recipe died: {why}{hint}")))
                self._busy.remove(w)
                self.workers.discard(w)
        return done

    def kill(self, *job_ids: str) -> None:
        assert self.workers is not None
        for w in list(self._busy):
            if w.job in job_ids:
                w.process.kill()
                w.process.join(5)
                self._busy.remove(w)
                self.workers.discard(w)

    def running(self) -> list[str]:
        return [w.job for w in self._busy if w.job is not None]

    def close(self, kill: bool = False) -> None:
        """The build is over: what still runs is killed (its job was stopped); the workers
        end too if they are this pool's own."""
        assert self.workers is not None
        for w in list(self._busy):
            w.process.kill()
            w.process.join(5)
            self.workers.discard(w)
        self._busy.clear()
        if self._own:
            self.workers.close(kill)
