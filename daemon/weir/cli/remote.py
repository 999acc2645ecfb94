"""`weir build` through a running daemon: the build joins the daemon's one queue, and the CLI
shows the same progress and returns the same exit code as an in-process build."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from weir.cli import output
from weir.errors import WeirError


def daemon_client(project: Path | None) -> Any:
    """A client for this project's daemon if one runs and answers, else None."""
    from weir.client import DaemonClient
    from weir.model.loader import find_project_root

    root = project.resolve() if project else find_project_root(
        Path(os.environ.get("WEIR_PROJECT") or os.getcwd()))
    return None if root is None else DaemonClient.running(root)


def build_through_daemon(client: Any, args: argparse.Namespace) -> int:
    from weir.build.runner import BuildResult, Outcome
    from weir.cli.commands.build import result_json
    from weir.cli.progress import make_listener
    from weir.flow.plan import Action, BuildPlan, Job

    summary = client.start_build(list(args.selectors), args.mode.value, args.all_, args.stale,
                                 args.jobs, args.fail_fast)
    build_id = summary["id"]
    listener: Any = None
    outcomes: list[Outcome] = []
    final: dict[str, Any] = {}
    result_info: dict[str, Any] = {}
    try:
        for kind, data in client.build_events(build_id):
            if kind == "plan":
                jobs = tuple(Job(j["recipe"], tuple(j["outputs"]),
                                 {o: tuple(r) for o, r in j["reasons"].items()},
                                 Action(j["action"]), tuple(j["after"])) for j in data["jobs"])
                plan = BuildPlan(jobs, tuple(data["targets"]), tuple(data["up_to_date"]),
                                 tuple(data["notes"]), tuple(data.get("blocked", ())))
                if not jobs and not plan.blocked:
                    if not args.json:
                        from weir.cli.commands.plan import print_plan

                        print_plan(plan)
                    continue
                listener = make_listener(Path(data.get("root") or os.getcwd()),
                                         set(data.get("folders", [])), plan, quiet=args.json,
                                         jobs=args.jobs)
            elif kind == "job" and listener is not None:
                outcome = Outcome(data["recipe"], tuple(data["outputs"]), data["status"],
                                  data["seconds"], data["rows"], data["error"],
                                  data["traceback"], data["log_path"],
                                  {o: tuple(r) for o, r in data["reasons"].items()})
                if data["event"] == "finish":
                    outcomes.append(outcome)
                listener(data["event"], outcome)
            elif kind == "result":
                result_info = data
            elif kind == "end":
                final = data
    except KeyboardInterrupt:
        client.cancel_build(build_id)
        output.err("cancelling the build…")
        final = client.wait(build_id)
    if final.get("state") == "error":
        error = final.get("error") or {}
        if error.get("diagnostics"):  # the project is broken: list every error, as without it
            from weir.errors import ProjectInvalid
            from weir.model.diagnostics import Diagnostic

            raise ProjectInvalid([Diagnostic.from_json(d) for d in error["diagnostics"]])
        raise WeirError(error.get("message", "the build could not start"), error.get("hint"))
    result = BuildResult(result_info.get("run_id") or "", outcomes,
                         final.get("state") == "cancelled", result_info.get("seconds", 0.0),
                         final.get("state") == "cancelled")
    if listener is not None:
        listener.close(result)
    if args.json:
        output.print_json(result_json(result))
    if final.get("state") == "cancelled":
        return 130
    return 0 if final.get("state") == "succeeded" else 1
