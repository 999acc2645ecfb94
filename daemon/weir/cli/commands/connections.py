"""``weir connections list|test``: what storage the project can reach, without showing secrets."""

from __future__ import annotations

import argparse
from typing import Any

from weir import wire
from weir.cli import output
from weir.errors import WeirError
from weir.model.suggest import did_you_mean

SHOWN = ("root", "bucket", "prefix", "endpoint_url", "region", "host", "port", "database",
         "user", "schema", "path", "max_concurrent_jobs")


def add_parser(p: argparse.ArgumentParser) -> None:
    subs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = subs.add_parser("list", help="every connection, where it points, which file set it")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    test = subs.add_parser("test", help="connect and say what is wrong, if anything")
    test.add_argument("names", nargs="*", metavar="NAME", help="connections to test (default: "
                      "all)")
    test.add_argument("--json", action="store_true", help="machine-readable output")


def _describe(params: dict[str, Any]) -> dict[str, Any]:
    """Settings safe to show: secret-bearing keys are reduced to where they come from."""
    shown = {k: v for k, v in params.items() if k in SHOWN}
    for key in ("password", "secret_access_key", "session_token", "access_key_id"):
        value = params.get(key)
        if value is not None:
            text = str(value)
            shown[key] = text if text.startswith("${") and text.endswith("}") else "(set)"
    return shown


def run(args: argparse.Namespace) -> int:
    from weir.storage.base import ConnectionProblem
    from weir.storage.secrets import MissingSecret
    ws = output.open_workspace(args.project)
    conns = ws.project.connections
    if args.action == "list":
        rows = [wire.ConnectionInfo(c.name, c.type, str(c.location), _describe(dict(c.params)),
                                    sum(1 for d in ws.project.datasets.values()
                                        if d.connection == c.name)) for c in conns.values()]
        if args.json:
            output.print_json([r.to_json() for r in rows])
            return 0
        for r in rows:
            settings = ", ".join(f"{k}={v}" for k, v in r.settings.items())
            output.out(f"{r.name:<12} {r.type:<11} {settings}")
            output.out(output.style(f"{'':<12} {output.count(r.datasets, 'dataset')} · "
                                    f"{r.defined_in}", "dim"))
        return 0
    names = args.names or list(conns)
    for n in names:
        if n not in conns:
            raise WeirError(f"unknown connection '{n}'", hint=did_you_mean(n, conns)
                            or f"connections: {', '.join(conns)}")
    results: list[wire.ConnectionCheck] = []
    for n in names:
        try:
            results.append(wire.ConnectionCheck(n, True, ws.backends[n].check()))
        except (ConnectionProblem, MissingSecret) as exc:
            results.append(wire.ConnectionCheck(n, False, exc.message, exc.hint))
    if args.json:
        output.print_json([c.to_json() for c in results])
    else:
        for check in results:
            output.out(f"{output.mark('up to date' if check.ok else 'failed')} {check.name}: "
                       f"{check.message}")
            if check.hint:
                output.out(f"  {output.style('hint', 'cyan')}: {check.hint}")
    return 0 if all(c.ok for c in results) else 1
