"""``weir build``: build outputs. weir works out which upstream items are out of date and runs
exactly those recipes, in parallel, with a live view (rich) in a terminal and plain lines
otherwise."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from weir.cli import output
from weir.errors import WeirError
from weir.flow.plan import BuildPlan, Mode

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
    group = p.add_mutually_exclusive_group()
    for name, text in MODES:
        group.add_argument(f"--{name}", action="store_const", dest="mode", const=Mode(name),
                           help=text)
    p.set_defaults(mode=Mode.REQUIRED)


def add_parser(p: argparse.ArgumentParser) -> None:
    add_selection_args(p)
    p.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                   help="recipes run at once (default: the number of cores)")
    p.add_argument("--fail-fast", action="store_true",
                   help="stop everything at the first failure (default: finish independent "
                   "branches)")
    p.add_argument("--dry-run", "-n", action="store_true", help="print the plan, run nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-daemon", action="store_true",
                   help="build in this process even if the project's daemon runs")


def prepare(args: argparse.Namespace) -> tuple[Any, BuildPlan, Any]:
    ws = output.open_workspace(args.project)
    snapshot = ws.snapshot()
    targets = ws.resolve_targets(args.selectors, args.all_, args.stale, snapshot)
    return ws, ws.plan(targets, args.mode, snapshot), snapshot


def run(args: argparse.Namespace) -> int:
    from weir.cli.commands.plan import plan_json, print_plan

    if args.jobs < 1:
        raise WeirError("--jobs must be at least 1")
    if not (args.selectors or args.all_ or args.stale):
        from weir.workspace import nothing_to_build

        raise nothing_to_build()  # said the same with or without a daemon
    if not args.dry_run and not args.no_daemon:
        from weir.cli.remote import daemon_client

        client = daemon_client(args.project)
        if client is not None:
            from weir.cli.remote import build_through_daemon

            return build_through_daemon(client, args)
    ws, plan, snapshot = prepare(args)
    if args.dry_run:
        output.print_json(plan_json(plan)) if args.json else print_plan(plan)
        return 0
    if not plan.jobs and not plan.blocked:
        if args.json:
            output.print_json({"ok": True, "run_id": None, "datasets": [], "seconds": 0.0})
        else:
            print_plan(plan)
        return 0
    from weir.build.lock import build_lock
    from weir.build.runner import Runner
    from weir.cli.progress import make_listener

    folders = {n for n, d in ws.project.datasets.items() if d.is_folder}
    listener = make_listener(ws.root, folders, plan, quiet=args.json, jobs=args.jobs)
    with build_lock(ws.state_dir):
        runner = Runner(ws, plan, snapshot, args.jobs, args.fail_fast, listener,
                        command=" ".join(sys.argv[1:]) or "build")
        result = runner.run()
    listener.close(result)
    if args.json:
        output.print_json(result_json(result))
    if result.interrupted:
        return 130
    return 0 if result.ok else 1


def result_json(result: Any) -> dict[str, Any]:
    return {"ok": result.ok, "run_id": result.run_id, "seconds": round(result.seconds, 3),
            "interrupted": result.interrupted,
            "datasets": [{"name": name, "recipe": o.recipe, "status": o.status,
                          "rows": o.rows.get(name), "seconds": round(o.seconds, 3),
                          "reasons": list(o.reasons.get(name, ())), "error": o.error,
                          "traceback": o.traceback, "log": o.log_path}
                         for o in result.outcomes for name in o.outputs]}
