"""The build's scheduling on literal tasks: no worker, no file, no clock.

Each rule first on a small example, then the invariants on random DAGs driven by random events:
a task starts at most once per attempt and never before what it comes after succeeded, no
connection limit or worker count is exceeded, retries are bounded, a failure skips exactly its
downstream, nothing that could start is left waiting, and every build ends.
"""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from weir.build import schedule
from weir.build.schedule import FINAL, Scheduler, Stop, Task, TaskState


def test_the_scheduler_does_no_io_reads_no_clock_and_starts_no_process() -> None:
    tree = ast.parse(Path(schedule.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "bisect", "collections", "collections.abc",
                        "dataclasses", "enum"}, imported


def test_ready_tasks_start_in_plan_order_once_what_they_come_after_succeeded() -> None:
    s = Scheduler([Task("a"), Task("b", after=("a",)), Task("c"), Task("d", after=("b", "c"))],
                  workers=4)
    assert s.start() == ["a", "c"]
    assert s.start() == []  # started once
    s.succeeded("c")
    assert s.start() == []  # d still waits for b
    s.succeeded("a")
    assert s.start() == ["b"]
    s.succeeded("b")
    assert s.start() == ["d"]
    s.succeeded("d")
    assert s.done and set(s.state.values()) == {TaskState.SUCCEEDED}


def test_no_more_tasks_run_than_there_are_workers() -> None:
    s = Scheduler([Task("a"), Task("b"), Task("c")], workers=2)
    assert s.start() == ["a", "b"]
    s.succeeded("b")
    assert s.start() == ["c"] and s.running == ["a", "c"]


def test_a_connection_limit_holds_back_only_the_tasks_that_use_that_connection() -> None:
    pg = frozenset({"pg"})
    s = Scheduler([Task("a", connections=pg), Task("b", connections=pg | {"lake"}),
                   Task("c", connections=frozenset({"lake"}))], workers=3, limits={"pg": 1})
    assert s.start() == ["a", "c"]  # b waits for pg; c, after it in the plan, does not wait
    s.succeeded("a")
    assert s.start() == ["b"]


def test_a_limit_of_zero_or_none_is_no_limit() -> None:
    s = Scheduler([Task("a", connections=frozenset({"x"})),
                   Task("b", connections=frozenset({"x"}))], workers=2, limits={"x": 0})
    assert s.start() == ["a", "b"]


def test_a_failed_task_is_started_again_while_it_has_retries_then_fails() -> None:
    s = Scheduler([Task("a", retries=2), Task("b", after=("a",))], workers=1)
    for _ in range(2):
        assert s.start() == ["a"]
        assert s.failed("a").retry
    assert s.start() == ["a"]
    failure = s.failed("a")
    assert not failure.retry and failure.skipped == ("b",) and failure.stop is None
    assert s.attempts["a"] == 3 and s.done
    assert (s.state["a"], s.state["b"]) == (TaskState.FAILED, TaskState.SKIPPED)


def test_a_failure_skips_exactly_its_downstream_in_plan_order() -> None:
    s = Scheduler([Task("a"), Task("b"), Task("c", after=("a",)), Task("d", after=("c", "b")),
                   Task("e", after=("b",)), Task("f", after=("a",))], workers=2)
    assert s.start() == ["a", "b"]
    assert s.failed("a").skipped == ("c", "d", "f")
    s.succeeded("b")
    assert s.start() == ["e"]  # b's own downstream goes on, except d, which needed a
    s.succeeded("e")
    assert s.done


def test_fail_fast_stops_the_build_at_the_first_failure() -> None:
    s = Scheduler([Task("a"), Task("b"), Task("c"), Task("d", after=("a",))], workers=2,
                  fail_fast=True)
    assert s.start() == ["a", "b"]
    failure = s.failed("a")
    assert failure.skipped == ("d",)
    assert failure.stop == Stop(interrupted=("b",), not_started=("c",))
    assert s.start() == [] and s.done
    assert s.state["b"] is TaskState.INTERRUPTED and s.state["c"] is TaskState.NOT_STARTED


def test_fail_fast_does_not_retry_a_task_once_the_build_stops() -> None:
    s = Scheduler([Task("a"), Task("b", retries=3)], workers=2, fail_fast=True)
    s.start()
    assert s.failed("a").stop == Stop(("b",), ())
    assert s.done and s.attempts["b"] == 1


def test_cancel_interrupts_what_runs_and_nothing_more_starts() -> None:
    s = Scheduler([Task("a"), Task("b", after=("a",)), Task("c")], workers=1)
    assert s.start() == ["a"]
    assert s.cancel() == Stop(interrupted=("a",), not_started=("b", "c"))
    assert s.cancel() == Stop((), ())
    assert s.start() == [] and s.done


def test_a_task_that_cannot_run_is_not_retried_and_does_not_stop_a_fail_fast_build() -> None:
    s = Scheduler([Task("a", retries=5), Task("b", after=("a",)), Task("c")], workers=1,
                  fail_fast=True)
    assert s.start() == ["a"]
    assert s.cannot_run("a") == ("b",)
    assert s.start() == ["c"] and not s.stopped


def test_a_finished_job_frees_its_worker_before_its_commit_but_not_its_readers() -> None:
    pg = frozenset({"pg"})
    s = Scheduler([Task("a", connections=pg), Task("b"), Task("c", ("a",), connections=pg)],
                  workers=1, limits={"pg": 1})
    assert s.start() == ["a"]
    s.worker_done("a")  # a's output is being committed: its worker takes b meanwhile
    assert s.start() == ["b"] and s.state["c"] is TaskState.WAITING and not s.done
    s.succeeded("a")
    assert s.start() == [] and s.state["c"] is TaskState.READY  # b still has the worker
    s.succeeded("b")
    assert s.start() == ["c"]


def test_a_restore_takes_no_worker_and_no_connection_slot() -> None:
    lake = frozenset({"lake"})
    s = Scheduler([Task("run", connections=lake), Task("restore", connections=lake,
                                                       in_worker=False)],
                  workers=1, limits={"lake": 1})
    assert s.start() == ["run", "restore"]


# -- invariants on random DAGs and random events ----------------------------------------------
CONNECTIONS = ["pg", "lake", "files"]


@st.composite
def builds(draw: st.DrawFn) -> tuple[list[Task], int, dict[str, int], bool]:
    n = draw(st.integers(1, 12))
    tasks = []
    for i in range(n):
        after = draw(st.lists(st.sampled_from([f"t{j}" for j in range(i)]), unique=True,
                              max_size=3)) if i else []
        tasks.append(Task(f"t{i}", tuple(after),
                          frozenset(draw(st.lists(st.sampled_from(CONNECTIONS), max_size=2))),
                          retries=draw(st.integers(0, 2)),
                          in_worker=draw(st.booleans() | st.just(True))))
    limits = draw(st.dictionaries(st.sampled_from(CONNECTIONS), st.integers(0, 2)))
    return tasks, draw(st.integers(1, 3)), limits, draw(st.booleans())


def _descendants(tasks: list[Task], of: str) -> set[str]:
    found: set[str] = set()
    for t in tasks:  # plan order is topological
        if of in t.after or found & set(t.after):
            found.add(t.id)
    return found


class Driver:
    """Plays a build against the scheduler, checking every answer against the rules."""

    def __init__(self, tasks: list[Task], workers: int, limits: dict[str, int],
                 fail_fast: bool) -> None:
        self.tasks, self.workers, self.limits, self.fail_fast = tasks, workers, limits, fail_fast
        self.by_id = {t.id: t for t in tasks}
        self.s = Scheduler(tasks, workers, limits, fail_fast)
        self.starts = {t.id: 0 for t in tasks}
        self.running: set[str] = set()
        self.committing: set[str] = set()  # out of their worker, not yet committed

    def start(self) -> list[str]:
        s, by_id = self.s, self.by_id
        started = s.start()
        assert started == sorted(started, key=[t.id for t in self.tasks].index)  # plan order
        for t in started:
            assert t not in self.running, "started twice in one attempt"
            assert all(s.state[a] is TaskState.SUCCEEDED for a in by_id[t].after)
            self.starts[t] += 1
            assert self.starts[t] <= by_id[t].retries + 1
            self.running.add(t)
        assert set(s.running) == self.running
        in_workers = [by_id[t] for t in self.running if by_id[t].in_worker]
        assert len(in_workers) <= self.workers
        # a task being committed holds no worker but still holds its connections
        holding = in_workers + [by_id[t] for t in self.committing if by_id[t].in_worker]
        using = {c: sum(c in t.connections for t in holding) for c in CONNECTIONS}
        for c, limit in self.limits.items():
            assert not limit or using[c] <= limit
        for t in self.tasks:  # nothing that could start was left waiting
            if s.state[t.id] is TaskState.READY:
                assert t.in_worker and (len(in_workers) == self.workers or any(
                    self.limits.get(c) and using[c] >= self.limits[c] for c in t.connections))
        return started

    def finish(self, task: str, outcome: str) -> None:
        s, by_id = self.s, self.by_id
        before = dict(s.state)
        below = {d for d in _descendants(self.tasks, task) if before[d] not in FINAL}
        self.running.discard(task)
        if outcome == "worker done":
            s.worker_done(task)
            assert s.state[task] is TaskState.COMMITTING and not s.done
            assert all(s.state[b] is not TaskState.READY or task not in by_id[b].after
                       for b in by_id)  # what reads it waits for the commit
            self.committing.add(task)
            return
        if outcome == "ok":
            self.committing.discard(task)
            s.succeeded(task)
            return
        if outcome == "cannot run":
            assert set(s.cannot_run(task)) == below
            return
        failure = s.failed(task)
        assert failure.retry == (self.starts[task] <= by_id[task].retries)
        if failure.retry:
            assert failure.skipped == () and s.state[task] is TaskState.READY
            return
        assert set(failure.skipped) == below
        assert (failure.stop is not None) == self.fail_fast
        if failure.stop is not None:
            self.stopped(failure.stop, before, failure.skipped)

    def cancel(self) -> None:
        before = dict(self.s.state)
        self.stopped(self.s.cancel(), before)

    def stopped(self, stop: Stop, before: dict[str, TaskState],
                skipped: tuple[str, ...] = ()) -> None:
        assert set(stop.interrupted) == self.running
        assert set(stop.not_started) == {t for t, state in before.items() if state in (
            TaskState.WAITING, TaskState.READY)} - set(skipped)
        self.running.clear()
        assert self.s.start() == []
        assert self.s.done or self.committing  # what is being committed still is


@settings(max_examples=300, deadline=None)
@given(builds(), st.data())
def test_invariants_hold_whatever_happens(build: tuple[list[Task], int, dict[str, int], bool],
                                          data: st.DataObject) -> None:
    d = Driver(*build)
    while not d.s.done:
        started = d.start()
        for task in started:
            if not d.by_id[task].in_worker:  # done in the parent: reported at once
                d.finish(task, data.draw(st.sampled_from(["ok", "cannot run"])))
        assert started or d.running or d.committing or d.s.done, f"stuck: {d.s.state}"
        if d.committing and (not d.running or data.draw(st.booleans())):
            d.finish(data.draw(st.sampled_from(sorted(d.committing))), "ok")
            continue
        if not d.running:
            continue  # what finished at once may have made others ready
        if data.draw(st.integers(0, 30)) == 0 and not d.committing:
            d.cancel()
        else:
            d.finish(data.draw(st.sampled_from(sorted(d.running))),
                     data.draw(st.sampled_from(["ok", "worker done", "failed", "cannot run"])))
    s = d.s
    assert s.done and all(state in FINAL for state in s.state.values()), s.state
    for t in d.tasks:
        if s.state[t.id] is TaskState.SUCCEEDED:
            assert all(s.state[a] is TaskState.SUCCEEDED for a in t.after)
        if s.state[t.id] is TaskState.SKIPPED:  # below a failure: it could not have run
            assert d.starts[t.id] == 0
        if s.state[t.id] is TaskState.NOT_STARTED:  # at most a failed attempt, to be retried
            assert d.starts[t.id] <= t.retries


def test_builds_side_by_side_share_the_free_slots_and_the_connections_limits() -> None:
    a = Scheduler([Task("a1", connections=frozenset({"db"})), Task("a2")], workers=4,
                  limits={"db": 1})
    b = Scheduler([Task("b1", connections=frozenset({"db"})), Task("b2"), Task("b3")],
                  workers=4, limits={"db": 1})
    assert a.start(free=3) == ["a1", "a2"]
    # one slot left of three, and the one `db` job is a's
    assert b.start(free=1, elsewhere={"db": 1}) == ["b2"]
    assert b.ready == ["b1", "b3"]
    assert b.start(free=0) == []
    a.succeeded("a1")  # its slot and its `db` use are given back
    assert b.start(free=1, elsewhere={}) == ["b1"]
    assert b.ready == ["b3"]


@settings(max_examples=150, deadline=None)
@given(st.lists(builds(), min_size=2, max_size=3), st.integers(1, 4), st.data())
def test_builds_sharing_slots_never_exceed_them_and_all_end(
        many: list[tuple[list[Task], int, dict[str, int], bool]], size: int,
        data: st.DataObject) -> None:
    """Several builds, each with its own scheduler, drawing on one count of slots and of
    connection uses (as ``weir.build.slots.Slots`` keeps it for the runners)."""
    limits: dict[str, int] = {}
    for _, _, lim, _ in many:  # one project: the same limits for every build
        limits.update({c: n for c, n in lim.items() if n})
    scheds = [Scheduler(tasks, workers, limits, fail_fast)
              for tasks, workers, _, fail_fast in many]
    by_id = [{t.id: t for t in tasks} for tasks, *_ in many]
    running: list[set[str]] = [set() for _ in many]
    use: dict[str, int] = {}

    def start(i: int) -> None:
        """As the runner does: start what fits, again while anything started (a restore is
        done at once and may make others ready)."""
        while started := scheds[i].start(size - sum(len(r) for r in running), use):
            for t in started:
                task = by_id[i][t]
                if not task.in_worker:
                    scheds[i].succeeded(t)
                    continue
                running[i].add(t)
                for c in task.connections:
                    use[c] = use.get(c, 0) + 1

    while not all(s.done for s in scheds):
        for i in range(len(scheds)):
            start(i)
        assert sum(len(r) for r in running) <= size
        for c, n in use.items():
            assert c not in limits or n <= limits[c]
        busy = [i for i, r in enumerate(running) if r]
        if not busy:  # nothing runs anywhere: every build must be over (nothing stuck)
            assert all(s.done for s in scheds), [s.state for s in scheds]
            break
        i = data.draw(st.sampled_from(busy))
        t = data.draw(st.sampled_from(sorted(running[i])))
        running[i].discard(t)
        for c in by_id[i][t].connections:
            use[c] -= 1
        if data.draw(st.booleans()):
            scheds[i].succeeded(t)
        else:
            for r in scheds[i].cannot_run(t):
                running[i].discard(r)
