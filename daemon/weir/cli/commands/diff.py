"""``weir diff [REF] [REF2]``: what changed in the Flow — datasets and recipes added, removed or
modified (code, definition, variables), and what downstream goes stale with them — between
REF (default HEAD) and the work tree, or between two commits."""

from __future__ import annotations

import argparse

from weir.cli import output
from weir.cli.diffs import print_diff

def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", nargs="?", default="HEAD", metavar="REF",
                   help="the revision to compare from (a sha, branch or tag; default HEAD)")
    p.add_argument("head", nargs="?", metavar="REF2",
                   help="the revision to compare to (default: the work tree)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from weir.gitops.tree import open_repo
    from weir.revisions import at_commit, diff, in_work_tree
    from weir.workspace import machine_connections_file, parse_cache

    ws = output.open_workspace(args.project)
    machine = machine_connections_file()
    cache = parse_cache(ws.root)
    with open_repo(ws.root, "weir diff") as repo:
        base = at_commit(repo, ws.root, args.base, ws.environment, machine, cache)
        head = (at_commit(repo, ws.root, args.head, ws.environment, machine, cache)
                if args.head else in_work_tree(ws))
    cache.save()
    changes = diff(base, head, ws.environment)
    if args.json:
        output.print_json(changes.to_json())
        return 0
    print_diff(changes, base.title, head.title)
    return 0
