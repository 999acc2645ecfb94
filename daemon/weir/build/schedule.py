"""When each job of a build starts, and what becomes of the jobs below one that fails.

The build's scheduling as a pure state machine over literal tasks: it is told what happened (a
task succeeded, failed, could not run; the build is cancelled) and answers what to start now
and what is skipped. It does no I/O, reads no clock and starts no process, so every rule —
plan order, dependencies, retries, connection limits, fail-fast, cancel, skipping the
downstream of a failure — is tested on literal tasks (``tests/test_schedule.py``), and the
``Runner`` only drives the worker pool and commits.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Task:
    id: str
    after: tuple[str, ...] = ()  # tasks that must succeed before this one starts
    connections: frozenset[str] = frozenset()  # what it reads and writes, for the limits
    retries: int = 0  # failed attempts started again (so at most ``retries + 1`` attempts)
    # False: done in the build's own process the moment it starts (a restore from a kept
    # output), so it takes no worker and no connection slot.
    in_worker: bool = True


class TaskState(str, Enum):
    WAITING = "waiting"  # for the tasks it comes after
    READY = "ready"  # to start as soon as a worker and its connections are free
    RUNNING = "running"
    # Its worker is done and free for the next task; the build's own process commits what it
    # wrote, and what comes after it waits for that.
    COMMITTING = "committing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # below a failure: it could not have run
    NOT_STARTED = "not started"  # the build stopped (fail-fast, cancel) before it could
    INTERRUPTED = "interrupted"  # running when the build stopped: to be killed


FINAL = frozenset({TaskState.SUCCEEDED, TaskState.FAILED, TaskState.SKIPPED,
                   TaskState.NOT_STARTED, TaskState.INTERRUPTED})


@dataclass(frozen=True)
class Stop:
    """The build stops: the running tasks to kill, the others that will never start."""

    interrupted: tuple[str, ...]
    not_started: tuple[str, ...]


@dataclass(frozen=True)
class Failure:
    """What one failure leads to."""

    retry: bool  # the task is ready again (its attempt is discarded)
    skipped: tuple[str, ...] = ()  # its downstream, in plan order
    stop: Stop | None = None  # with fail-fast: the rest of the build stops


class Scheduler:
    def __init__(self, tasks: Sequence[Task], workers: int,
                 limits: Mapping[str, int] | None = None, fail_fast: bool = False) -> None:
        """``tasks`` in plan order (a topological order), which is also the order in which
        ready tasks start; ``limits``: the most tasks that may use a connection at once."""
        self.tasks = {t.id: t for t in tasks}
        self.workers = max(1, workers)
        self.limits = {c: n for c, n in (limits or {}).items() if n}
        self.fail_fast = fail_fast
        self.state = {t.id: TaskState.WAITING if t.after else TaskState.READY for t in tasks}
        self.attempts: Counter[str] = Counter()
        self.stopped = False
        self._order = list(tasks)
        self._index = {t.id: i for i, t in enumerate(tasks)}
        self._missing = {t.id: set(t.after) for t in tasks}
        self._below: dict[str, list[str]] = {t.id: [] for t in tasks}
        for t in tasks:
            for a in t.after:
                self._below[a].append(t.id)
        # Kept as they change rather than found by scanning every task: a build may plan
        # thousands, and ``start`` is asked after every finish.
        self._ready = [self._index[t.id] for t in tasks if not t.after]  # sorted: plan order
        self._running: dict[str, None] = {}  # in the order they started
        self._finished = 0
        self._in_use: Counter[str] = Counter()
        self._busy = 0

    # -- questions ------------------------------------------------------------------------
    @property
    def running(self) -> list[str]:
        return list(self._running)

    @property
    def done(self) -> bool:
        """Nothing runs and nothing more will start."""
        return self._finished == len(self.tasks)

    @property
    def ready(self) -> list[str]:
        """The tasks that wait only for a free worker or connection slot, in plan order."""
        return [self._order[i].id for i in self._ready]

    def _fits(self, task: Task, free: int | None, elsewhere: Mapping[str, int]) -> bool:
        if not task.in_worker:
            return True
        return self._busy < self.workers and (free is None or free > 0) and all(
            self._in_use[c] + elsewhere.get(c, 0) < self.limits[c]
            for c in task.connections if c in self.limits)

    # -- events ---------------------------------------------------------------------------
    def start(self, free: int | None = None,
              elsewhere: Mapping[str, int] | None = None) -> list[str]:
        """The ready tasks to start now, in plan order: each fits a free worker and its
        connections' limits (one that does not waits; those after it may still start). They
        are running from now on. A task that is not ``in_worker`` is expected to be reported
        finished before ``start`` is asked again.

        When builds run side by side and share the machine's worker slots and the
        connections' limits: ``free`` is how many shared slots are free now, ``elsewhere``
        how many tasks of other builds use each connection."""
        if self.stopped:
            return []
        other = elsewhere or {}
        started, waiting = [], []
        for i in self._ready:
            task = self._order[i]
            if not self._fits(task, free, other):
                waiting.append(i)
                continue
            self._set(task.id, TaskState.RUNNING)
            self.attempts[task.id] += 1
            if task.in_worker:
                self._busy += 1
                self._in_use.update(task.connections)
                if free is not None:
                    free -= 1
            started.append(task.id)
        self._ready = waiting
        return started

    def worker_done(self, task: str) -> None:
        """``task``'s worker finished it well: the worker takes the next task while this one
        is committed (its connections stay in use until then); ``succeeded`` follows."""
        assert self.state[task] is TaskState.RUNNING, (task, self.state[task])
        self._set(task, TaskState.COMMITTING)
        if self.tasks[task].in_worker:
            self._busy -= 1

    def succeeded(self, task: str) -> None:
        self._release(task, TaskState.SUCCEEDED)
        for b in self._below[task]:
            self._missing[b].discard(task)
            if not self._missing[b] and self.state[b] is TaskState.WAITING:
                self._set(b, TaskState.READY)

    def failed(self, task: str) -> Failure:
        """A run of ``task`` failed: started again while it has retries left (unless the build
        is stopping), else failed — its downstream is skipped, and with fail-fast the build
        stops."""
        if self.attempts[task] <= self.tasks[task].retries and not self.stopped:
            self._release(task, TaskState.READY)
            return Failure(retry=True)
        skipped = self.cannot_run(task)
        stop = self._stop() if self.fail_fast else None
        return Failure(False, skipped, stop)

    def cannot_run(self, task: str) -> tuple[str, ...]:
        """``task`` fails without running (a connection it needs cannot be used): no retry,
        and not a recipe's failure, so even with fail-fast the rest of the build goes on.
        Returns its downstream, skipped."""
        self._release(task, TaskState.FAILED)
        below: set[str] = set()
        todo = list(self._below[task])
        while todo:
            t = todo.pop()
            if t not in below and self.state[t] is TaskState.WAITING:
                below.add(t)
                todo.extend(self._below[t])
        for t in below:
            self._set(t, TaskState.SKIPPED)
        return tuple(sorted(below, key=self._index.__getitem__))

    def cancel(self) -> Stop:
        """The build is cancelled (from the daemon, the editor). Stopping twice stops
        nothing more."""
        return self._stop()

    # -- bookkeeping ----------------------------------------------------------------------
    def _set(self, task: str, state: TaskState) -> None:
        """Move ``task`` to ``state``, keeping the running tasks and the count of finished
        ones; the ready list is kept by the transitions that leave READY (``start``,
        ``_stop``), so that ``start`` can rebuild it in one pass."""
        old = self.state[task]
        self.state[task] = state
        if old is TaskState.RUNNING:
            del self._running[task]
        if state is TaskState.RUNNING:
            self._running[task] = None
        elif state is TaskState.READY:
            bisect.insort(self._ready, self._index[task])
        self._finished += (state in FINAL) - (old in FINAL)

    def _release(self, task: str, state: TaskState) -> None:
        old = self.state[task]
        assert old in (TaskState.RUNNING, TaskState.COMMITTING), (task, old)
        self._set(task, state)
        t = self.tasks[task]
        if t.in_worker:
            self._busy -= old is TaskState.RUNNING
            self._in_use.subtract(t.connections)

    def _stop(self) -> Stop:
        if self.stopped:
            return Stop((), ())
        self.stopped = True
        interrupted = tuple(self._running)
        for t in interrupted:
            self._release(t, TaskState.INTERRUPTED)
        not_started = tuple(t for t, s in self.state.items()
                            if s in (TaskState.WAITING, TaskState.READY))
        for t in not_started:
            self._set(t, TaskState.NOT_STARTED)
        self._ready = []
        return Stop(interrupted, not_started)
