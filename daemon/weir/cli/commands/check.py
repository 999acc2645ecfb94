"""``weir check``: run datasets' checks on the data they hold now, without building anything.

The same checks a build runs on its staged output (``weir.build.audit``), here on the live
data, in workers (``weir.build.checking``), where it lies (a PostgreSQL table in PostgreSQL, a
Parquet file scanned, not loaded): to audit a source before building from it, or after a check
was added. While the project's daemon runs, its warm workers run them (``POST /api/checks``). What they say
is recorded like a build's (``weir show`` has the last results); a failed `error` check exits
1."""

from __future__ import annotations

import argparse

from weir import wire
from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("selectors", nargs="*", metavar="SELECTOR",
                   help="these datasets (names, +x, x+, tag:t, zone:z); default: every dataset "
                   "with checks")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--no-daemon", action="store_true",
                   help="run the checks from this process even if the project's daemon runs "
                   "(in workers either way: no data is loaded into the daemon or the CLI)")


def run(args: argparse.Namespace) -> int:
    ws = output.open_workspace(args.project)
    names = ws.resolve_targets(args.selectors) if args.selectors else list(ws.flow.order)
    names = [n for n in names if ws.project.datasets[n].checks]
    if not names:
        if args.json:
            output.print_json(wire.CheckReport(True, ()).to_json())
        else:
            output.out("no dataset " + ("of those " if args.selectors else "")
                       + "has checks (add `checks:` to its YAML: docs/project-format.md)")
        return 0
    checked: wire.CheckReport | None = None
    if not args.no_daemon:
        from weir.client import DaemonClient, DaemonNotRunning

        client = DaemonClient.running(ws.root)
        try:
            checked = client.check(names) if client is not None else None
        except DaemonNotRunning:
            checked = None  # it stopped just now: checked here
    if checked is None:
        from weir.build.checking import check_now

        checked = check_now(ws, names, ws.snapshot())
    report, ok = list(checked.datasets), checked.ok
    if args.json:
        output.print_json(checked.to_json())
        return 0 if ok else 1
    for d in report:
        if d.error is not None:
            output.out(f"{output.mark('skipped')} {d.name}  {output.style('not checked', 'dim')}"
                       f": {d.error}")
            continue
        for c in d.checks:
            state = "built" if c.passed else ("failed" if c.severity is wire.Severity.ERROR
                                              else "warning")
            said = {"built": "passed", "failed": "failed", "warning": "warning"}[state]
            output.out(f"{output.mark(state)} {d.name}  {c.name}  {said}"
                       + (f": {c.message}" if c.message else ""))
            if not c.passed:
                for e in c.examples:
                    output.out("    " + ", ".join(f"{k}={v!r}" for k, v in e.items()))
    failed = sum(1 for d in report for c in d.checks
                 if not c.passed and c.severity is wire.Severity.ERROR)
    warned = sum(1 for d in report for c in d.checks
                 if not c.passed and c.severity is wire.Severity.WARNING)
    ran = sum(len(d.checks) for d in report)
    output.out(", ".join(x for x in (output.count(ran, "check") + " run",
                                     f"{failed} failed" if failed else "",
                                     output.count(warned, "warning") if warned else "",
                                     f"{sum(1 for d in report if d.error)} not checked"
                                     if any(d.error for d in report) else "") if x))
    return 0 if ok else 1
