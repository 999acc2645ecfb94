"""``weir metrics x``: a dataset's metrics over its builds — its rows, and per column nulls,
min, max, distinct values and mean — as every build measured them (``weir.build.metrics``)."""

from __future__ import annotations

import argparse
import time

from weir import wire
from weir.cli import output

def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset")
    p.add_argument("--last", type=int, default=20, metavar="N", help="builds shown (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    return "" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    ws = output.open_for_history(args)
    name = args.dataset
    history = ws.state.metrics_history(name, args.last)
    if args.json:
        output.print_json(wire.MetricsHistory(name, tuple(history)).to_json())
        return 0
    if not history:
        output.out(f"{name} has no metrics yet: every build measures what it writes "
                   f"(`weir build {name}`)")
        return 0
    rows = [m.rows for m in reversed(history)]
    output.out(output.style(name, "bold") + f" — {output.count(len(history), 'build')}, rows "
               f"{output.trend([float(r) for r in rows])}")
    for m in history:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(m.at or 0))
        output.out(f"  {when}  {output.count(m.rows, 'row')}")
    last = history[0]
    if last.columns:
        output.out("  columns at the last build:")
        header = ("column", "nulls", "min", "max", "distinct", "mean")
        table = [header] + [(c.name, str(c.nulls), _cell(c.min), _cell(c.max), _cell(c.distinct),
                             _cell(c.mean)) for c in last.columns]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for r in table:
            output.out("    " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True))
                       .rstrip())
    return 0
