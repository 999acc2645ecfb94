"""A pool of warm worker processes, each running one job at a time.

Hand-rolled rather than ``ProcessPoolExecutor`` because a build must be able to kill one job (a
hung recipe, ``--fail-fast``, Ctrl-C) without losing the others, and to notice a worker that died
(out of memory) as that job's failure. Workers are forked from a forkserver that preloads pandas
and pyarrow once; they and the forkserver die with the process that made the pool (see
``worker._live_only_with_owner`` and ``weir.build.forkserver``), so a killed build leaves no
worker writing behind it.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from weir.build.jobspec import JobResult, WorkerJob


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


@dataclass
class _Worker:
    process: Any
    conn: Connection
    job: str | None = None


@dataclass
class Finished:
    job: str
    result: JobResult


@dataclass
class WorkerPool:
    size: int
    _workers: list[_Worker] = field(default_factory=list)
    _ctx: Any = None

    def __post_init__(self) -> None:
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(child,), daemon=True,
                                    name="weir-worker")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self._workers.append(worker)
        return worker

    @property
    def busy(self) -> int:
        return sum(1 for w in self._workers if w.job is not None)

    def has_capacity(self) -> bool:
        return self.busy < self.size

    def submit(self, job_id: str, job: WorkerJob) -> None:
        worker = next((w for w in self._workers if w.job is None), None)
        if worker is None:
            worker = self._spawn()
        worker.job = job_id
        worker.conn.send(job)

    def wait(self, timeout: float | None = None) -> list[Finished]:
        """Results of finished jobs; a worker that died yields a failure for its job."""
        busy = [w for w in self._workers if w.job is not None]
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
                    w.job = None
                    continue
            if w.process.sentinel in ready or not w.process.is_alive():
                w.process.join(1)
                code = w.process.exitcode
                why = (f"killed by signal {-code}" if code is not None and code < 0
                       else f"exited with code {code}")
                hint = " (out of memory?)" if code == -9 else ""
                done.append(Finished(w.job, JobResult(
                    False, error=f"the worker process running this recipe died: {why}{hint}")))
                self._discard(w)
        return done

    def kill(self, job_id: str) -> None:
        for w in list(self._workers):
            if w.job == job_id:
                w.process.kill()
                w.process.join(5)
                self._discard(w)

    def _discard(self, w: _Worker) -> None:
        w.conn.close()
        if w in self._workers:
            self._workers.remove(w)

    def running(self) -> list[str]:
        return [w.job for w in self._workers if w.job is not None]

    def close(self, kill: bool = False) -> None:
        for w in self._workers:
            if kill or w.job is not None:
                w.process.kill()
            else:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        for w in self._workers:
            w.process.join(5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(1)
            w.conn.close()
        self._workers.clear()
