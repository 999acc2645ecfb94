"""``weir state check|repair``: is ``.weir/state.db`` sound, and if not, make it again from the
data and the kept outputs (the damaged file is moved aside, never deleted)."""

from __future__ import annotations

import argparse
import os

from weir.cli import output
from weir.errors import WeirError


def add_parser(p: argparse.ArgumentParser) -> None:
    subs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    subs.add_parser("check", help="read every page of the state store and say if it is sound")
    subs.add_parser("repair", help="move a damaged state store aside and record again every "
                    "dataset whose data is a kept output of its current code")


def run(args: argparse.Namespace) -> int:
    from weir.build.recovery import check_state
    from weir.build.state import display_path
    from weir.workspace import active_environment, project_root, state_dir_for

    if args.action == "check":
        path = state_dir_for(project_root(args.project), active_environment()) / "state.db"
        problem = check_state(path)
        if problem is not None:
            raise problem
        output.out(f"{display_path(path)} is sound" if path.exists()
                   else f"{display_path(path)} does not exist yet: nothing has been built")
        return 0
    return _repair(args)


def _repair(args: argparse.Namespace) -> int:
    from weir.build.claims import Claims, Holder, not_claimed_error
    from weir.build.recovery import repair_state
    from weir.client import DaemonClient

    ws = output.open_workspace(args.project)  # the Flow says what each dataset should hold
    if DaemonClient.running(ws.root) is not None:
        raise WeirError("the project's daemon is running: it may be using the state store",
                        hint="stop it with `weir daemon stop`, repair, then start it again")
    # Nothing may write meanwhile: every dataset is claimed for the repair.
    claim, held = Claims(ws.state_dir).try_claim(ws.project.datasets, Holder(os.getpid(), None,
                                                                            "state repair"))
    if claim is None:
        raise not_claimed_error(held)
    with claim:
        repaired = repair_state(ws)
    if repaired is None:
        output.out("The state store is sound: nothing to repair.")
        return 0
    for path in repaired.moved:
        output.out(f"moved aside: {output.rel(str(path), str(ws.root))} (nothing was deleted)")
    output.out(f"kept outputs found again: {repaired.kept}")
    lines = [("up to date again", repaired.recorded),
             ("to restore from a kept output", repaired.to_restore),
             ("to build", repaired.to_run)]
    for label, names in lines:
        if names:
            output.out(f"{output.mark('up to date' if label.startswith('up') else 'stale')} "
                       f"{label}: {', '.join(names)}")
    if repaired.to_restore or repaired.to_run:
        output.out(output.style("`weir build --all` restores and builds the rest", "dim"))
    return 0
