"""Build planning: which recipes to run, in which order, and why — a pure function.

Modes follow Dataiku's names: *required* (the default smart reconstruction), *only*, *force*,
*missing* and *downstream*. Jobs are recipes, not datasets: a recipe with several outputs always
writes them together. A source read by a job, whose checks are due on the data it holds now
(``Status.checks``), is checked first: the plan lists it in ``checks``, and the jobs reading it
wait for it (``BuildPlan.checks_before``).
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from weir.errors import PlanError
from weir.flow.graph import Flow
from weir import wire
from weir.flow.status import State, Status
from weir.wire import Action, Mode


@dataclass(frozen=True)
class Job:
    recipe: str  # recipe id
    outputs: tuple[str, ...]
    reasons: Mapping[str, tuple[str, ...]]  # output -> why it is built
    action: Action
    depends_on: tuple[str, ...]  # recipe ids in this plan that must finish first
    # Outputs a restore copies from another environment's data (output -> environment).
    reused_from: Mapping[str, str] = field(default_factory=dict)
    # The partition of its outputs it builds (None: not partitioned), and the partitions of
    # each input it reads (`weir.flow.partition_jobs`). ``depends_on`` then holds job ids.
    partition: str | None = None
    reads: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Unique in a plan: the recipe's id, and the partition it builds in brackets."""
        return wire.job_id(self.recipe, self.partition)


@dataclass(frozen=True)
class SourceCheck:
    """A source's checks, run before any job of the plan reads it."""

    source: str
    reasons: tuple[str, ...]  # why they are due: "data changed", "checks changed"…

    @property
    def task(self) -> str:
        """Its id beside the recipes' ids in a build (no recipe id starts so: theirs are
        files under recipes/)."""
        return f"check:{self.source}"


