"""``weir promote SOURCE TARGET``: move TARGET's branch to SOURCE's head once every dataset of
that commit is built and checked in SOURCE — a fast-forward (``--merge`` for a merge commit),
pushed when the project has a remote, recorded (``--history``). ``--dry-run`` says what TARGET
would get: the Flow's changes, and per dataset whether it is reused, restored or rebuilt."""

from __future__ import annotations

import argparse
import time

from weir import wire
from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", nargs="?", help="the environment promoted from (e.g. dev)")
    p.add_argument("target", nargs="?", help="the environment promoted to (e.g. prod)")
    p.add_argument("--merge", action="store_true",
                   help="make a merge commit when TARGET's branch has commits SOURCE's lacks")
    p.add_argument("--dry-run", "-n", action="store_true",
                   help="change nothing: say what TARGET would get, and per dataset whether "
                   "it would be reused or rebuilt, and why")
    p.add_argument("--no-push", action="store_true", help="do not push TARGET's branch")
    p.add_argument("--history", action="store_true",
                   help="list past promotions (into TARGET, or every environment)")
    p.add_argument("--last", type=int, default=20, metavar="N", help="with --history: how many")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    from weir.errors import WeirError
    from weir.promotion import history, promote
    from weir.workspace import read_config

    root, config = read_config(args.project)
    if args.history:
        done = history(root, config, args.target or args.source, args.last)
        if args.json:
            output.print_json({"promotions": [p.to_json() for p in done]})
        else:
            print_history(done)
        return 0
    if not (args.source and args.target):
        raise WeirError("name the environments: `weir promote SOURCE TARGET`",
                        hint="e.g. `weir promote dev prod`; weir.yaml declares "
                        + (", ".join(config.environments) or "no environments"))
    promotion, fine = promote(root, config, args.source, args.target, merge=args.merge,
                              dry_run=args.dry_run, push=not args.no_push)
    if args.json:
        output.print_json(promotion.to_json())
    elif args.dry_run:
        print_dry_run(promotion, fine)
    else:
        print_promotion(promotion)
    return 0


def print_promotion(p: wire.Promotion) -> None:
    if p.how == "unchanged":
        output.out(f"Nothing to promote: {p.target_branch} already has {p.source_branch}'s "
                   f"head ({p.source_commit[:10]}).")
        return
    how = {"created": "created at", "fast-forward": "fast-forwarded to",
           "merge": "merged with"}[p.how]
    output.out(f"Promoted {p.source} to {p.target}: {p.target_branch} {how} "
               f"{p.source_commit[:10]}" + (f" (merge commit {p.after[:10]})"
                                            if p.how == "merge" and p.after else "")
               + (f", pushed to {p.pushed_to}" if p.pushed_to else "") + ".")
    if p.before:
        output.out(f"  `weir diff {p.before[:10]} {p.after[:10] if p.after else ''}` shows "
                   "what changed in the Flow")
    output.out(output.style(f"  {p.target}'s next build copies what {p.source} built at the same "
                            f"fingerprints: `weir --env {p.target} build --all`, or its "
                            "following daemon deploys it", "dim"))


def print_dry_run(p: wire.Promotion, up_to_date: int) -> None:
    output.out(f"Promoting {p.source} ({p.source_branch} {p.source_commit[:10]}) to {p.target} "
               f"({p.target_branch} {(p.before or 'new branch')[:10]}) would change nothing "
               "yet; this is a dry run.")
    if p.diff is not None:
        from weir.cli.diffs import print_diff

        print_diff(p.diff, f"{p.target_branch}", f"{p.source_branch}")
    counts = {f: sum(1 for d in p.datasets if d.fate is f) for f in wire.Fate}
    output.out(f"In {p.target}: {counts[wire.Fate.REUSE]} to reuse, "
               f"{counts[wire.Fate.RESTORE]} to restore, {counts[wire.Fate.REBUILD]} to "
               f"rebuild, {up_to_date} up to date already.")
    width = max((len(d.name) for d in p.datasets), default=0)
    for d in p.datasets:
        what = (f"from {d.reused_from}" if d.fate is wire.Fate.REUSE else "; ".join(d.why))
        colour = "green" if d.fate is not wire.Fate.REBUILD else "yellow"
        output.out(f"  {output.style(d.fate.value.ljust(7), colour)} {d.name:<{width}}  "
                   f"{output.style(what, 'dim')}")


def print_history(done: list[wire.Promotion]) -> None:
    if not done:
        output.out("No promotion yet (`weir promote SOURCE TARGET`).")
        return
    for p in done:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(p.at))
        output.out(f"{when}  {p.source} → {p.target}  {p.how}  {p.source_commit[:10]}"
                   + (f"  pushed to {p.pushed_to}" if p.pushed_to else "")
                   + (f"  by {p.by}" if p.by else ""))
