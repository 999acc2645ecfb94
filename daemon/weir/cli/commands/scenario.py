"""``weir scenario list|run``: the project's scenarios (``scenarios/<name>.yaml``) — what
starts each, its steps, when its schedule next starts it — and running one now, here.

The daemon running them on their triggers is still to come (issue 14)."""

from __future__ import annotations

import argparse
import time

from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    subs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = subs.add_parser("list", help="every scenario: its triggers, steps and next run")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    running = subs.add_parser("run", help="run a scenario now, here, step by step")
    running.add_argument("name", help="the scenario (scenarios/NAME.yaml)")
    running.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    if args.action == "run":
        return run_now(args)
    from weir.scenarios.timing import summaries

    ws = output.open_workspace(args.project)
    listed = summaries(ws.project.scenarios, time.time())
    if args.json:
        output.print_json({"scenarios": [s.to_json() for s in listed]})
        return 0
    if not listed:
        output.out("no scenarios yet: add scenarios/<name>.yaml (docs/project-format.md)")
        return 0
    for s in listed:
        when = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(s.next_run)) \
            if s.next_run is not None else "not scheduled"
        output.out(f"{output.style(s.name, 'bold')}  next: {when}  ({s.file})")
        for t in s.triggers:
            output.out(f"    on   {t}")
        for i, step in enumerate(s.steps, 1):
            output.out(f"    {i:>2}.  {step}")
    return 0


def run_now(args: argparse.Namespace) -> int:
    """`weir scenario run NAME`: its steps, in this process, with each step said as it ends;
    exit 1 when one failed."""
    from weir.scenarios.run import run_scenario

    ws = output.open_workspace(args.project)
    report = run_scenario(ws, args.name, "weir scenario run",
                          (lambda s: None) if args.json else output.out)
    if args.json:
        output.print_json(report.to_json())
    else:
        said = f"scenario {report.scenario} {report.status} in " \
            f"{report.finished - report.started:.1f}s"
        output.out(said + (f"; report: {', '.join(report.reports)}" if report.reports else ""))
    return 0 if report.ok else 1