@dataclass(frozen=True)
class BuildPlan:
    jobs: tuple[Job, ...]  # in a valid topological order
    targets: tuple[str, ...]
    up_to_date: tuple[str, ...]  # targets that need nothing
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Datasets the build needs but cannot make now (their storage, or their inputs' storage,
    # cannot be used), in Flow order; the runner reports them failed, the rest still builds.
    blocked: tuple[str, ...] = field(default_factory=tuple)
    # The sources whose checks run first (in Flow order): read by a job, checks due.
    checks: tuple[SourceCheck, ...] = field(default_factory=tuple)

    @property
    def outputs(self) -> list[str]:
        return [o for j in self.jobs for o in j.outputs]

    def checks_before(self, flow: Flow, job: Job) -> tuple[SourceCheck, ...]:
        """The source checks of this plan that ``job`` waits for: those of the sources its
        recipe reads."""
        reads = set(flow.project.recipes[job.recipe].input_names)
        return tuple(c for c in self.checks if c.source in reads)

    def to_wire(self) -> wire.Plan:
        return wire.Plan(self.targets, self.up_to_date, tuple(
            wire.PlannedJob(j.recipe, j.action, j.outputs, dict(j.reasons), j.depends_on,
                            dict(j.reused_from), j.partition, dict(j.reads))
            for j in self.jobs), self.notes, self.blocked,
            tuple(wire.PlannedCheck(c.source, c.reasons) for c in self.checks))

    @classmethod
    def from_wire(cls, plan: wire.Plan) -> BuildPlan:
        return cls(tuple(Job(j.recipe, j.outputs, j.reasons, j.action, j.after, j.reused_from,
                             j.partition, j.reads)
                         for j in plan.jobs), plan.targets, plan.up_to_date, plan.notes,
                   plan.blocked, tuple(SourceCheck(c.source, c.reasons) for c in plan.checks))


def plan_build(flow: Flow, statuses: Mapping[str, Status], targets: Collection[str],
               mode: Mode = Mode.REQUIRED, restorable: Collection[str] = (),
               unavailable: Collection[str] = (),
               reusable: Mapping[str, str] | None = None) -> BuildPlan:
    """Plan the build of ``targets``. ``restorable``: datasets whose expected fingerprint has a
    kept output (restored instead of run when every output of the recipe has one);
    ``reusable``: those another environment holds at that fingerprint where this one's
    storage can copy it (dataset -> environment), restored from there when not kept here.
    ``unavailable``: datasets whose storage cannot be used now (a server down, a credential
    not set); what needs them is left out of the jobs and listed in ``blocked`` instead, so
    one broken connection does not stop the rest of the build."""
    project = flow.project
    reasons: dict[str, list[str]] = {}
    forced: set[str] = set()
    notes: list[str] = []
    cut = cut_off(flow, unavailable)
    blocked: tuple[str, ...] = ()
    if cut:  # what the targets need that cannot be built now (the closure only then: a
        # no-op build of the whole Flow must not walk it)
        if mode is Mode.ONLY:
            scope = set(targets)
        elif mode is Mode.DOWNSTREAM:
            scope = set(targets) | flow.descendants(targets)
        else:
            scope = set(targets) | flow.ancestors(targets)
        blocked = tuple(n for n in flow.order
                        if n in scope and n in cut and not project.datasets[n].is_source)

    def build(name: str, why: list[str] | tuple[str, ...]) -> None:
        if name in reasons:
            return
        if name in flow.invalid:
            raise PlanError(f"'{name}' cannot be built: {flow.invalid[name]}",
                            hint="fix that error first; `weir status` lists every one")
        reasons[name] = list(why) or ["out of date"]
        for inp in flow.upstream[name]:
            require(inp, name)

    def require(name: str, consumer: str) -> None:
        status = statuses[name]
        if project.datasets[name].is_source:
            if not status.data_present:
                ds = project.datasets[name]
                raise PlanError(f"source '{name}' has no data at {ds.connection}:{ds.path}",
                                hint=f"'{consumer}' reads it; put the data there or fix `path` "
                                f"in {ds.location.file}")
            return
        if not status.up_to_date:
            build(name, status.reasons or (status.state.value,))

    def check_present(name: str, consumer: str) -> None:
        ds = project.datasets[name]
        if statuses[name].data_present or name in reasons:
            return
        if ds.is_source:
            require(name, consumer)
            return
        raise PlanError(f"'{consumer}' reads '{name}', which has no data",
                        hint=f"build it first (weir build {name}) or drop --only")

    # A blocked target is left out whole: building its upstream could not make it, and
    # naming only blocked targets is the connection's error (see Workspace.plan).
    real_targets = [t for t in targets if not project.datasets[t].is_source and t not in cut]
    if mode is Mode.REQUIRED:
        for t in real_targets:
            if not statuses[t].up_to_date:
                build(t, statuses[t].reasons or (statuses[t].state.value,))
    elif mode is Mode.ONLY:
        for t in real_targets:
            reasons[t] = ["requested"]
            forced.add(t)
        for t in real_targets:
            for inp in flow.upstream[t]:
                check_present(inp, t)
    elif mode is Mode.FORCE:
        scope = set(real_targets) | flow.ancestors(real_targets)
        for name in flow.order:
            if name in scope and not project.datasets[name].is_source:
                reasons[name] = ["forced"]
                forced.add(name)
            elif name in scope:
                require(name, next(iter(flow.downstream[name]), name))
    elif mode is Mode.MISSING:
        scope = set(real_targets) | flow.ancestors(real_targets)
        for name in flow.order:
            if name not in scope:
                continue
            if project.datasets[name].is_source:
                require(name, next(iter(flow.downstream[name]), name))
            elif name in real_targets:
                reasons[name] = ["requested"]
                forced.add(name)
            elif not statuses[name].data_present:
                reasons[name] = ["missing"]
        for name in list(reasons):
            for inp in flow.upstream[name]:
                check_present(inp, name)
    elif mode is Mode.DOWNSTREAM:
        scope = flow.descendants(targets) | set(real_targets)
        for name in flow.order:
            if name in scope and name not in cut and not project.datasets[name].is_source:
                reasons[name] = ["requested" if name in targets else "downstream of a target"]
                forced.add(name)
        for name in list(reasons):
            for inp in flow.upstream[name]:
                if inp not in reasons:
                    require(inp, name)

    # Group datasets into recipe jobs; siblings of a built output are rebuilt with it.
    by_recipe: dict[str, dict[str, tuple[str, ...]]] = {}
    for name in flow.order:
        if name not in reasons:
            continue
        recipe_id = project.datasets[name].recipe
        assert recipe_id is not None
        outs = by_recipe.setdefault(recipe_id, {})
        outs[name] = tuple(reasons[name])
        for sibling in project.recipes[recipe_id].outputs:
            if sibling not in reasons and sibling not in outs:
                outs[sibling] = (f"written together with {name}",)
    producer_of = {o: r for r, outs in by_recipe.items() for o in outs}
    graph = {r: sorted({producer_of[i] for o in outs for i in flow.upstream[o]
                        if i in producer_of and producer_of[i] != r})
             for r, outs in by_recipe.items()}
    order = list(graphlib.TopologicalSorter(graph).static_order())
    restorable_set = set(restorable)
    reusable = reusable or {}
    jobs = []
    for r in order:
        outs = by_recipe[r]
        ordered = tuple(o for o in project.recipes[r].outputs if o in outs)
        can_restore = not (forced & set(ordered)) and all(
            o in restorable_set or o in reusable for o in ordered)
        reused = {o: reusable[o] for o in ordered if o not in restorable_set} \
            if can_restore else {}
        jobs.append(Job(r, ordered, {o: outs[o] for o in ordered},
                        Action.RESTORE if can_restore else Action.RUN, tuple(graph[r]), reused))
    up_to_date = tuple(t for t in targets if t not in reasons and t not in cut)
    for t in targets:
        if project.datasets[t].is_source and mode is not Mode.DOWNSTREAM:
            notes.append(f"{t} is a source: weir reads it but never builds it")
    # A restore reads no source, but publishes what was made from it: it waits for the
    # source's checks too.
    read = {i for j in jobs for i in project.recipes[j.recipe].input_names}
    checks = tuple(SourceCheck(n, statuses[n].checks) for n in flow.order
                   if n in read and statuses[n].checks and project.datasets[n].is_source)
    return BuildPlan(tuple(jobs), tuple(targets), up_to_date, tuple(notes), blocked, checks)


def cut_off(flow: Flow, unavailable: Collection[str]) -> set[str]:
    """What cannot be built while ``unavailable`` cannot be used: those datasets, everything
    downstream of them, and the sibling outputs of their recipes (a recipe writes all its
    outputs or none) with everything downstream of those."""
    project = flow.project
    cut: set[str] = set()
    todo = [n for n in unavailable if n in project.datasets]
    while todo:
        name = todo.pop()
        if name in cut:
            continue
        cut.add(name)
        todo.extend(flow.downstream[name])
        recipe = project.datasets[name].recipe
        if recipe is not None:
            todo.extend(project.recipes[recipe].outputs)
    return cut


def stale(statuses: Mapping[str, Status]) -> list[str]:
    return [n for n, s in statuses.items() if s.state in (State.STALE, State.NEVER_BUILT,
                                                          State.FAILED)]
