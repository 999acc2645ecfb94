"""``weir logs x``: the log of the last build of dataset x (its recipe's output and traceback;
for a source, of the last build that ran its checks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from weir.cli import output
from weir.errors import WeirError
from weir.model.suggest import did_you_mean


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help="the dataset whose last build log to print")
    p.add_argument("--path", action="store_true", help="print the log file's path only")


def run(args: argparse.Namespace) -> int:
    ws = output.open_workspace(args.project)
    if args.dataset not in ws.project.datasets:
        raise WeirError(f"unknown dataset '{args.dataset}'",
                        hint=did_you_mean(args.dataset, ws.project.datasets))
    ds = ws.project.datasets[args.dataset]
    path, status = ws.state.last_log(args.dataset)
    if ds.is_source and (path is None or not Path(path).exists()):
        # A source's log is that of the last build that ran its checks.
        raise WeirError(f"'{args.dataset}' is a source: no recipe builds it, so it has no logs"
                        + (", and no build has run its checks yet" if ds.checks else ""))
    if path is None or not Path(path).exists():
        raise WeirError(f"'{args.dataset}' has no build log yet",
                        hint=f"build it: weir build {args.dataset}")
    if args.path:
        output.out(path)
        return 0
    output.err(output.style(f"# {output.rel(path, str(ws.root))} ({status})", "dim"))
    output.out(Path(path).read_text(encoding="utf-8", errors="replace").rstrip())
    return 0
