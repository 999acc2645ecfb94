"""Running a scenario's steps, in order: `weir scenario run NAME` without a daemon runs them
here (``LocalSteps``); the daemon runs the same function with its own ``Steps``, whose builds go
through its build queue (``weir.server.scenarios``).

A build step is a build like `weir build` (planned, claimed beside other builds, run by a
``Runner`` in workers); a check step runs checks in workers (``weir.build.checking``); a clear
step drops data as `weir clean`; a build step's relative `partition:` (``yesterday``) is
resolved against the run's time — when it was due — in the scenario's time zone; a python step calls ``module:function`` of the project with
the run's context, in a process of its own (``weir.scenarios.calling``); set_variables
changes the variables the rest of the run builds with; a run_scenario step runs another
scenario and waits for it. Each step runs or is skipped by its
`if:`, is tried again up to `retries` times, and a build or python step longer than its
`timeout` fails (a build is cancelled). The run ends with its report files.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from weir import wire
from weir.errors import WeirError
from weir.model.scenarios import ReporterKind, RunIf, Scenario, Step, StepKind
from weir.scenarios import reporters
from weir.workspace import Workspace

SUCCEEDED, FAILED, SKIPPED, CANCELLED = "succeeded", "failed", "skipped", "cancelled"
Say = Callable[[str], None]
Built = tuple[tuple[str, int | None], ...]


class StepFailed(WeirError):
    """A step did not do what it was asked: the run goes on to the steps its `if:` allows.
    ``log``: the excerpt of what failed (a recipe's error and traceback) for the report."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class Steps(Protocol):
    """Where a run's build and check steps run: here (`weir scenario run` without a daemon),
    or through the daemon's build queue and warm workers."""

    def build(self, ws: Workspace, params: Mapping[str, Any], variables: dict[str, Any],
              timeout: float | None, by: str, cancel: threading.Event) -> Built: ...

    def check(self, ws: Workspace, names: list[str],
              variables: dict[str, Any]) -> wire.CheckReport: ...


class LocalSteps:
    """Builds and checks in this process's workers, as `weir build` and `weir check` do."""

    def build(self, ws: Workspace, params: Mapping[str, Any], variables: dict[str, Any],
              timeout: float | None, by: str, cancel: threading.Event) -> Built:
        return _build(with_variables(ws, variables) if variables else ws, params, timeout, by,
                      cancel)

    def check(self, ws: Workspace, names: list[str],
              variables: dict[str, Any]) -> wire.CheckReport:
        from weir.build.checking import check_now

        return check_now(ws, names, ws.snapshot())


def with_variables(ws: Workspace, variables: dict[str, Any]) -> Workspace:
    """The workspace with these variable values (a `set_variables` step): the Flow is
    fingerprinted again, so what depends on a changed variable is out of date for this run."""
    from weir.flow.graph import build_flow

    config = replace(ws.project.config, variables={**ws.project.config.variables, **variables})
    project = replace(ws.project, config=config)
    flow, _ = build_flow(project)
    return Workspace(ws.root, project, flow, [], ws.data_root)


def new_run_id(clock: Callable[[], float] = time.time) -> str:
    # Hundreds of runs can start in one second (every scenario due at the same minute): the
    # random part must not collide among them, or one run's record would replace another's.
    return time.strftime("%Y%m%d-%H%M%S-", time.localtime(clock())) + secrets.token_hex(5)


def unknown_scenario(ws: Workspace, name: str) -> WeirError:
    from weir.model.suggest import did_you_mean

    best = did_you_mean(name, ws.project.scenarios)
    return WeirError(f"no scenario '{name}'" + (f" ({best})" if best else ""),
                     hint="`weir scenario list` lists them; a scenario file with a mistake "
                     "is not one (`weir flow` says the mistake)")


def run_scenario(ws: Workspace, name: str, cause: str = "manual", say: Say = lambda s: None,
                 clock: Callable[[], float] = time.time, calling: tuple[str, ...] = (),
                 steps: Steps | None = None, cancel: threading.Event | None = None,
                 on_event: Callable[[wire.ScenarioEvent], None] | None = None,
                 run_id: str | None = None, started: float | None = None,
                 commit: Callable[[], str | None] | None = None,
                 record: Callable[[wire.ScenarioRunReport], None] | None = None,
                 due: float | None = None) -> wire.ScenarioRunReport:
    """Run the scenario's steps in order; its report, recorded in the state store (and in
    report files, and sent to its reporters). ``cancel`` stops it between steps (and a build
    or python step it is in); ``on_event`` hears each start, line, step and end. The daemon
    passes when it started the run, the commit (it keeps it, rather than asking git for each
    run) and its own state store connection. ``due``: the time the run is for — its
    schedule's, which a late or caught-up run keeps; by default when it started — from which
    a relative `partition:` is resolved."""
    scenario = ws.project.scenarios.get(name)
    if scenario is None:
        raise unknown_scenario(ws, name)
    steps = steps or LocalSteps()
    cancel = cancel or threading.Event()
    run_id = run_id or new_run_id(clock)
    started = clock() if started is None else started
    if commit is None:
        from weir.gitops.head import head_commit

        def commit() -> str | None:
            return head_commit(ws.root)

    def event(kind: wire.ScenarioEventKind, **more: Any) -> None:
        if on_event is not None:
            on_event(wire.ScenarioEvent(kind, name, run_id, cause, **more))

    def tell(line: str) -> None:
        say(line)
        event(wire.ScenarioEventKind.LINE, line=line)

    def run_other(other: str, say_other: Say) -> wire.ScenarioRunReport:
        """A run_scenario step: the other scenario's run, by the same means as this one."""
        return run_scenario(ws, other, f"run by {name}", say_other, clock, (*calling, name),
                            steps, cancel, commit=commit, record=record, due=at)

    at = started if due is None else due
    outcomes: list[wire.StepOutcome] = []
    variables: dict[str, Any] = {}
    event(wire.ScenarioEventKind.START)
    tell(f"scenario {name} ({cause}): {len(scenario.steps)} steps")
    reporters.send(scenario, run_id, "start", None, "", tell)
    for step in scenario.steps:
        failed = any(o.status == FAILED for o in outcomes)
        if cancel.is_set():
            outcome = wire.StepOutcome(step.name, step.kind.value, SKIPPED, message="cancelled")
        elif (step.run_if is RunIf.SUCCESS and failed) or (step.run_if is RunIf.FAILURE
                                                           and not failed):
            outcome = wire.StepOutcome(step.name, step.kind.value, SKIPPED,
                                       message=f"if: {step.run_if.value}")
        else:
            context = {"scenario": name, "run_id": run_id, "cause": cause,
                       "variables": {**ws.project.config.variables, **variables},
                       "steps": [o.to_json() for o in outcomes]}
            outcome = _attempts(ws, at_time(step, scenario, at, tell), variables, context,
                                tell, clock, (*calling, name), steps, cancel, run_other)
        outcomes.append(outcome)
        mark = {SUCCEEDED: "✓", SKIPPED: "–"}.get(outcome.status, "✗")
        tell(f"{mark} {step.name}  {outcome.status}" + (f": {outcome.message}"
                                                       if outcome.message else ""))
        event(wire.ScenarioEventKind.STEP, step=outcome)
    status = (CANCELLED if cancel.is_set() else FAILED
              if any(o.status == FAILED for o in outcomes) else SUCCEEDED)
    report = wire.ScenarioRunReport(name, run_id, cause, status, started, clock(),
                                    commit(), variables, tuple(outcomes))
    written = write_reports(ws.root, scenario, report, ws.state_dir)
    report = replace(report, reports=tuple(written))
    (record or ws.state.record_scenario_run)(report)
    reporters.send(scenario, run_id, "end", report, _markdown(report), tell)
    event(wire.ScenarioEventKind.END, status=status)
    return report


def at_time(step: Step, scenario: Scenario, at: float, say: Say) -> Step:
    """The step with its `partition:` as the run asks `--partition` (``partitions``): a
    relative one resolved against the run's time ``at`` in the scenario's time zone, once
    for all its attempts."""
    spec = step.params.get("partition")
    if spec is None:
        return step
    from zoneinfo import ZoneInfo

    from weir.model.relative_partitions import resolve

    zone = ZoneInfo(scenario.timezone)
    when = dt.datetime.fromtimestamp(at, dt.UTC)
    partitions = resolve(spec, when, zone)
    if spec.relative:
        say(f"  {step.name}: partition {spec.text} = {partitions} (the run's time "
            f"{when.astimezone(zone):%Y-%m-%d %H:%M} {scenario.timezone})")
    return replace(step, params={**step.params, "partitions": partitions})


def _attempts(ws: Workspace, step: Step, variables: dict[str, Any], context: dict[str, Any],
              say: Say, clock: Callable[[], float], calling: tuple[str, ...], steps: Steps,
              cancel: threading.Event, run_other: Callable[[str, Say], wire.ScenarioRunReport]
              ) -> wire.StepOutcome:
    started = clock()
    message = log = ""
    for attempt in range(1, step.retries + 2):
        try:
            built, checks, message = _run_step(ws, step, variables, context, say, calling,
                                               steps, cancel, run_other)
            return wire.StepOutcome(step.name, step.kind.value, SUCCEEDED, started, clock(),
                                    message, attempt, built, checks)
        except WeirError as exc:
            message, log = exc.message, getattr(exc, "log", "")
        except Exception as exc:  # noqa: BLE001 - a bug in a step fails it, not the run
            message = f"{type(exc).__name__}: {exc}"
        if cancel.is_set():
            break
        if attempt <= step.retries:
            say(f"  {step.name}: {message} — trying again ({attempt}/{step.retries})")
    return wire.StepOutcome(step.name, step.kind.value, FAILED, started, clock(), message,
                            attempt, log=log)


def _run_step(ws: Workspace, step: Step, variables: dict[str, Any], context: dict[str, Any],
              say: Say, calling: tuple[str, ...], steps: Steps, cancel: threading.Event,
              run_other: Callable[[str, Say], wire.ScenarioRunReport]
              ) -> tuple[Built, tuple[wire.DatasetChecks, ...], str]:
    p = step.params
    if step.kind is StepKind.BUILD:
        built = steps.build(ws, p, dict(variables), step.timeout,
                            f"scenario {context['scenario']}", cancel)
        return built, (), f"partition {p['partitions']}" if p.get("partitions") else ""
    here = with_variables(ws, variables) if variables else ws
    if step.kind is StepKind.CHECK:
        names = here.resolve_targets(list(p["targets"])) if p["targets"] else list(
            here.flow.order)
        names = [n for n in names if here.project.datasets[n].checks]
        report = steps.check(here, names, dict(variables))
        failed = [f"{d.name}: {c.name}" for d in report.datasets for c in d.checks
                  if not c.passed and c.severity is wire.Severity.ERROR]
        failed += [f"{d.name} not checked ({d.error})" for d in report.datasets if d.error]
        if failed:  # in automation, data that cannot be checked is not good data
            raise StepFailed("checks failed: " + ", ".join(failed))
        return (), report.datasets, f"{sum(len(d.checks) for d in report.datasets)} checks passed"
    if step.kind is StepKind.CLEAR:
        dropped = _clear(here, list(p["targets"]))
        return (), (), f"dropped {', '.join(dropped)}" if dropped else "nothing to drop"
    if step.kind is StepKind.PYTHON:
        from weir.scenarios.calling import call_function

        said = call_function(here.root, p["function"], context, step.timeout, cancel, say)
        if said is False:
            raise StepFailed(f"{p['function']} returned False")
        return (), (), "" if said is None else str(said)
    if step.kind is StepKind.SET_VARIABLES:
        unknown = sorted(set(p["variables"]) - set(ws.project.config.variables))
        if unknown:
            raise StepFailed(f"no variable {', '.join(unknown)} in weir.yaml")
        variables.update(p["variables"])
        return (), (), ", ".join(f"{k}={v!r}" for k, v in p["variables"].items())
    other = p["scenario"]
    if other in calling:
        raise StepFailed(f"scenario {other} is already running in this run")
    sub = run_other(other, lambda s: say("    " + s))
    if not sub.ok:
        raise StepFailed(f"scenario {other} {sub.status} (run {sub.run_id})")
    return (), (), f"run {sub.run_id}"


def failure_log(error: str | None, traceback: str | None) -> str:
    """A failed job's excerpt for a report: its error and the end of its traceback."""
    lines = (traceback or "").strip().splitlines()[-12:]
    return "\n".join(([error] if error and (not lines or error not in lines[-1]) else []) + lines)


def _build(ws: Workspace, p: Mapping[str, Any], timeout: float | None, command: str,
           cancel: threading.Event) -> Built:
    """A build as `weir build` does it here: planned, claimed beside other builds, run."""
    from weir.build.claims import Claims, Holder, claim_plan
    from weir.build.runner import Runner, plan_writes
    from weir.wire import Mode

    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        cancel.set()

    def make_plan() -> tuple[Any, frozenset[str]]:
        snap = ws.snapshot()
        targets = ws.resolve_targets(list(p["targets"]), p["all"], p["stale"], snap)
        plan = ws.plan(targets, Mode(p["mode"]), snap, p.get("partitions", ""))
        return (plan, snap), plan_writes(ws, plan)

    claimed = claim_plan(Claims(ws.state_dir), Holder(os.getpid(), None, command), make_plan,
                         lambda held: None, cancel.is_set)
    if claimed is None:
        raise StepFailed("the build was cancelled while it waited for another one")
    (plan, snap), claim = claimed
    timer = threading.Timer(timeout, stop) if timeout else None
    with claim:
        if not plan.jobs and not plan.blocked:
            return ()
        if timer is not None:
            timer.start()
        try:
            result = Runner(ws, plan, snap, os.cpu_count() or 1, command=command, trigger=command,
                            cancel=cancel).run()
        finally:
            if timer is not None:
                timer.cancel()
    built = tuple((n, o.rows.get(n)) for o in result.outcomes if o.status.ok
                  for n in o.outputs)
    if timed_out.is_set():
        cancel.clear()  # the step's time ran out, not the run's
        raise StepFailed(f"the build took longer than its timeout ({timeout:g}s): cancelled")
    if not result.ok:
        bad = [o for o in result.outcomes if not o.status.ok]
        failed = [n for o in bad for n in o.outputs]
        log = "\n\n".join(f"{o.recipe}:\n{failure_log(o.error, o.traceback)}" for o in bad
                           if o.error or o.traceback)
        raise StepFailed(f"the build failed: {', '.join(failed)} (weir logs NAME)", log)
    return built


def _clear(ws: Workspace, selectors: list[str]) -> list[str]:
    dropped = []
    for n in ws.resolve_targets(selectors):
        ds = ws.project.datasets[n]
        if ds.is_source:
            raise StepFailed(f"'{n}' is a source: weir never drops one")
        with ws.backends.using(ds.connection) as backend:
            if backend.exists(ds.path, ds.format):
                backend.drop(ds.path, ds.format)
                dropped.append(n)
    return dropped


def write_reports(root: Path, scenario: Scenario, report: wire.ScenarioRunReport,
                  state_dir: Path) -> list[str]:
    """The run's report files, for each `report:` reporter whose `on` matches, under the
    environment's state directory (``Workspace.state_dir``)."""
    written: list[str] = []
    for r in scenario.reporters:
        if r.kind is not ReporterKind.REPORT or not reporters.due(r, "end", report.status):
            continue
        base = state_dir / "reports" / scenario.name
        base.mkdir(parents=True, exist_ok=True)
        for fmt in r.params["formats"]:
            ext = {"markdown": "md", "html": "html", "json": "json"}[fmt]
            path = base / f"{report.run_id}.{ext}"
            text = (json.dumps(report.to_json(), indent=2) if fmt == "json"
                    else _markdown(report) if fmt == "markdown" else _html(report))
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            written.append(path.relative_to(root).as_posix())
    return written


def _when(t: float | None) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") if t else ""


def _markdown(r: wire.ScenarioRunReport) -> str:
    lines = [f"# Scenario {r.scenario}: {r.status}", "",
             f"Run {r.run_id} ({r.cause}), {_when(r.started)} – {_when(r.finished)}, "
             f"{r.finished - r.started:.1f}s" + (f", commit {r.commit[:12]}" if r.commit else ""),
             "", "| step | outcome | seconds | |", "|---|---|---|---|"]
    for s in r.steps:
        secs = f"{s.finished - s.started:.2f}" if s.started and s.finished else ""
        lines.append(f"| {s.name} | {s.status} | {secs} | {s.message.replace('|', '/')} |")
    built = [(n, rows) for s in r.steps for n, rows in s.built]
    if built:
        lines += ["", "## Built", ""] + [f"- {n}: {rows if rows is not None else '?'} rows"
                                         for n, rows in built]
    checks = [(d.name, c) for s in r.steps for d in s.checks for c in d.checks]
    if checks:
        lines += ["", "## Checks", ""] + [
            f"- {n} {c.name}: {'passed' if c.passed else c.severity.value + ' failed'}"
            + (f" ({c.message})" if c.message else "") for n, c in checks]
    for s in r.steps:
        if s.log:
            lines += ["", f"## {s.name}: what failed", "", "```", s.log, "```"]
    return "\n".join(lines) + "\n"


def _html(r: wire.ScenarioRunReport) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(s.name)}</td><td class='{s.status}'>{s.status}</td>"
        f"<td>{html.escape(s.message)}</td></tr>" for s in r.steps)
    return (f"<!doctype html><meta charset='utf-8'><title>{html.escape(r.scenario)} "
            f"{r.run_id}</title><style>body{{font-family:sans-serif}}.failed{{color:#b00}}"
            f".succeeded{{color:#070}}td{{padding:2px 8px}}</style>"
            f"<h1>Scenario {html.escape(r.scenario)}: {r.status}</h1>"
            f"<p>Run {r.run_id} ({html.escape(r.cause)}), {_when(r.started)} – "
            f"{_when(r.finished)}</p><table><tr><th>step</th><th>outcome</th><th></th></tr>"
            f"{rows}</table>" + "".join(
                f"<h2>{html.escape(s.name)}: what failed</h2><pre>{html.escape(s.log)}</pre>"
                for s in r.steps if s.log))
