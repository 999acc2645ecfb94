"""``weir check``: run datasets' checks on the data they hold now, without building anything.

The same checks a build runs on its staged output (``weir.build.audit``), here on the live
data, where it lies (a PostgreSQL table in PostgreSQL, a Parquet file scanned, not loaded):
to audit a source before building from it, or after a check was added. What they say
is recorded like a build's (``weir show`` has the last results); a failed `error` check exits
1."""

from __future__ import annotations

import argparse
import functools
import secrets
import time
from typing import Any

from weir import wire
from weir.cli import output
from weir.errors import WeirError


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("selectors", nargs="*", metavar="SELECTOR",
                   help="these datasets (names, +x, x+, tag:t, zone:z); default: every dataset "
                   "with checks")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from weir.build.audit import run_checks
    from weir.build.scans import stored_scan

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
    run_id = time.strftime("check-%Y%m%d-%H%M%S-") + secrets.token_hex(3)

    def read(name: str) -> Any:
        ds = ws.project.datasets[name]
        with ws.backends.using(ds.connection) as backend:
            return backend.read(ds.path, ds.format,
                                list(ds.schema) if ds.schema and ds.is_source else None)

    report: list[wire.DatasetChecks] = []
    for name in names:
        ds = ws.project.datasets[name]
        # On the same connection, a relationship's other side is joined where it lies.
        same_place = {n: d.path for n, d in ws.project.datasets.items()
                      if d.connection == ds.connection}
        try:
            with ws.backends.using(ds.connection) as backend:
                if not backend.exists(ds.path, ds.format):
                    read(name)  # says how it is missing, as a read would
                with stored_scan(backend, name, ds.path, ds.format, functools.partial(read, name),
                                 same_place) as scan:
                    results = tuple(run_checks(name, scan, ds.checks, ds.schema, read,
                                               str(ws.root)))
        except WeirError as exc:
            report.append(wire.DatasetChecks(name, error=exc.message))
            continue
        ws.state.record_checks(run_id, name, results)
        report.append(wire.DatasetChecks(name, results))
    ok = all(c.passed or c.severity is wire.Severity.WARNING for d in report for c in d.checks)
    if args.json:
        output.print_json(wire.CheckReport(ok, tuple(report)).to_json())
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
    checked = sum(len(d.checks) for d in report)
    output.out(", ".join(x for x in (output.count(checked, "check") + " run",
                                     f"{failed} failed" if failed else "",
                                     output.count(warned, "warning") if warned else "",
                                     f"{sum(1 for d in report if d.error)} not checked"
                                     if any(d.error for d in report) else "") if x))
    return 0 if ok else 1
