"""What `weir build`, `weir plan` and a build through the daemon share: the target and mode
arguments, planning a build in this process, and printing a plan. (Commands never import each
other: what two of them need lives here.)"""

from __future__ import annotations

import argparse
from typing import Any

from weir import wire
from weir.cli import output
from weir.flow.plan import Action, BuildPlan, Job, Mode

MODES = [("only", "build only the targets (Dataiku: build only this dataset)"),
         ("force", "rebuild the targets and all their upstream, up to date or not"),
         ("missing", "build upstream datasets that have no data, then the targets"),
         ("downstream", "rebuild everything that depends on the targets")]


def add_selection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("selectors", nargs="*", metavar="TARGET",
                   help="datasets to build: a name, +x (x and upstream), x+ (x and "
                   "downstream), tag:t, zone:z")
    p.add_argument("--all", action="store_true", dest="all_", help="every dataset")
    p.add_argument("--stale", action="store_true", help="every dataset that is not up to date")
    p.add_argument("--changed-since", metavar="REF",
                   help="the datasets whose code, definition or variables changed since the "
                   "git revision REF, and their downstream (see `weir diff REF`)")
    group = p.add_mutually_exclusive_group()
    for name, text in MODES:
        group.add_argument(f"--{name}", action="store_const", dest="mode", const=Mode(name),
                           help=text)
    p.set_defaults(mode=Mode.REQUIRED)
    p.add_argument("--partition", "-p", default="", metavar="PARTITIONS", action=PartitionSpec,
                   help="the partitions of partitioned targets to build: 2026-12-01, a range "
                   "2026-11-01..2026-11-30, latest, a value, or a comma list (default: all)")


class PartitionSpec(argparse.Action):
    """``--partition``, refused when it names nothing: an empty one (a script's unset
    ``$DAY``) must not mean every partition — for `weir clean`, the whole dataset. (An action,
    not a ``type``: argparse would run a type on the empty default too.)"""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if not str(values).replace(",", "").strip():
            parser.error(f"argument {option_string}: {values!r} names no partition: give a day "
                         "(2026-12-01), a range (2026-11-01..2026-11-30), latest, a value, or "
                         "a comma list of them")
        setattr(namespace, self.dest, values)


def add_changed_since(args: argparse.Namespace) -> tuple[Any, str | None]:
    """Turn ``--changed-since REF`` into the datasets it names, added to the selectors (so a
    build through the daemon asks for them by name). When no recipe output changed since REF,
    the sentence saying so (there is nothing to build). With the workspace it opened for
    that, if it did (`prepare` takes it, so the project is read once)."""
    if not getattr(args, "changed_since", None):
        return None, None
    from weir.revisions import changed_since

    ws = output.open_workspace(args.project)
    changes = changed_since(ws, args.changed_since)
    names = [n for n in changes.to_build() if not ws.project.datasets[n].is_source]
    if not names:
        sources = [n for n in changes.to_build() if ws.project.datasets[n].is_source]
        return ws, (f"Nothing to build: no recipe output changed since {args.changed_since}"
                + (f" (sources {_names(tuple(sources))} did; weir reads them, never builds "
                   "them)" if sources else "") + ".")
    args.selectors = list(args.selectors) + names
    return ws, None


def prepare(args: argparse.Namespace, ws: Any = None) -> tuple[Any, BuildPlan, Any]:
    ws = ws or output.open_workspace(args.project)
    snapshot = ws.snapshot()
    targets = ws.resolve_targets(args.selectors, args.all_, args.stale, snapshot)
    return ws, ws.plan(targets, args.mode, snapshot, args.partition), snapshot


def print_plan(plan: BuildPlan) -> None:
    for note in plan.notes:
        output.out(output.style(note, "dim"))
    if not plan.jobs:
        if plan.blocked:  # the notes said why; whatever else was asked for is up to date
            if plan.up_to_date:
                output.out(f"Nothing else to do: {_names(plan.up_to_date)} "
                           f"{'is' if len(plan.up_to_date) == 1 else 'are'} up to date.")
        elif plan.targets:
            output.out(f"Nothing to do: {_names(plan.up_to_date)} "
                       f"{'is' if len(plan.up_to_date) == 1 else 'are'} up to date.")
        else:
            output.out("Nothing to do: every dataset is up to date.")
        return
    def label(job: Job, name: str) -> str:
        return name + (f" [{job.partition}]" if job.partition else "")

    width = max(len(x) for x in (*(label(j, o) for j in plan.jobs for o in j.outputs),
                                 *(c.source for c in plan.checks)))
    runs = sum(1 for j in plan.jobs if j.action is Action.RUN)
    reused: dict[str, int] = {}
    for j in plan.jobs:
        for env in j.reused_from.values():
            reused[env] = reused.get(env, 0) + 1
    restores = sum(len(j.outputs) - len(j.reused_from) for j in plan.jobs
                   if j.action is Action.RESTORE)
    parts = sum(1 for j in plan.jobs if j.partition is not None)
    n = len(set(plan.outputs))
    output.out(f"{n} dataset{'s' if n != 1 else ''} to build"
               + (f" ({parts} partition{'s' if parts != 1 else ''})" if parts else "")
               + f": {runs} {'job' if parts else 'recipe'}{'s' if runs != 1 else ''} to run"
               + (f", {restores} to restore from earlier builds" if restores else "")
               + "".join(f", {n} to reuse from {env}" for env, n in reused.items())
               + (f", after the checks of {output.count(len(plan.checks), 'source')}"
                  if plan.checks else ""))
    for check in plan.checks:  # first: what reads these sources waits for their checks
        output.out(f"  {output.style('check'.ljust(7), 'cyan')} {check.source:<{width}}  "
                   f"{output.style(', '.join(check.reasons), 'dim')}")
    for job in plan.jobs:
        for o in job.outputs:
            verb = ("reuse" if o in job.reused_from else "restore") \
                if job.action is Action.RESTORE else "run"
            why = ", ".join(job.reasons[o]) + (f"; copied from {job.reused_from[o]}"
                                               if o in job.reused_from else "")
            output.out(f"  {output.style(verb.ljust(7), 'cyan')} {label(job, o):<{width}}  "
                       f"{output.style(why, 'dim')}")


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def build_report(result: Any) -> wire.BuildReport:
    """`weir build --json`, from a build's result (in this process or through the daemon)."""
    return wire.BuildReport(result.ok, result.run_id or None, result.seconds, result.interrupted,
                            tuple(wire.DatasetOutcome(
                                name, o.recipe, wire.JobStatus(o.status), o.rows.get(name),
                                o.seconds, tuple(o.reasons.get(name, ())), o.error, o.traceback,
                                o.log_path, o.partition)
                                for o in result.outcomes for name in o.outputs))
