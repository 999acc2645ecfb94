"""Build progress for people: a live view in a terminal (rich), plain lines when piped.

``close(result)`` ends the view with the build's summary; ``close(None)`` ends it without one,
for a build that ended with nothing to count (it could not run, or its daemon stopped
answering)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from weir.build.runner import BuildResult, Outcome
from weir.cli import output
from weir.flow.plan import Action, BuildPlan
from weir.wire import JobStatus


def say_cluster(where: str, workers: int, threads: int) -> None:
    """The line that says a build's recipes run on a cluster (in process and through the
    daemon alike)."""
    output.err(output.style(f"Running recipes on {where} ({workers} worker"
                            f"{'s' if workers != 1 else ''}, {threads} at once)", "dim"))


def make_listener(root: Path, folders: set[str], plan: BuildPlan, quiet: bool,
                  jobs: int) -> Any:
    """``folders``: the outputs that are managed folders (counted in files, not rows)."""
    if quiet:
        return _Quiet()
    view = _View(root, folders)
    if output.is_tty(sys.stdout):
        return _Live(view, plan, jobs)
    return _Plain(view, plan, jobs)


class _View:
    def __init__(self, root: Path, folders: set[str]) -> None:
        self.root = root
        self.folders = folders


class _Quiet:
    def __call__(self, kind: str, outcome: Outcome) -> None:
        pass

    def close(self, result: BuildResult | None) -> None:
        pass


def _header(plan: BuildPlan, jobs: int) -> str:
    runs = sum(1 for j in plan.jobs if j.action is Action.RUN)
    reused = sum(len(j.reused_from) for j in plan.jobs)
    restores = len(plan.jobs) - runs - sum(1 for j in plan.jobs if j.reused_from)
    n = len(plan.outputs)
    blocked = len(plan.blocked)
    if not plan.jobs:
        return (f"{blocked} dataset{'s' if blocked != 1 else ''} cannot be built now; "
                "nothing else to do")
    workers = min(jobs, max(runs + len(plan.checks), 1))
    parts = sum(1 for j in plan.jobs if j.partition is not None)
    n = len(set(plan.outputs)) if parts else n
    what = "job" if parts else "recipe"
    return (f"Building {n} dataset{'s' if n != 1 else ''}"
            + (f" ({parts} partition{'s' if parts != 1 else ''})" if parts else "")
            + f": {runs} {what}{'s' if runs != 1 else ''} to run"
            + (f", {restores} to restore" if restores else "")
            + (f", {reused} to copy from other environments" if reused else "")
            + (f", after the checks of {output.count(len(plan.checks), 'source')}"
               if plan.checks else "")
            + f" ({workers} worker{'s' if workers != 1 else ''})"
            + (f"; {blocked} more cannot be built now" if blocked else ""))


def _label(o: Outcome) -> str:
    """The outputs a job builds, and the partition of them."""
    return ", ".join(o.outputs) + (f" [{o.partition}]" if o.partition else "")


def _finished_lines(ws: _View, o: Outcome) -> list[str]:
    names = _label(o)
    mark = output.mark(o.status.value)
    if o.status.ok:
        folders = {n for n in o.outputs if n in ws.folders}
        counts = []
        if set(o.outputs) - folders:
            counts.append(output.count(sum(v for n, v in o.rows.items() if n not in folders),
                                       "row"))
        if folders:
            counts.append(output.count(sum(v for n, v in o.rows.items() if n in folders),
                                       "file"))
        extra = ", ".join(counts) + (f"  {o.seconds:.2f}s" if o.status in (
            JobStatus.BUILT, JobStatus.CHECKED) else "")
        why = "; ".join(sorted({r for rs in o.reasons.values() for r in rs}))
        return [f"{mark} {names}  {output.style(o.status.value, 'dim')}  {output.style(extra, 'dim')}"
                + (output.style(f"  ({why})", "dim") if why else "")] + [
            "    " + output.style(f"warning: {w}", "yellow") for w in o.warnings]
    if o.status is JobStatus.FAILED:
        lines = [f"{mark} {names}  {output.style('failed', 'red')}"]
        # The traceback ends with the error; an error said apart from it (a recipe that
        # called sys.exit) comes first, with its file:line and hint.
        body = o.traceback or ""
        if o.error and o.error.split("\n")[0].rstrip(": ") not in body:
            body = f"{o.error}\n{body}" if body else o.error
        lines += ["    " + line for line in body.splitlines()]
        if o.log_path:
            lines.append("    " + output.style(f"log: {output.rel(o.log_path, str(ws.root))}",
                                                   "dim"))
        return lines
    return [f"{mark} {names}  {output.style(o.error or o.status.value, 'dim')}"]


def _summary(result: BuildResult) -> str:
    parts = [f"{result.count(s)} {s.value}" for s in (
        JobStatus.CHECKED, JobStatus.BUILT, JobStatus.RESTORED, JobStatus.FAILED,
        JobStatus.SKIPPED, JobStatus.INTERRUPTED) if result.count(s)]
    reused = sum(1 for o in result.outcomes if o.status is JobStatus.RESTORED
                 for name in o.outputs
                 if any(r.startswith("reused from ") for r in o.reasons.get(name, ())))
    if reused:  # of the restored, those copied from another environment
        parts = [p + f" ({reused} reused from other environments)" if p.endswith(" restored")
                 else p for p in parts]
    text = ", ".join(parts) + f" in {result.seconds:.1f}s"
    return output.style(text, "green" if result.ok else "red")


class _Plain:
    def __init__(self, ws: _View, plan: BuildPlan, jobs: int) -> None:
        self.ws = ws
        output.out(_header(plan, jobs))

    def __call__(self, kind: str, outcome: Outcome) -> None:
        if kind == "finish":
            for line in _finished_lines(self.ws, outcome):
                output.out(line)

    def close(self, result: BuildResult | None) -> None:
        if result is not None:
            output.out(_summary(result))


class _Live:
    """Running jobs with spinners below, finished lines scrolling above."""

    def __init__(self, ws: _View, plan: BuildPlan, jobs: int) -> None:
        from rich.console import Console
        from rich.live import Live

        self.ws = ws
        self.console = Console(highlight=False)
        self.running: dict[str, tuple[float, str]] = {}
        self.total = len(plan.jobs) + len(plan.checks)
        self.checks = bool(plan.checks)  # counted with the recipes: "jobs done"
        self.done = 0
        self.console.print(_header(plan, jobs))
        self.live = Live(self._render(), console=self.console, refresh_per_second=8,
                         transient=True, get_renderable=self._render)
        self.live.start()

    def _render(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table

        table = Table.grid(padding=(0, 1))
        now = time.time()
        for _, (t0, label) in list(self.running.items()):
            table.add_row(Spinner("dots", style="blue"), label, f"[dim]{now - t0:.1f}s[/dim]")
        table.add_row("", f"[dim]{self.done}/{self.total} "
                      f"{'jobs' if self.checks else 'recipes'} done[/dim]", "")
        return table

    def __call__(self, kind: str, outcome: Outcome) -> None:
        from rich.text import Text

        if kind == "start":
            self.running[outcome.id] = (time.time(), _label(outcome))
            return
        self.running.pop(outcome.id, None)
        self.done += 1
        for line in _finished_lines(self.ws, outcome):
            self.live.console.print(Text.from_ansi(line))

    def close(self, result: BuildResult | None) -> None:
        from rich.text import Text

        self.live.stop()
        if result is not None:
            self.console.print(Text.from_ansi(_summary(result)))
