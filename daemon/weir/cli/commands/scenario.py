"""``weir scenario list``: the project's scenarios (``scenarios/<name>.yaml``), what starts
each, its steps, and when its schedule next starts it.

Running scenarios (the daemon on their triggers, ``weir scenario run``) is still to come
(issue 14); what is here reads the files as the daemon will, and says their mistakes."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from weir import wire
from weir.cli import output

if TYPE_CHECKING:
    from weir.workspace import Workspace


def add_parser(p: argparse.ArgumentParser) -> None:
    subs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = subs.add_parser("list", help="every scenario: its triggers, steps and next run")
    listing.add_argument("--json", action="store_true", help="machine-readable output")


def summaries(ws: Workspace, now: float) -> list[wire.ScenarioSummary]:
    from weir.scenarios.timing import next_due

    scenarios = ws.project.scenarios
    return [wire.ScenarioSummary(s.name, s.file, s.description,
                                 tuple(t.describe() for t in s.triggers),
                                 tuple(step.name for step in s.steps), next_due(s, now, now))
            for s in sorted(scenarios.values(), key=lambda s: s.name)]


def run(args: argparse.Namespace) -> int:
    ws = output.open_workspace(args.project)
    listed = summaries(ws, time.time())
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
