"""``weir scenario list``: the project's scenarios (``scenarios/<name>.yaml``), what starts
each, its steps, and when its schedule next starts it.

Running scenarios (the daemon on their triggers, ``weir scenario run``) is still to come
(issue 14); what is here reads the files as the daemon will, and says their mistakes."""

from __future__ import annotations

import argparse
import time

from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    subs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = subs.add_parser("list", help="every scenario: its triggers, steps and next run")
    listing.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
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
