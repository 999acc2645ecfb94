"""``weir log x [--commit REF]``: which builds made which versions of a dataset — with the git
commit each ran at, when, how long, how many rows, in which environment and who started it —
across every environment that has state (or only the one chosen with ``--env``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from weir import wire
from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset")
    p.add_argument("--commit", metavar="REF",
                   help="only the versions built at this commit (a sha, branch or tag)")
    p.add_argument("--last", type=int, default=20, metavar="N",
                   help="versions per environment (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from weir.workspace import versions_everywhere

    ws = output.open_for_history(args)
    name = args.dataset
    commit = _resolve(ws.root, args.commit) if args.commit else None
    versions = versions_everywhere(ws, name, args.last)
    if commit is not None:
        versions = [v for v in versions if v.commit == commit]
    if args.json:
        output.print_json(wire.DatasetLog(name, tuple(versions), commit).to_json())
        return 0 if versions or commit is None else 1
    if not versions:
        output.out(f"no build of {name} at commit {commit[:10]}" if commit else
                   f"{name} has not been built yet (`weir build {name}`)")
        return 1 if commit else 0
    if commit:
        output.out(f"{name} at commit {commit[:10]}:")
    table = [("environment", "built", "status", "took", "rows", "commit", "by", "run")]
    for v in versions:
        table.append((v.environment or "-",
                      time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v.started or 0)),
                      v.status, f"{v.duration:.2f}s" if v.duration is not None else "",
                      f"{v.rows:,}" if v.rows is not None else "",
                      (v.commit[:10] + ("+" if v.dirty else "")) if v.commit else "-",
                      v.trigger, v.run_id))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for i, r in enumerate(table):
        line = "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        output.out(output.style(line, "bold") if i == 0 else line)
    if any(v.dirty for v in versions):
        output.out(output.style("+: the work tree differed from that commit", "dim"))
    return 0


def _resolve(root: Path, ref: str) -> str:
    """REF as a full commit sha, or one clear error."""
    from weir.gitops.tree import open_repo, resolve

    with open_repo(root, "--commit") as repo:
        return resolve(repo, ref)
