"""``weir init DIR``: a new project from the example, as a git repository with a first commit."""

from __future__ import annotations

import argparse
from pathlib import Path

from weir.cli import output


def add_parser(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", type=Path, help="where to create the project (must be empty or "
                   "not exist)")
    p.add_argument("--no-git", action="store_true", help="do not make it a git repository")


def run(args: argparse.Namespace) -> int:
    from weir.gitops.init import create_project

    target: Path = args.directory
    create_project(target, git=not args.no_git)
    output.out(f"Created a weir project in {target} (the example online shop).")
    output.out("Next:")
    output.out(f"  cd {target}")
    output.out("  weir flow              # see the Flow")
    output.out("  weir build --all       # build every dataset")
    output.out("  weir status            # what is up to date, and why not")
    return 0
