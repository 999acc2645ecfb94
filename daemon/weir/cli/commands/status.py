"""``weir status``: every dataset and whether it is up to date — and if not, why.

While the project's daemon runs, the statuses are the daemon's (``GET /api/status``, its kept
snapshot), so the CLI says what the Flow page, the editor and the API say; ``--no-daemon``
(or no daemon) computes them here."""

from __future__ import annotations

import argparse

from weir import wire
from weir.cli import output

UP_TO_DATE = (wire.DatasetState.UP_TO_DATE, wire.DatasetState.SOURCE)


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("selectors", nargs="*", metavar="SELECTOR",
                   help="limit to these datasets (names, +x, x+, tag:t, zone:z)")
    p.add_argument("--stale", action="store_true",
                   help="only the datasets that are not up to date (what `build --stale` builds)")
    p.add_argument("--partitions", action="store_true",
                   help="list each partition of partitioned datasets, with its state and why")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--no-daemon", action="store_true",
                   help="compute the statuses in this process even if the project's daemon "
                   "runs")


def statuses(args: argparse.Namespace) -> tuple[str, list[str], dict[str, wire.DatasetStatus]]:
    """The project's name, the datasets asked for in Flow order, and every status."""
    ws = output.open_workspace(args.project)
    names = ws.resolve_targets(args.selectors) if args.selectors else list(ws.flow.order)
    if not args.no_daemon and not args.partitions:  # the daemon says counts, not each one
        from weir.client import DaemonClient, DaemonNotRunning

        client = DaemonClient.running(ws.root)
        try:
            report = client.statuses() if client is not None else None
        except DaemonNotRunning:
            report = None  # it stopped just now: the statuses are computed here
        if report is not None:
            by_name = {d.name: d for d in report.datasets}
            return report.project, [n for n in names if n in by_name], by_name
    snap = ws.snapshot()
    return ws.project.name, names, {
        n: wire.DatasetStatus(n, snap.statuses[n].state, snap.statuses[n].reasons,
                              snap.records[n].built_at if n in snap.records else None,
                              snap.records[n].row_count if n in snap.records else None,
                              snap.partition_counts(n),
                              snap.partition_list(n) if args.partitions
                              and snap.partition_counts(n) is not None else None)
        for n in ws.flow.order}


def run(args: argparse.Namespace) -> int:
    project, names, by_name = statuses(args)
    if args.stale:
        names = [n for n in names if by_name[n].status not in UP_TO_DATE]
    if args.json:
        output.print_json(wire.StatusReport(project, tuple(by_name[n] for n in names)).to_json())
        return 0
    if not names:
        output.out("nothing is stale: every dataset is up to date" if args.stale
                   else "the project has no datasets yet")
        return 0
    width = max((len(n) for n in names), default=10)
    counts: dict[str, int] = {}
    for n in names:
        st = by_name[n]
        counts[st.status.value] = counts.get(st.status.value, 0) + 1
        reason = ", ".join(st.reasons)
        if not reason and st.partitions:
            total = sum(st.partitions.values())
            reason = f"{total:,} partition{'s' if total != 1 else ''}"
        output.out(f"{output.mark(st.status.value)} {n:<{width}}  {st.status.value}"
                   + (output.style(f"  {reason}", "dim") if reason else ""))
        for part in st.partition_list or ():
            why = ", ".join(part.reasons)
            output.out(f"    {output.mark(part.status.value)} {part.key}  {part.status.value}"
                       + (output.style(f"  {why}", "dim") if why else ""))
    output.out(output.style(", ".join(output.count(v, k) if k == "source" else f"{v:,} {k}"
                                      for k, v in counts.items()), "dim"))
    return 0
