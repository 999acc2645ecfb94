"""``weir plan``: what a build would do and why, without doing it (same arguments as build)."""

from __future__ import annotations

import argparse

from weir.cli import output
from weir.flow.plan import Action, BuildPlan


def add_parser(p: argparse.ArgumentParser) -> None:
    from weir.cli.commands.build import add_selection_args

    add_selection_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from weir.cli.commands.build import prepare

    ws, plan, _ = prepare(args)
    if args.json:
        output.print_json(plan_json(plan))
    else:
        print_plan(plan)
    return 0


def plan_json(plan: BuildPlan) -> dict[str, object]:
    return {"targets": list(plan.targets), "up_to_date": list(plan.up_to_date),
            "jobs": [{"recipe": j.recipe, "action": j.action.value, "outputs": list(j.outputs),
                      "reasons": {o: list(r) for o, r in j.reasons.items()},
                      "after": list(j.depends_on)} for j in plan.jobs],
            "notes": list(plan.notes), "blocked": list(plan.blocked)}


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
    width = max(len(o) for j in plan.jobs for o in j.outputs)
    runs = sum(1 for j in plan.jobs if j.action is Action.RUN)
    restores = len(plan.jobs) - runs
    output.out(f"{len(plan.outputs)} dataset{'s' if len(plan.outputs) != 1 else ''} to build: "
               f"{runs} recipe{'s' if runs != 1 else ''} to run"
               + (f", {restores} to restore from earlier builds" if restores else ""))
    for job in plan.jobs:
        verb = "restore" if job.action is Action.RESTORE else "run"
        for o in job.outputs:
            why = ", ".join(job.reasons[o])
            output.out(f"  {output.style(verb.ljust(7), 'cyan')} {o:<{width}}  "
                       f"{output.style(why, 'dim')}")


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
