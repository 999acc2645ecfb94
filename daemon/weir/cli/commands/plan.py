"""``weir plan``: what a build would do and why, without doing it (same arguments as build)."""

from __future__ import annotations

import argparse

from weir.cli import output, plans


def add_parser(p: argparse.ArgumentParser) -> None:
    plans.add_selection_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    ws, plan, _ = plans.prepare(args)
    if args.json:
        output.print_json(plan.to_wire().to_json())
    else:
        plans.print_plan(plan)
    return 0
