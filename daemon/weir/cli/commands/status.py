"""``weir status``: every dataset and whether it is up to date — and if not, why."""

from __future__ import annotations

import argparse

from weir import wire
from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("selectors", nargs="*", metavar="SELECTOR",
                   help="limit to these datasets (names, +x, x+, tag:t, zone:z)")
    p.add_argument("--stale", action="store_true",
                   help="only the datasets that are not up to date (what `build --stale` builds)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    ws = output.open_workspace(args.project)
    snap = ws.snapshot()
    names = ws.resolve_targets(args.selectors) if args.selectors else list(ws.flow.order)
    if args.stale:
        names = [n for n in names if not snap.statuses[n].up_to_date]
    if args.json:
        output.print_json(wire.StatusReport(ws.project.name, tuple(
            wire.DatasetStatus(n, snap.statuses[n].state, snap.statuses[n].reasons,
                               snap.records[n].built_at if n in snap.records else None)
            for n in names)).to_json())
        return 0
    if not names:
        output.out("nothing is stale: every dataset is up to date" if args.stale
                   else "the project has no datasets yet")
        return 0
    width = max((len(n) for n in names), default=10)
    counts: dict[str, int] = {}
    for n in names:
        st = snap.statuses[n]
        counts[st.state.value] = counts.get(st.state.value, 0) + 1
        reason = ", ".join(st.reasons)
        output.out(f"{output.mark(st.state.value)} {n:<{width}}  {st.state.value}"
                   + (output.style(f"  {reason}", "dim") if reason else ""))
    output.out(output.style(", ".join(output.count(v, k) if k == "source" else f"{v:,} {k}"
                                      for k, v in counts.items()), "dim"))
    return 0
