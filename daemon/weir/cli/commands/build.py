"""``weir build``: build outputs. weir works out which upstream items are out of date and runs
exactly those recipes, in parallel, with a live view (rich) in a terminal and plain lines
otherwise."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from weir import wire
from weir.cli import output, plans
from weir.errors import WeirError
from weir.model.executor_settings import Executor

def add_parser(p: argparse.ArgumentParser) -> None:
    plans.add_selection_args(p)
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="recipes run at once (default: the number of cores, or on a Dask "
                   "cluster its workers' threads)")
    p.add_argument("--executor", metavar="WHERE", default=None,
                   help="where recipes run: `local` (this machine) or a Dask scheduler, "
                   "`dask://HOST:PORT` (default: weir.yaml's `executor:`, else local)")
    p.add_argument("--fail-fast", action="store_true",
                   help="stop everything at the first failure (default: finish independent "
                   "branches)")
    p.add_argument("--dry-run", "-n", action="store_true", help="print the plan, run nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-daemon", action="store_true",
                   help="build in this process even if the project's daemon runs")


def run(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise WeirError("--jobs must be at least 1")
    flag = None
    if args.executor:  # (what reads it is imported only then: most builds never need it)
        from weir.build.dask_pool import executor_flag

        flag = executor_flag(args.executor)
    opened, unchanged = plans.add_changed_since(args)
    if unchanged:
        if args.json:
            output.print_json(wire.BuildReport(True, None, 0.0, False, ()).to_json())
        else:
            output.out(unchanged)
        return 0
    if not (args.selectors or args.all_ or args.stale):
        from weir.workspace import nothing_to_build

        raise nothing_to_build()  # said the same with or without a daemon
    if not args.dry_run and not args.no_daemon:
        from weir.cli.remote import daemon_client

        client = daemon_client(args.project)
        if client is not None:
            from weir.cli.remote import build_through_daemon

            return build_through_daemon(client, args)
    if not args.dry_run and (flag is None or flag.is_local):
        from weir.build.pool import prestart

        prestart()  # warms up while the Flow is read
    ws, plan, snapshot = plans.prepare(args, opened)
    executor = flag or ws.project.config.executor
    if args.dry_run:
        output.print_json(plan.to_wire().to_json()) if args.json else plans.print_plan(plan)
        return 0
    if not plan.jobs and not plan.blocked:
        if args.json:
            output.print_json(wire.BuildReport(True, None, 0.0, False, ()).to_json())
        else:
            plans.print_plan(plan)
        return 0
    cluster = open_cluster(ws, plan, executor, quiet=args.json)
    try:
        return _build(args, ws, plan, snapshot, cluster)
    finally:
        if cluster is not None:
            cluster.close()


def open_cluster(ws: Any, plan: Any, executor: Executor, quiet: bool) -> Any:
    """The Dask cluster the build's recipes run on (None: this machine). Its storage is
    checked first, so a build that cannot run there says so with or without a cluster up."""
    from weir.build.cluster_storage import needs_workers, refuse_unreachable

    if executor.is_local or not needs_workers(plan):
        return None
    from weir.build.dask_pool import connect

    refuse_unreachable(ws.project, plan, executor)
    cluster = connect(executor)
    if not quiet:
        from weir.cli.progress import say_cluster

        say_cluster(executor.describe(), cluster.workers, cluster.threads)
    return cluster


def _build(args: argparse.Namespace, ws: Any, plan: Any, snapshot: Any, cluster: Any) -> int:
    from weir.build.claims import Claims, Holder, claim_plan, waits
    from weir.build.runner import Runner, plan_writes
    from weir.cli.progress import make_listener

    jobs = args.jobs or (cluster.threads if cluster is not None else os.cpu_count() or 1)

    command = " ".join(sys.argv[1:]) or "build"
    first = [(plan, snapshot)]

    def make_plan() -> tuple[tuple[Any, Any], frozenset[str]]:
        """The plan made above, then (after a wait, and under the claim) planned again
        against the data as it is now."""
        if first:
            planned = first.pop()
        else:
            now = ws.snapshot()
            targets = ws.resolve_targets(args.selectors, args.all_, args.stale, now)
            planned = (ws.plan(targets, args.mode, now, args.partition), now)
        return planned, plan_writes(ws, planned[0])

    def on_wait(held: dict[str, Any]) -> None:
        for wait in waits(held):
            said = wait.describe()
            output.err(output.style(said[0].upper() + said[1:] + "…", "dim"))

    claimed = claim_plan(Claims(ws.state_dir), Holder(os.getpid(), None, command), make_plan,
                         on_wait, lambda: False, ws.state.version, snapshot.state_version)
    assert claimed is not None  # it waits until Ctrl-C
    (plan, snapshot), claim = claimed
    with claim:
        if not plan.jobs and not plan.blocked:  # what it waited for built all it needed
            if args.json:
                output.print_json(wire.BuildReport(True, None, 0.0, False, ()).to_json())
            else:
                plans.print_plan(plan)
            return 0
        folders = {n for n, d in ws.project.datasets.items() if d.is_folder}
        listener = make_listener(ws.root, folders, plan, quiet=args.json, jobs=jobs)
        runner = Runner(ws, plan, snapshot, jobs, args.fail_fast, listener,
                        command=command, cluster=cluster)
        result = runner.run()
    listener.close(result)
    if args.json:
        output.print_json(plans.build_report(result).to_json())
    if result.interrupted:
        return 130
    if result.setup_missing:
        return 2  # R or PySpark recipes could not run on this machine: what to install was said
    return 0 if result.ok else 1
