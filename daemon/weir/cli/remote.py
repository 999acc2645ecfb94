"""`weir build` through a running daemon: the build runs there beside the daemon's other builds
(saying so when it waits for one that writes what it needs), and the CLI shows the same progress and returns the same exit code as an in-process build — also after
Ctrl-C (the build is cancelled, and its end shown as it happens). If the daemon goes away
mid-build, the CLI says so, and what became of the build, instead of a summary of nothing."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir import wire
from weir.cli import output, plans
from weir.errors import BuildLost, WeirError

if TYPE_CHECKING:
    from weir.build.runner import BuildResult, Outcome
    from weir.client import DaemonClient, DaemonNotRunning


def daemon_client(project: Path | None) -> Any:
    """A client for this project's daemon if one runs and answers, else None."""
    from weir.client import DaemonClient
    from weir.errors import ProjectNotFound
    from weir.workspace import project_root

    try:
        root = project_root(project)
    except ProjectNotFound:
        return None  # building in this process says what is wrong
    return DaemonClient.running(root)


class _Follower:
    """Renders one daemon build from its events, remembering what it needs to say how the
    build ended — or, if the daemon goes away, how far it got."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.listener: Any = None
        self.jobs: dict[str, Any] = {}  # recipe -> planned Job
        self.running: dict[str, tuple[float, Outcome]] = {}
        self.outcomes: list[Outcome] = []
        self.result: wire.BuildEnd | None = None  # the `result` event: how the run went
        self.final: wire.BuildState | None = None  # from the `end` event
        self.end: wire.BuildSummary | None = None
        self.seen = 0  # events handled: where to go on after a Ctrl-C
        self.started = time.monotonic()
        self.banner = ""  # where the build runs, said above its progress when it has work

    def follow(self, events: Iterator[tuple[str, Any]]) -> None:
        for kind, data in events:
            self.seen += 1
            self.handle(kind, data)

    def handle(self, kind: str, data: dict[str, Any]) -> None:
        from weir.build.runner import Outcome
        from weir.cli.progress import make_listener
        from weir.flow.plan import BuildPlan

        args = self.args
        if kind == "plan":
            plan = BuildPlan.from_wire(wire.Plan.from_json(data))
            jobs = plan.jobs
            if not jobs and not plan.blocked:
                if not args.json:
                    plans.print_plan(plan)
                return
            if not args.json:
                self._say_banner()
                if data.get("executor"):
                    from weir.cli.progress import say_cluster

                    say_cluster(f"the Dask cluster at {data['executor']}",
                                int(data.get("workers") or 0), int(data.get("threads") or 0))
            self.jobs = {j.id: j for j in jobs}
            self.started = time.monotonic()
            self.listener = make_listener(Path(data.get("root") or os.getcwd()),
                                          set(data.get("folders", [])), plan, quiet=args.json,
                                          jobs=args.jobs or os.cpu_count() or 1)
        elif kind == "job" and self.listener is not None:
            job = wire.JobReport.from_json(data)
            outcome = Outcome(job.recipe, job.outputs, job.status, job.seconds,
                              dict(job.rows or {}), job.error, job.traceback, job.log_path,
                              dict(job.reasons or {}), job.warnings, job.partition)
            if data["event"] == "start":
                self.running[outcome.id] = (time.monotonic(), outcome)
            else:
                self.running.pop(outcome.id, None)
                self.outcomes.append(outcome)
            self.listener(data["event"], outcome)
        elif kind == "wait":
            if not args.json:
                self._say_banner()
                said = wire.BuildWait.from_json(data).describe()
                output.out(output.style(said[0].upper() + said[1:] + "…", "dim"))
        elif kind == "result":
            self.result = wire.BuildEnd.from_json(data)
        elif kind == "end":
            self.end = wire.BuildSummary.from_json(data)
            self.final = self.end.state

    def _say_banner(self) -> None:
        if self.banner:
            output.out(output.style(self.banner, "dim"))
            self.banner = ""

    def close(self, result: BuildResult | None) -> None:
        if self.listener is not None:
            self.listener.close(result)
        if result is not None and self.args.json:
            output.print_json(plans.build_report(result).to_json())

    def lost(self, build_id: str, gone: DaemonNotRunning) -> BuildLost:
        """End the progress view as far as the build got, and say what became of it."""
        from weir.build.runner import BuildResult, Outcome

        ended = bool(getattr(gone, "ended", False))
        where = f"during build {build_id}" if self.listener is not None \
            else f"before build {build_id} started"
        if not ended:
            self.close(None)  # its recipes may run on: claim nothing about them
            return BuildLost(f"{gone.message} {where}; the build may still be running in it",
                             gone.hint)
        stopped = [o for _, o in self.running.values()]
        if self.listener is not None:
            now = time.monotonic()
            for t0, o in self.running.values():
                outcome = Outcome(o.recipe, o.outputs, wire.JobStatus.INTERRUPTED, now - t0,
                                  error="interrupted (the daemon went away)",
                                  log_path=o.log_path)
                self.outcomes.append(outcome)
                self.listener("finish", outcome)
            done = {o.recipe for o in self.outcomes}
            for recipe, job in self.jobs.items():
                if recipe not in done:
                    outcome = Outcome(recipe, job.outputs, wire.JobStatus.SKIPPED,
                                      error="not started (the daemon went away)")
                    self.outcomes.append(outcome)
                    self.listener("finish", outcome)
            self.close(BuildResult(self.result.run_id or "" if self.result else "",
                                   self.outcomes, True,
                                   now - self.started))
        names = ", ".join(n for o in stopped for n in o.outputs)
        if self.listener is None:
            became = "nothing was built"
        elif not stopped:
            became = "no recipe was running"
        elif len(stopped) == 1 and len(stopped[0].outputs) == 1:
            became = f"it was running {names}, which was stopped and keeps its previous data"
        else:
            became = f"it was running {names}, which were stopped and keep their previous data"
        return BuildLost(f"{gone.message} {where}: {became}",
                         f"`weir daemon start` restarts it (build {build_id} then shows as "
                         "interrupted); then build again, or build without it: "
                         "`weir build --no-daemon …`")


def build_through_daemon(client: DaemonClient, args: argparse.Namespace) -> int:
    from weir.build.runner import BuildResult
    from weir.client import DaemonGone, DaemonNotRunning

    summary = client.start_build(list(args.selectors), args.mode.value, args.all_, args.stale,
                                 args.jobs or 0, args.fail_fast, by="CLI",
                                 partitions=getattr(args, "partition", ""),
                                 executor=args.executor or "")
    build_id = summary.id
    follower = _Follower(args)
    follower.banner = f"Through the project's daemon (pid {client.pid}) as build {build_id}"
    try:
        try:
            follower.follow(client.build_events(build_id))
        except KeyboardInterrupt:
            # As in-process: the build stops, and its end (what was interrupted, skipped,
            # built) is shown as the daemon reports it. A second Ctrl-C stops following.
            output.err("cancelling the build…")
            try:
                client.cancel_build(build_id)
            except DaemonNotRunning:
                pass  # following again says what became of it
            follower.follow(client.build_events(build_id, start=follower.seen))
    except DaemonNotRunning as exc:
        gone = exc if isinstance(exc, DaemonGone) else (client.went_away() or exc)
        if follower.result is None:
            raise follower.lost(build_id, gone) from None
        # it went away after the build was over: the build's result stands
        follower.final = wire.BuildState.CANCELLED if follower.result.cancelled else (
            wire.BuildState.SUCCEEDED if follower.result.ok else wire.BuildState.FAILED)
    if follower.final is wire.BuildState.ERROR:
        follower.close(None)
        error = follower.end.error if follower.end else None
        if error is not None and error.diagnostics:  # a broken project: every error, as here
            from weir.errors import ProjectInvalid

            raise ProjectInvalid(list(error.diagnostics))
        raise WeirError(error.message if error else "the build could not start",
                        error.hint if error else None)
    cancelled = follower.final is wire.BuildState.CANCELLED
    info = follower.result
    follower.close(BuildResult(info.run_id or "" if info else "", follower.outcomes, cancelled,
                               info.seconds if info else 0.0, cancelled))
    if cancelled:
        return 130
    return 0 if follower.final is wire.BuildState.SUCCEEDED else 1
