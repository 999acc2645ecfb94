"""Running a scenario's steps, in order, in this process: `weir scenario run NAME` without a
daemon (the daemon's scheduler will start the same runs on their triggers).

A build step is a build like `weir build` (planned, claimed beside other builds, run by a
``Runner`` in workers); a check step runs checks in workers (``weir.build.checking``); a clear
step drops data as `weir clean`; a python step calls ``module:function`` of the project with
the run's context; set_variables changes the variables the rest of the run builds with; a
run_scenario step runs another scenario and waits for it. Each step runs or is skipped by its
`if:`, is tried again up to `retries` times, and a build or python step longer than its
`timeout` fails (a build is cancelled). The run ends with its report files.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from weir import wire
from weir.errors import WeirError
from weir.model.scenarios import ReporterKind, RunIf, Scenario, Step, StepKind
from weir.scenarios import reporters
from weir.workspace import Workspace

SUCCEEDED, FAILED, SKIPPED = "succeeded", "failed", "skipped"
Say = Callable[[str], None]


class StepFailed(WeirError):
    """A step did not do what it was asked: the run goes on to the steps its `if:` allows."""


def with_variables(ws: Workspace, variables: dict[str, Any]) -> Workspace:
    """The workspace with these variable values (a `set_variables` step): the Flow is
    fingerprinted again, so what depends on a changed variable is out of date for this run."""
    from weir.flow.graph import build_flow

    config = replace(ws.project.config, variables={**ws.project.config.variables, **variables})
    project = replace(ws.project, config=config)
    flow, _ = build_flow(project)
    return Workspace(ws.root, project, flow, [])


def run_scenario(ws: Workspace, name: str, cause: str = "manual", say: Say = lambda s: None,
                 clock: Callable[[], float] = time.time,
                 calling: tuple[str, ...] = ()) -> wire.ScenarioRunReport:
    scenario = ws.project.scenarios.get(name)
    if scenario is None:
        from weir.model.suggest import did_you_mean

        best = did_you_mean(name, ws.project.scenarios)
        raise WeirError(f"no scenario '{name}'" + (f" ({best})" if best else ""),
                        hint="`weir scenario list` lists them; a scenario file with a mistake "
                        "is not one (`weir flow` says the mistake)")
    run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    started = clock()
    from weir.gitops.head import head_commit

    outcomes: list[wire.StepOutcome] = []
    variables: dict[str, Any] = {}
    say(f"scenario {name} ({cause}): {len(scenario.steps)} steps")
    reporters.send(scenario, run_id, "start", None, "", say)
    for step in scenario.steps:
        failed = any(o.status == FAILED for o in outcomes)
        if (step.run_if is RunIf.SUCCESS and failed) or (step.run_if is RunIf.FAILURE
                                                         and not failed):
            outcomes.append(wire.StepOutcome(step.name, step.kind.value, SKIPPED,
                                             message=f"if: {step.run_if.value}"))
            say(f"– {step.name}  skipped (if: {step.run_if.value})")
            continue
        context = {"scenario": name, "run_id": run_id, "cause": cause,
                   "variables": {**ws.project.config.variables, **variables},
                   "steps": [o.to_json() for o in outcomes]}
        outcome = _attempts(ws, scenario, step, variables, context, say, clock,
                            (*calling, name))
        outcomes.append(outcome)
        mark = "✓" if outcome.status == SUCCEEDED else "✗"
        say(f"{mark} {step.name}  {outcome.status}" + (f": {outcome.message}"
                                                      if outcome.message else ""))
    status = FAILED if any(o.status == FAILED for o in outcomes) else SUCCEEDED
    report = wire.ScenarioRunReport(name, run_id, cause, status, started, clock(),
                                    head_commit(ws.root), variables, tuple(outcomes))
    written = write_reports(ws.root, scenario, report)
    report = replace(report, reports=tuple(written))
    ws.state.record_scenario_run(report)
    reporters.send(scenario, run_id, "end", report, _markdown(report), say)
    return report


def _attempts(ws: Workspace, scenario: Scenario, step: Step, variables: dict[str, Any],
              context: dict[str, Any], say: Say, clock: Callable[[], float],
              calling: tuple[str, ...]) -> wire.StepOutcome:
    started = clock()
    message = ""
    built: tuple[tuple[str, int | None], ...] = ()
    checks: tuple[wire.DatasetChecks, ...] = ()
    for attempt in range(1, step.retries + 2):
        try:
            built, checks, message = _run_step(ws, step, variables, context, say, clock,
                                               calling)
            return wire.StepOutcome(step.name, step.kind.value, SUCCEEDED, started, clock(),
                                    message, attempt, built, checks)
        except WeirError as exc:
            message = exc.message
            if attempt <= step.retries:
                say(f"  {step.name}: {message} — trying again ({attempt}/{step.retries})")
        except Exception as exc:  # noqa: BLE001 - a python step's function may raise anything
            message = f"{type(exc).__name__}: {exc}"
            if attempt <= step.retries:
                say(f"  {step.name}: {message} — trying again ({attempt}/{step.retries})")
    return wire.StepOutcome(step.name, step.kind.value, FAILED, started, clock(), message,
                            step.retries + 1, built, checks)


def _run_step(ws: Workspace, step: Step, variables: dict[str, Any], context: dict[str, Any],
              say: Say, clock: Callable[[], float], calling: tuple[str, ...]
              ) -> tuple[tuple[tuple[str, int | None], ...], tuple[wire.DatasetChecks, ...], str]:
    p = step.params
    here = with_variables(ws, variables) if variables else ws
    if step.kind is StepKind.BUILD:
        return _build(here, p, step.timeout, f"scenario {context['scenario']}"), (), ""
    if step.kind is StepKind.CHECK:
        from weir.build.checking import check_now

        names = here.resolve_targets(list(p["targets"])) if p["targets"] else list(
            here.flow.order)
        names = [n for n in names if here.project.datasets[n].checks]
        report = check_now(here, names, here.snapshot())
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
        said = _call(here.root, p["function"], context, step.timeout)
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
    sub = run_scenario(ws, other, f"run by {context['scenario']}", lambda s: say("    " + s),
                       clock, calling)
    if not sub.ok:
        raise StepFailed(f"scenario {other} failed (run {sub.run_id})")
    return (), (), f"run {sub.run_id}"


def _build(ws: Workspace, p: dict[str, Any] | Any, timeout: float | None,
           command: str) -> tuple[tuple[str, int | None], ...]:
    """A build as `weir build` does it here: planned, claimed beside other builds, run."""
    from weir.build.claims import Claims, Holder, claim_plan
    from weir.build.runner import Runner, plan_writes
    from weir.wire import Mode

    cancel = threading.Event()

    def make_plan() -> tuple[Any, frozenset[str]]:
        snap = ws.snapshot()
        targets = ws.resolve_targets(list(p["targets"]), p["all"], p["stale"], snap)
        plan = ws.plan(targets, Mode(p["mode"]), snap)
        return (plan, snap), plan_writes(ws, plan)

    claimed = claim_plan(Claims(ws.state_dir), Holder(os.getpid(), None, command), make_plan,
                         lambda held: None, cancel.is_set)
    if claimed is None:
        raise StepFailed("the build was cancelled while it waited for another one")
    (plan, snap), claim = claimed
    timer = threading.Timer(timeout, cancel.set) if timeout else None
    with claim:
        if not plan.jobs and not plan.blocked:
            return ()
        if timer is not None:
            timer.start()
        try:
            result = Runner(ws, plan, snap, os.cpu_count() or 1, command=command,
                            cancel=cancel).run()
        finally:
            if timer is not None:
                timer.cancel()
    built = tuple((n, o.rows.get(n)) for o in result.outcomes if o.status.ok
                  for n in o.outputs)
    if cancel.is_set():
        raise StepFailed(f"the build took longer than its timeout ({timeout:g}s): cancelled")
    if not result.ok:
        failed = [n for o in result.outcomes if not o.status.ok for n in o.outputs]
        raise StepFailed(f"the build failed: {', '.join(failed)} (weir logs NAME)")
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


def _call(root: Path, function: str, context: dict[str, Any], timeout: float | None) -> Any:
    """The project's ``module:function``, called with the run's context; a thread so a
    timeout can fail the step (the function itself cannot be stopped from outside)."""
    module_name, _, name = function.partition(":")
    for where in (str(root), str(root / "recipes")):
        if where not in sys.path:
            sys.path.insert(0, where)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StepFailed(f"cannot import {module_name}: {exc}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise StepFailed(f"{module_name} has no function '{name}'")
    got: list[Any] = []
    error: list[BaseException] = []

    def call() -> None:
        try:
            got.append(fn(context))
        except BaseException as exc:  # noqa: BLE001 - said as the step's failure
            error.append(exc)

    thread = threading.Thread(target=call, name=f"weir-step-{name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise StepFailed(f"{function} took longer than its timeout ({timeout:g}s)")
    if error:
        raise error[0]
    if got and got[0] is False:
        raise StepFailed(f"{function} returned False")
    return got[0] if got else None


def write_reports(root: Path, scenario: Scenario, report: wire.ScenarioRunReport) -> list[str]:
    """The run's report files, for each `report:` reporter whose `on` matches."""
    written: list[str] = []
    for r in scenario.reporters:
        if r.kind is not ReporterKind.REPORT or not reporters.due(r, "end", report.status):
            continue
        base = root / ".weir" / "reports" / scenario.name
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
            f"{rows}</table>")
