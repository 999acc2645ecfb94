"""``weir environments``: weir.yaml's environments, read from weir.yaml alone (no Flow), so an
editor can offer them in a picker at once."""

from __future__ import annotations

import argparse

from weir import wire
from weir.cli import output
from weir.errors import WeirError
from weir.model.suggest import did_you_mean


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from weir.workspace import read_config

    _, config = read_config(args.project)
    active = wire.active_environment()
    if active is not None and active not in config.environments:
        raise WeirError(f"unknown environment '{active}'",
                        hint=did_you_mean(active, config.environments)
                        or f"weir.yaml declares {', '.join(config.environments) or 'none'}")
    rows = [wire.EnvironmentInfo(e.name, e.branch, e.description, sorted(e.connections or {}),
                                 sorted(e.variables or {}), e.name == active,
                                 f"weir.yaml:{e.line}",
                                 e.executor.written if e.executor is not None else None)
            for e in config.environments.values()]
    if args.json:
        output.print_json({"environments": [r.to_json() for r in rows], "active": active})
        return 0
    if not rows:
        output.out("weir.yaml declares no environments (see docs/project-format.md, "
                   "\"Environments\")")
        return 0
    for r in rows:
        mark = output.style(" (active)", "bold") if r.active else ""
        output.out(f"{r.name:<12} {'branch ' + r.branch if r.branch else 'no branch'}{mark}")
        changes = [f"connections: {', '.join(r.connections)}"] if r.connections else []
        changes += [f"variables: {', '.join(r.variables)}"] if r.variables else []
        changes += [f"recipes on {r.executor}"] if r.executor else []
        output.out(output.style(f"{'':<12} {' · '.join(changes) or 'changes nothing'} · "
                                f"{r.defined_in}" + (f" · {r.description}" if r.description
                                                     else ""), "dim"))
    return 0
