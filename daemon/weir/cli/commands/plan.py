"""``weir plan``: what a build would do and why, without doing it (same arguments as build)."""

from __future__ import annotations

import argparse

from weir import wire
from weir.cli import output, plans


def add_parser(p: argparse.ArgumentParser) -> None:
    plans.add_selection_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    opened, unchanged = plans.add_changed_since(args)
    if unchanged:
        if args.json:
            output.print_json(wire.Plan((), (), (), (unchanged,)).to_json())
        else:
            output.out(unchanged)
        return 0
    ws, plan, _ = plans.prepare(args, opened)
    if args.json:
        output.print_json(plan.to_wire().to_json())
    else:
        plans.print_plan(plan)
    return 0
