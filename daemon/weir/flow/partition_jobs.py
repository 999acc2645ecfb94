"""A build plan over partitions: a job per recipe and partition — a pure function.

Used in place of `weir.flow.plan.plan_build` when a build reaches a partitioned dataset. The
partitions asked for (``--partition``; without it, every partition of a partitioned target)
are worked out back through the Flow by `weir.flow.partition_plan.plan_partitions`; of the
partitions needed, those run that are not up to date (or, with ``--force``, all of them; with
``--only``, just the targets'), each a job of its own that waits for the jobs making the input
partitions it reads — so the days of a backfill run side by side. An unpartitioned dataset
in the same build is a job as in any plan (key None).
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection, Mapping

from weir.errors import PlanError
from weir.flow.graph import Flow
from weir.flow.partition_plan import Key, plan_partitions
from weir.flow.partition_status import Partitions
from weir.flow.plan import BuildPlan, Job, SourceCheck, cut_off
from weir.flow.status import Status
from weir.model.partitions import EQUALS, PartitionError, expand_request
from weir.wire import Action, Mode, job_id


def reaches_partitions(flow: Flow, targets: Collection[str], mode: Mode) -> bool:
    """Does a build of ``targets`` read or write a partitioned dataset?"""
    scope = set(targets) | (flow.descendants(targets) if mode is Mode.DOWNSTREAM
                            else flow.ancestors(targets))
    return any(flow.project.datasets[n].partitioning is not None for n in scope)


def requested(flow: Flow, parts: Partitions, targets: Collection[str], text: str
              ) -> dict[str, list[Key]]:
    """The partitions asked of each target: ``text`` as `--partition` says it (every
    partition the target has, without it); an unpartitioned target is itself (None)."""
    out: dict[str, list[Key]] = {}
    for name in targets:
        ds = flow.project.datasets[name]
        if ds.partitioning is None:
            if text:
                raise PlanError(f"'{name}' is not partitioned: --partition does not apply to it",
                                hint=f"build it without --partition, or name a partitioned "
                                f"dataset ({ds.location.file})")
            out[name] = [None]
            continue
        known = parts.domains.get(name, [])
        if not text:
            out[name] = list(known)
            continue
        try:
            out[name] = list(expand_request(ds.partitioning, text, known))
        except PartitionError as exc:
            raise PlanError(f"--partition {text}: {exc} (for '{name}', partitioned by "
                            f"{ds.partitioning.describe()})",
                            hint="e.g. --partition 2026-12-01, 2026-11-01..2026-11-30, latest,"
                            " or a comma list") from None
    return out


def plan_partitioned(flow: Flow, statuses: Mapping[str, Status], parts: Partitions,
                     targets: Collection[str], mode: Mode, partitions: str = "",
                     restorable: Collection[str] = (), unavailable: Collection[str] = ()
                     ) -> BuildPlan:
    project = flow.project
    if mode in (Mode.MISSING, Mode.DOWNSTREAM):
        raise PlanError(f"--{mode.value} does not build partitioned datasets yet",
                        hint="build them without it (the stale partitions are built), or "
                        "with --force or --only")
    for name in targets:
        if name in flow.invalid:
            raise PlanError(f"'{name}' cannot be built: {flow.invalid[name]}",
                            hint="fix that error first; `weir status` lists every one")
    real = [t for t in targets if not project.datasets[t].is_source]
    requests = requested(flow, parts, real, partitions)
    scope = set(real) | flow.ancestors(real)
    for name in scope:
        if name in flow.invalid:
            raise PlanError(f"'{name}' cannot be built: {flow.invalid[name]}",
                            hint="fix that error first; `weir status` lists every one")
    sources = {n for n in scope if project.datasets[n].is_source}
    for name in sources:
        ds = project.datasets[name]
        if ds.partitioning is None and not statuses[name].data_present:
            consumer = next(iter(flow.downstream[name]), name)
            raise PlanError(f"source '{name}' has no data at {ds.connection}:{ds.path}",
                            hint=f"'{consumer}' reads it; put the data there or fix `path` "
                            f"in {ds.location.file}")
    upstream = {n: tuple(flow.upstream[n]) for n in scope}
    cuts = {n: project.datasets[n].partitioning for n in scope}
    mappings = {(n, i): project.datasets[n].input_mappings.get(i, EQUALS)
                for n in scope for i in upstream[n]}
    known = {n: parts.domains.get(n, []) for n in scope}
    targeted = set(real)

    def up_to_date(name: str, key: Key) -> bool:
        if mode is Mode.FORCE:
            return False
        if mode is Mode.ONLY:
            return name not in targeted
        return statuses[name].up_to_date if key is None else parts.up_to_date(name, key)

    plan = plan_partitions(upstream, cuts, mappings, known, requests, up_to_date, sources)
    if plan.missing:
        source, key, reader, at = plan.missing[0]
        more = len(plan.missing) - 1
        raise PlanError(f"source '{source}' has no partition {key} ({reader} {at} reads it)"
                        + (f", and {more} more partition{'s' if more > 1 else ''} of its "
                           "inputs are missing" if more else ""),
                        hint=f"put its data at {project.datasets[source].path}/{key}/ on connection "
                        f"'{project.datasets[source].connection}', or ask "
                        f"for partitions it has (`weir status {source} --partitions`)")
    if mode is Mode.ONLY:
        for name, key in ((n, k) for n in real for k in requests[n]):
            for inp, keys in plan.reads.get((name, key), {}).items():
                missing = [k for k in keys if not project.datasets[inp].is_source
                           and not _has(statuses, parts, inp, k)]
                if missing:
                    raise PlanError(f"'{name}' reads '{inp}' "
                                    f"{missing[0] or ''}, which has no data".replace("  ", " "),
                                    hint=f"build it first (weir build {inp}) or drop --only")
    cut = cut_off(flow, unavailable)
    # One job per recipe and partition: a recipe writes that partition of all its outputs.
    jobs: dict[str, Job] = {}
    reasons: dict[str, dict[str, tuple[str, ...]]] = {}
    producer: dict[tuple[str, Key], str] = {}
    order = [n for n in flow.order if n in plan.run]
    blocked: list[str] = []
    for name in order:
        recipe_id = project.datasets[name].recipe
        assert recipe_id is not None
        recipe = project.recipes[recipe_id]
        for key in plan.run[name]:
            if name in cut:
                if name not in blocked:
                    blocked.append(name)
                continue
            jid = job_id(recipe_id, key)
            why = _reasons(statuses, parts, name, key, mode, targeted, plan.reads, producer)
            if jid in jobs:
                reasons[jid][name] = why
                producer[(name, key)] = jid
                continue
            reasons[jid] = {name: why}
            read = plan.reads.get((name, key), {})
            after = sorted({producer[(i, k)] for i, ks in read.items() for k in ks
                            if (i, k) in producer})
            action = Action.RESTORE if key is None and mode is not Mode.FORCE and all(
                o in restorable for o in recipe.outputs) else Action.RUN
            jobs[jid] = Job(recipe_id, tuple(recipe.outputs), reasons[jid], action,
                            tuple(after), partition=key,
                            reads={i: tuple(ks) for i, ks in read.items()})
            producer[(name, key)] = jid
    for jid, job in jobs.items():  # a sibling output is built with the one asked for
        first = next(iter(reasons[jid]))
        for out in job.outputs:
            reasons[jid].setdefault(out, (f"written together with {first}",))
    ordered = list(graphlib.TopologicalSorter(
        {j: tuple(job.depends_on) for j, job in jobs.items()}).static_order())
    built = {o for j in jobs.values() for o in j.outputs}
    up = tuple(t for t in targets if t not in built and t not in cut)
    notes = [f"{t} is a source: weir reads it but never builds it"
             for t in targets if project.datasets[t].is_source]
    notes += [f"{t} has no partition to build: ask for some with --partition"
              for t in real if project.datasets[t].partitioning is not None
              and not requests[t]]
    inputs = {i for j in jobs.values() for i in project.recipes[j.recipe].input_names}
    checks = tuple(SourceCheck(n, statuses[n].checks) for n in flow.order
                   if n in inputs and statuses[n].checks and project.datasets[n].is_source)
    return BuildPlan(tuple(jobs[j] for j in ordered), tuple(targets), up, tuple(notes),
                     tuple(blocked), checks)


def _has(statuses: Mapping[str, Status], parts: Partitions, name: str, key: Key) -> bool:
    if key is None:
        return statuses[name].data_present
    status = parts.statuses.get(name, {}).get(key)
    return status is not None and status.state.value not in ("never built",)


def _reasons(statuses: Mapping[str, Status], parts: Partitions, name: str, key: Key,
             mode: Mode, targeted: set[str], reads: Mapping[tuple[str, Key], Mapping[str, list[Key]]],
             producer: Mapping[tuple[str, Key], str]) -> tuple[str, ...]:
    if mode is Mode.FORCE:
        return ("forced",)
    if mode is Mode.ONLY and name in targeted:
        return ("requested",)
    status = statuses[name] if key is None else parts.statuses.get(name, {}).get(key)
    if status is not None and not status.up_to_date:
        return tuple(status.reasons) or (status.state.value,)
    rebuilt = [f"{i} {k}" if k else i for i, ks in reads.get((name, key), {}).items()
               for k in ks if (i, k) in producer]
    return (f"input {rebuilt[0]} is rebuilt",) if rebuilt else ("out of date",)
